// The outbox entry's format is declared once (SALE_ENTRY_FIELDS): complete.lua writes exactly those fields in that
// order, and the writer's parser refuses an entry without a required one (pure: reads lua/complete.lua).
import fs from 'node:fs';
import path from 'node:path';
import { luaDir } from '../src/redis/scripts';
import { MalformedSale, parseSaleEntry, SALE_ENTRY_FIELDS, type SaleEntryField } from '../src/writer/sale-entry';

/** The arguments of a call starting at `open` (the index of its '('), split at its top-level commas. */
function callArguments(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') depth--;
    if ((c === ',' && depth === 1) || depth === 0) {
      args.push(code.slice(from, i).trim());
      from = i + 1;
    }
    if (depth === 0) return args;
  }
  throw new Error('unclosed call');
}

/** The field names of the one XADD in a script's code: the literals in the odd places after the entry id. */
function xaddFieldNames(source: string): string[] {
  const code = source.replace(/--[^\n]*/g, '');
  const calls = [...code.matchAll(/redis\.call\('XADD'/g)];
  if (calls.length !== 1) throw new Error(`expected one XADD, found ${calls.length}`);
  const [, , id, ...pairs] = callArguments(code, (calls[0]?.index as number) + 'redis.call'.length);
  if (id !== "'*'") throw new Error(`XADD with id ${id}`);
  return pairs
    .filter((_, i) => i % 2 === 0)
    .map((a) => {
      const m = /^'(\w+)'$/.exec(a);
      if (!m) throw new Error(`XADD field name is not a literal: ${a}`);
      return m[1] as string;
    });
}

const complete = fs.readFileSync(path.join(luaDir(), 'complete.lua'), 'utf8');

test('complete.lua appends exactly the declared fields, in the declared order', () => {
  expect(xaddFieldNames(complete)).toEqual(Object.keys(SALE_ENTRY_FIELDS));
});

test('the field reader sees a renamed or dropped field', () => {
  expect(xaddFieldNames(complete.replace("'total', total,", "'sum', total,"))).not.toEqual(Object.keys(SALE_ENTRY_FIELDS));
  expect(xaddFieldNames(complete.replace(", 'ip', tx[3]", ''))).not.toEqual(Object.keys(SALE_ENTRY_FIELDS));
});

const values: Record<SaleEntryField, string> = {
  order_number: 'ABCDEFGHJK',
  transaction_id: 'tx-1',
  performance_id: 'perf-1',
  client: 'web',
  ip: '127.0.0.1',
  completed_at: '1764720000000',
  tickets: JSON.stringify([{ id: 't1', price: 12.5, section: 'A', row: '1', seat: '1', price_level: 'P1' }]),
  total: '12.5',
  customer: JSON.stringify({ email: 'a@example.com' }),
  payment_reference: 'pay-1',
};
const entry = (without?: SaleEntryField) =>
  Object.entries(values).flatMap(([name, value]) => (name === without ? [] : [name, value]));

test('a whole entry parses into the sale', () => {
  expect(parseSaleEntry(entry())).toEqual({
    order_number: 'ABCDEFGHJK',
    transaction_id: 'tx-1',
    performance_id: 'perf-1',
    client: 'web',
    ip: '127.0.0.1',
    completed_at: new Date(1764720000000).toISOString(),
    tickets: [{ id: 't1', price: 12.5, section: 'A', row: '1', seat: '1', price_level: 'P1' }],
    total: 12.5,
    customer: { email: 'a@example.com' },
    payment_reference: 'pay-1',
  });
});

test.each(Object.entries(SALE_ENTRY_FIELDS))('without %s: %s', (name, need) => {
  const parse = () => parseSaleEntry(entry(name as SaleEntryField));
  if (need === 'required') expect(parse).toThrow(new MalformedSale(`sale entry lacks ${name}`));
  else expect(parse).not.toThrow();
});
