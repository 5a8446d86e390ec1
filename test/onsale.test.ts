// The on-sale harness: a CI-sized on-sale against an embedded tixlock (2,000 buyers for 500 tickets, 1-second
// holds, every way of walking away) must keep every invariant; the invariant checker itself reports each kind of
// violation; the options parse. Behaviour only, never speed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Completion, HeldTicket } from '../tools/onsale/buyer';
import { CHECKS, checkInvariants, type InvariantFacts, type OrderFact, type TicketFact } from '../tools/onsale/invariants';
import { DEFAULTS, parseOptions, UsageError } from '../tools/onsale/options';
import { runOnsale } from '../tools/onsale/onsale';
import type { OnsaleResult } from '../tools/onsale/report';

function capture() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((err += s), true), isTTY: false },
    },
    out: () => out,
    err: () => err,
  };
}

describe('an on-sale against an embedded tixlock', () => {
  let dir: string;
  let code: number;
  let result: OnsaleResult;
  let output: ReturnType<typeof capture>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-onsale-test-'));
    output = capture();
    code = await runOnsale(
      [
        '--tickets', '500',
        '--sections', '3',
        '--seats-per-row', '20',
        '--buyers', '2000',
        '--concurrency', '100',
        '--quantity', '1-4',
        '--hold-seconds', '1',
        '--expire-share', '0.15',
        '--release-share', '0.1',
        '--abandon-share', '0.15',
        '--think-ms', '0-20',
        '--retries', '3',
        '--seed', '7',
        '--json', path.join(dir, 'onsale.json'),
        '--html', path.join(dir, 'onsale.html'),
      ],
      output.io,
    );
    result = JSON.parse(fs.readFileSync(path.join(dir, 'onsale.json'), 'utf8')) as OnsaleResult;
  }, 90_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('every invariant holds and the exit code is 0', () => {
    if (!result.invariants.ok) console.error(output.out());
    expect(result.invariants.violations).toEqual([]);
    expect(result.invariants.ok).toBe(true);
    expect(code).toBe(0);
    expect(output.out()).toMatch(/^invariants: OK/m);
  });

  test('the buyers met conflicts and walked away in every way', () => {
    expect(result.errors).toBe(0);
    expect(result.conflicts.total).toBeGreaterThan(0);
    expect(result.buyers.paid).toBeGreaterThan(0);
    expect(result.buyers.expired).toBeGreaterThan(0);
    expect(result.buyers.released).toBeGreaterThan(0);
    expect(result.buyers.abandoned_checkout).toBeGreaterThan(0);
    expect(Object.values(result.buyers).reduce((a, b) => a + b, 0)).toBe(2000);
    // demand (≈ 2000 × 0.6 × 2.5 tickets) is far above 500: much was sold, and the holds all ended
    expect(result.invariants.stats.sold).toBeGreaterThan(0);
    expect(result.invariants.stats.locked).toBe(0);
    expect(result.invariants.stats.completions).toBe(result.buyers.paid);
  });

  test('the summary, the JSON and the HTML report', () => {
    const endpoints = result.endpoints.map((e) => e.endpoint);
    expect(endpoints).toEqual(
      expect.arrayContaining(['GET /tickets', 'POST /transaction (ids)', 'POST /transaction (best)', 'PUT checkout', 'PUT complete', 'DELETE /transaction']),
    );
    for (const e of result.endpoints) {
      expect(e.p50).toBeLessThanOrEqual(e.p95);
      expect(e.p95).toBeLessThanOrEqual(e.p99);
      expect(e.p99).toBeLessThanOrEqual(e.max);
    }
    expect(result.timeline.length).toBeGreaterThan(0);
    expect(output.out()).toContain('p99 ms');
    expect(output.out()).toContain('conflicts');
    expect(output.err()).toContain('onsale: sold');
    const html = fs.readFileSync(path.join(dir, 'onsale.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).not.toMatch(/<(script|link)\b|src=|href=/); // self-contained
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The checker, as a pure function

/** A consistent small sale: tickets T1..T6 at 1000 each; tx-a bought T1+T2 (order A), tx-b bought T3 (order B),
 * tx-c holds T4, T5 and T6 are available. */
function goodFacts(): InvariantFacts & { orders: Map<string, OrderFact | undefined> } {
  const t = (id: string, state: TicketFact['state'], order?: string, tx?: string): TicketFact => ({
    id,
    state,
    price: 1000,
    ...(order ? { order_number: order, transaction_id: tx } : {}),
    ...(state === 'locked' ? { transaction_id: tx } : {}),
  });
  const held = (...ids: string[]): HeldTicket[] => ids.map((id) => ({ id, price: 1000 }));
  const completions: Completion[] = [
    { transactionId: 'tx-a', orderNumber: 'ORDA', tickets: held('T1', 'T2') },
    { transactionId: 'tx-b', orderNumber: 'ORDB', tickets: held('T3') },
  ];
  const order = (n: string, tx: string, ids: string[]): OrderFact => ({
    order_number: n,
    transaction_id: tx,
    tickets: ids.map((id) => ({ id, price: 1000 })),
    total: ids.length * 1000,
  });
  return {
    expectedTotal: 6,
    counts: { total: 6, sold: 3, locked: 1, available: 2 },
    tickets: [t('T1', 'sold', 'ORDA', 'tx-a'), t('T2', 'sold', 'ORDA', 'tx-a'), t('T3', 'sold', 'ORDB', 'tx-b'), t('T4', 'locked', undefined, 'tx-c'), t('T5', 'available'), t('T6', 'available')],
    holds: new Map([
      ['tx-a', held('T1', 'T2')],
      ['tx-b', held('T3')],
      ['tx-c', held('T4')],
    ]),
    completions,
    orders: new Map([
      ['ORDA', order('ORDA', 'tx-a', ['T1', 'T2'])],
      ['ORDB', order('ORDB', 'tx-b', ['T3'])],
    ]),
  };
}

const checksFailed = (f: InvariantFacts) => checkInvariants(f).violations.map((v) => v.check);
const offending = (f: InvariantFacts, check: string) =>
  [...new Set(checkInvariants(f).violations.filter((v) => v.check === check).flatMap((v) => v.tickets))].sort();

describe('checkInvariants', () => {
  test('consistent facts pass', () => {
    const r = checkInvariants(goodFacts());
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats).toEqual({ tickets: 6, sold: 3, locked: 1, available: 2, completions: 2, orders_found: 2 });
  });

  test('without the orders (no order writer ran), the rest is checked', () => {
    const r = checkInvariants({ ...goodFacts(), orders: undefined });
    expect(r.violations).toEqual([]);
    expect(r.stats).toMatchObject({ completions: 2, orders_found: 0 });
    const f = { ...goodFacts(), orders: undefined };
    f.tickets = f.tickets.map((t) => (t.id === 'T3' ? { ...t, order_number: 'ORDX' } : t));
    expect(offending(f, CHECKS.soldOnce)).toEqual(['T3']);
  });

  test('a ticket sold twice is reported', () => {
    const f = goodFacts();
    // tx-c also completed OK with T3 (already sold in order B); the store has both orders
    f.holds = new Map([...f.holds, ['tx-c', [{ id: 'T3', price: 1000 }]]]);
    f.completions = [...f.completions, { transactionId: 'tx-c', orderNumber: 'ORDC', tickets: [{ id: 'T3', price: 1000 }] }];
    f.orders = new Map([...f.orders, ['ORDC', { order_number: 'ORDC', transaction_id: 'tx-c', tickets: [{ id: 'T3', price: 1000 }], total: 1000 }]]);
    f.counts = { total: 6, sold: 3, locked: 0, available: 3 };
    f.tickets = f.tickets.map((t) => (t.id === 'T4' ? { id: 'T4', state: 'available', price: 1000 } : t));
    const r = checkInvariants(f);
    expect(r.ok).toBe(false);
    expect(offending(f, CHECKS.soldOnce)).toEqual(['T3']);
  });

  test('a ticket listed as sold to two orders is reported', () => {
    const f = goodFacts();
    f.tickets = [...f.tickets, { id: 'T3', state: 'sold', price: 1000, order_number: 'ORDX', transaction_id: 'tx-x' }];
    expect(offending(f, CHECKS.soldOnce)).toEqual(['T3']);
  });

  test('a document-store sale that disagrees with Redis is reported', () => {
    const f = goodFacts();
    f.storeSales = [
      { ticket_id: 'T1', order_number: 'ORDA', transaction_id: 'tx-a' },
      { ticket_id: 'T2', order_number: 'ORDA', transaction_id: 'tx-a' },
      { ticket_id: 'T3', order_number: 'ORDB', transaction_id: 'tx-b' },
    ];
    expect(checkInvariants(f).ok).toBe(true);
    f.storeSales = [...f.storeSales, { ticket_id: 'T3', order_number: 'ORDZ', transaction_id: 'tx-z' }];
    expect(offending(f, CHECKS.store)).toEqual(['T3']);
  });

  test('an order with a wrong total is reported', () => {
    const f = goodFacts();
    const a = f.orders.get('ORDA') as OrderFact;
    f.orders = new Map([...f.orders, ['ORDA', { ...a, total: 1500 }]]);
    expect(checksFailed(f)).toEqual([CHECKS.orders]);
    expect(offending(f, CHECKS.orders)).toEqual(['T1', 'T2']);
  });

  test('an order containing a ticket its transaction did not hold is reported', () => {
    const f = goodFacts();
    // order B (tx-b held only T3) also contains T5
    f.orders = new Map([
      ...f.orders,
      ['ORDB', { order_number: 'ORDB', transaction_id: 'tx-b', tickets: [{ id: 'T3', price: 1000 }, { id: 'T5', price: 1000 }], total: 2000 }],
    ]);
    const r = checkInvariants(f);
    expect(r.ok).toBe(false);
    expect(offending(f, CHECKS.held)).toEqual(['T5']);
    expect(offending(f, CHECKS.orders)).toContain('T5');
  });

  test('an OK completion without its order is reported', () => {
    const f = goodFacts();
    f.orders = new Map([...f.orders, ['ORDB', undefined]]);
    expect(checksFailed(f)).toContain(CHECKS.orders);
    expect(offending(f, CHECKS.orders)).toEqual(['T3']);
  });

  test('counts that do not add up are reported', () => {
    const f = goodFacts();
    f.counts = { ...f.counts, available: 3 };
    expect(checksFailed(f)).toContain(CHECKS.counts);
  });

  test('a sold ticket no OK completion sold is reported, unless its completion had no clear answer', () => {
    const f = goodFacts();
    f.tickets = f.tickets.map((t) => (t.id === 'T4' ? { ...t, state: 'sold', order_number: 'ORDC', transaction_id: 'tx-c' } : t));
    f.counts = { total: 6, sold: 4, locked: 0, available: 2 };
    expect(offending(f, CHECKS.soldOnce)).toEqual(['T4']);
    f.uncertain = ['tx-c'];
    const r = checkInvariants(f);
    expect(r.violations).toEqual([]);
    expect(r.warnings).toEqual([expect.stringContaining('T4')]);
  });

  test('a lock that outlived every hold is reported', () => {
    const f = goodFacts();
    f.locksLapsed = true;
    expect(offending(f, CHECKS.locks)).toEqual(['T4']);
  });
});

describe('options', () => {
  test('defaults', () => {
    expect(parseOptions([])).toEqual({ ...DEFAULTS, quantity: { ...DEFAULTS.quantity }, thinkMs: { ...DEFAULTS.thinkMs } });
  });

  test('ranges, shares and remote mode', () => {
    const o = parseOptions(['--quantity', '2', '--think-ms', '0-5', '--best-share', '0.25', '--url', 'http://127.0.0.1:3000/', '--admin-key', 'a'.repeat(10), '--client-key', 'c'.repeat(10)]);
    expect(o).toMatchObject({ quantity: { min: 2, max: 2 }, thinkMs: { min: 0, max: 5 }, bestShare: 0.25, url: 'http://127.0.0.1:3000' });
  });

  test.each([
    [['--tickets', 'many']],
    [['--quantity', '4-1']],
    [['--expire-share', '0.6', '--release-share', '0.6']],
    [['--url', 'http://127.0.0.1:3000']],
    [['--admin-key', 'x'.repeat(10)]],
    [['--bogus']],
  ])('%j is a usage error', (argv) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
  });

  test('--help prints the options; a bad argument exits 2', async () => {
    const help = capture();
    expect(await runOnsale(['--help'], help.io)).toBe(0);
    expect(help.out()).toContain('--concurrency');
    const bad = capture();
    expect(await runOnsale(['--buyers', '-3'], bad.io)).toBe(2);
    expect(bad.err()).toContain('--buyers');
  });
});
