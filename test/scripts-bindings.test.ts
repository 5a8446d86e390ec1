// Each Lua script's header and its binding in src/redis/script-bindings.ts name the same KEYS and ARGV in the same
// order, and the script's body uses exactly those (pure: reads lua/*.lua).
import fs from 'node:fs';
import path from 'node:path';
import { layOut, SCRIPT_BINDINGS, type ScriptName } from '../src/redis/script-bindings';
import { luaDir } from '../src/redis/scripts';

interface Header {
  keys: string[];
  args: string[];
  rest: string;
}

/** `-- KEYS[n] name: ...`, `-- ARGV[n] name: ...` and `-- ARGV[n..] name: ...` of a script's leading comment block. */
function readHeader(source: string): Header {
  const header: Header = { keys: [], args: [], rest: '' };
  for (const line of source.split('\n')) {
    if (!line.startsWith('--')) break;
    const m = /^-- (KEYS|ARGV)\[(\d+)(\.\.)?\] (\w+):/.exec(line);
    if (!m) continue;
    const [, kind, index, variadic, name] = m as unknown as [string, 'KEYS' | 'ARGV', string, string | undefined, string];
    const list = kind === 'KEYS' ? header.keys : header.args;
    if (variadic) {
      if (kind === 'KEYS' || Number(index) !== header.args.length + 1) throw new Error(`bad variadic ${line}`);
      header.rest = name;
    } else {
      if (Number(index) !== list.length + 1) throw new Error(`out of order: ${line}`);
      list.push(name);
    }
  }
  return header;
}

/** The KEYS and ARGV indices the script's code (comments left out) uses. */
function usedIndices(source: string, kind: 'KEYS' | 'ARGV'): Set<number> {
  const code = source.replace(/--[^\n]*/g, '');
  return new Set([...code.matchAll(new RegExp(`${kind}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));
}

const names = Object.keys(SCRIPT_BINDINGS) as ScriptName[];
const sourceOf = (name: ScriptName) => fs.readFileSync(path.join(luaDir(), `${name}.lua`), 'utf8');

test.each(names)('%s: the header names the binding\'s KEYS and ARGV, in order', (name) => {
  const b = SCRIPT_BINDINGS[name];
  expect(readHeader(sourceOf(name))).toEqual({ keys: [...b.keys], args: [...b.args], rest: b.rest });
});

test.each(names)('%s: the code uses every declared key, and no KEYS or ARGV beyond the declared ones', (name) => {
  const b = SCRIPT_BINDINGS[name];
  const source = sourceOf(name);
  expect([...usedIndices(source, 'KEYS')].sort((x, y) => x - y)).toEqual(b.keys.map((_, i) => i + 1));
  for (const i of usedIndices(source, 'ARGV')) expect(i).toBeLessThanOrEqual(b.args.length);
  // a variadic tail is read by position after the named arguments (a loop from #args + 1)
  if (b.rest) expect(source).toMatch(new RegExp(`for \\w+ = ${b.args.length + 1}, #ARGV`));
});

test('the header reader finds a disagreement (negative control)', () => {
  const header = readHeader('-- x.lua\n-- KEYS[1] tickets: t\n-- KEYS[2] sold: s\n-- ARGV[1] ticket_id: id\n-- ARGV[2..] more: m\nreturn 1');
  expect(header).toEqual({ keys: ['tickets', 'sold'], args: ['ticket_id'], rest: 'more' });
  expect(header).not.toEqual({ keys: [...SCRIPT_BINDINGS.read_ticket.keys], args: [...SCRIPT_BINDINGS.read_ticket.args], rest: '' });
  expect(() => readHeader('-- KEYS[2] sold: s\n')).toThrow('out of order');
});

test('layOut puts keys, then arguments, then the variadic tail in the binding\'s order, by name', () => {
  const keys = { tickets: 'T', sold: 'S', holds: 'H' };
  expect(layOut('read_ticket', { keys, args: { ticket_id: 'a1' } })).toEqual(['T', 'S', 'H', 'a1']);
  expect(() => layOut('read_ticket', { keys, args: { ticket_id: 'a1' }, rest: ['extra'] })).toThrow('no variadic');
  expect(layOut('raise_counter', { keys: { counter: 'C' }, args: { minimum: 7 } })).toEqual(['C', 7]);
});
