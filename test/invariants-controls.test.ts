// Negative controls of the on-sale's invariant checks (tools/onsale/invariants.ts, also used by
// test/redis-failure.test.ts): a known-good fact set passes, and for every place the checker can report a violation
// one corruption of it is reported there, by its check and message. A checker that misses a bad state fails here.
import fs from 'node:fs';
import path from 'node:path';
import { CHECKS, checkInvariants, type InvariantFacts, type OrderFact, type TicketFact } from '../tools/onsale/invariants';
import type { Completion, HeldTicket } from '../tools/onsale/buyer';

const price = (id: string) => 100 * Number(id.slice(1));
const held = (...ids: string[]): HeldTicket[] => ids.map((id) => ({ id, price: price(id) }));

/** What the facts are made of, mutable: each control spoils a fresh copy. */
interface Draft {
  expectedTotal: number;
  counts: InvariantFacts['counts'];
  tickets: TicketFact[];
  holds: Map<string, HeldTicket[]>;
  completions: Completion[];
  orders: Map<string, OrderFact | undefined>;
  uncertain: string[];
  storeSales: { ticket_id: string; order_number: string; transaction_id: string }[];
  storeConflicts: number;
}

/**
 * Six tickets T1..T6 (price 100 × n). tx1 held T1+T2 and completed as order O1; tx2 held T3, order O2; tx3 held T4
 * and let it lapse; T5, T6 were never held. Every hold has ended.
 */
function good(): Draft {
  const sold = (id: string, order: string, tx: string): TicketFact => ({ id, state: 'sold', price: price(id), order_number: order, transaction_id: tx });
  const free = (id: string): TicketFact => ({ id, state: 'available', price: price(id) });
  const order = (n: string, tx: string, ids: string[]): OrderFact => ({ order_number: n, transaction_id: tx, total: ids.reduce((a, id) => a + price(id), 0), tickets: held(...ids) });
  return {
    expectedTotal: 6,
    counts: { total: 6, sold: 3, locked: 0, available: 3 },
    tickets: [sold('T1', 'O1', 'tx1'), sold('T2', 'O1', 'tx1'), sold('T3', 'O2', 'tx2'), free('T4'), free('T5'), free('T6')],
    holds: new Map([['tx1', held('T1', 'T2')], ['tx2', held('T3')], ['tx3', held('T4')]]),
    completions: [
      { transactionId: 'tx1', orderNumber: 'O1', tickets: held('T1', 'T2') },
      { transactionId: 'tx2', orderNumber: 'O2', tickets: held('T3') },
    ],
    orders: new Map([['O1', order('O1', 'tx1', ['T1', 'T2'])], ['O2', order('O2', 'tx2', ['T3'])]]),
    uncertain: [],
    storeSales: [
      { ticket_id: 'T1', order_number: 'O1', transaction_id: 'tx1' },
      { ticket_id: 'T2', order_number: 'O1', transaction_id: 'tx1' },
      { ticket_id: 'T3', order_number: 'O2', transaction_id: 'tx2' },
    ],
    storeConflicts: 0,
  };
}

const check = (d: Draft) => checkInvariants({ ...d, locksLapsed: true });
const listed = (d: Draft, id: string) => d.tickets.find((t) => t.id === id)!;
const orderOf = (d: Draft, n: string) => d.orders.get(n)!;

interface Expected {
  check: string;
  message: RegExp;
  tickets?: string[];
}

/** One bad state per report site of the checker: what to spoil, and the violation(s) it must produce. */
const CONTROLS: [string, (d: Draft) => void, Expected[]][] = [
  ['the counts do not add up', (d) => (d.counts.available = 4), [{ check: CHECKS.counts, message: /^sold 3 \+ locked 0 \+ available 4 = 7, not the total 6$/ }]],
  ['the total is not what was put on sale', (d) => (d.expectedTotal = 7), [{ check: CHECKS.counts, message: /^total is 6, but 7 tickets were put on sale$/ }]],
  [
    'a ticket listed as sold to two orders',
    (d) => d.tickets.push({ ...listed(d, 'T1'), order_number: 'O2' }),
    [{ check: CHECKS.soldOnce, message: /^ticket T1 listed as sold to O1 and to O2$/, tickets: ['T1'] }],
  ],
  ['a ticket missing from the listing', (d) => d.tickets.splice(d.tickets.indexOf(listed(d, 'T6')), 1), [{ check: CHECKS.listing, message: /^the listing has 5 distinct tickets, the counts say 6$/ }]],
  [
    'one order number answered to two transactions',
    (d) => d.completions.push({ transactionId: 'tx3', orderNumber: 'O1', tickets: held('T4') }),
    [{ check: CHECKS.orders, message: /^order number O1 answered to two transactions \(tx1, tx3\)$/, tickets: ['T1', 'T2', 'T4'] }],
  ],
  [
    'a ticket completed OK by two transactions',
    (d) => d.completions.push({ transactionId: 'tx3', orderNumber: 'O3', tickets: held('T1') }),
    [{ check: CHECKS.soldOnce, message: /^ticket T1 completed OK by two transactions \(orders O1, O3\)$/, tickets: ['T1'] }],
  ],
  [
    'an OK completion without its order',
    (d) => d.orders.set('O2', undefined),
    [{ check: CHECKS.orders, message: /^order O2 \(transaction tx2\) completed OK but is not in the document store$/, tickets: ['T3'] }],
  ],
  [
    "an order of another transaction than the completion's",
    (d) => (orderOf(d, 'O2').transaction_id = 'tx3'),
    [{ check: CHECKS.orders, message: /^order O2 belongs to transaction tx3, not tx2$/, tickets: ['T3'] }],
  ],
  [
    "an order without one of its transaction's tickets",
    (d) => Object.assign(orderOf(d, 'O1'), { tickets: held('T1'), total: 100 }),
    [{ check: CHECKS.orders, message: /^order O1 has tickets \[T1\], its transaction held \[T1, T2\]$/, tickets: ['T2'] }],
  ],
  ['an order total that is not its tickets', (d) => (orderOf(d, 'O1').total = 299), [{ check: CHECKS.orders, message: /^order O1 total is 299, its tickets cost 300$/ }]],
  [
    'a ticket in two orders (and Redis sold it to the first)',
    (d) => orderOf(d, 'O2').tickets.push(...held('T1')),
    [
      { check: CHECKS.soldOnce, message: /^ticket T1 is in orders O1 and O2$/, tickets: ['T1'] },
      { check: CHECKS.soldOnce, message: /^ticket T1 is sold to order O1 in Redis, but order O2 contains it$/, tickets: ['T1'] },
    ],
  ],
  ['an order with a ticket its transaction never held', (d) => d.holds.set('tx1', held('T1')), [{ check: CHECKS.held, message: /^order O1: transaction tx1 never held T2$/, tickets: ['T2'] }]],
  [
    'a ticket sold that no OK completion sold',
    (d) => {
      Object.assign(listed(d, 'T5'), { state: 'sold', order_number: 'O3', transaction_id: 'tx3' });
      Object.assign(d.counts, { sold: 4, available: 2 });
    },
    [{ check: CHECKS.soldOnce, message: /^ticket T5 is sold \(order O3\) but no OK completion sold it$/, tickets: ['T5'] }],
  ],
  [
    'a ticket sold to another order than its completion answered',
    (d) => (listed(d, 'T3').order_number = 'O9'),
    [{ check: CHECKS.soldOnce, message: /^ticket T3 is sold to order O9, but completed OK in order O2$/, tickets: ['T3'] }],
  ],
  [
    'a ticket completed OK but not sold',
    (d) => {
      Object.assign(listed(d, 'T3'), { state: 'available', order_number: undefined, transaction_id: undefined });
      Object.assign(d.counts, { sold: 2, available: 4 });
    },
    [{ check: CHECKS.soldOnce, message: /^ticket T3 completed OK in order O2 but is available$/, tickets: ['T3'] }],
  ],
  [
    "a completed ticket missing from the listing",
    (d) => d.tickets.splice(d.tickets.indexOf(listed(d, 'T3')), 1),
    [{ check: CHECKS.listing, message: /^ticket T3 of order O2 is not in the listing$/, tickets: ['T3'] }],
  ],
  ['a sold count that is not the listing', (d) => Object.assign(d.counts, { sold: 4, available: 2 }), [{ check: CHECKS.soldCount, message: /^the counts say 4 sold, the listing has 3$/ }]],
  [
    'more tickets sold than the OK completions hold',
    (d) => d.completions.splice(1, 1),
    [{ check: CHECKS.soldCount, message: /^3 tickets are sold, the OK completions hold 2$/ }],
  ],
  [
    'orders holding more tickets than the OK completions',
    (d) => Object.assign(orderOf(d, 'O1'), { tickets: held('T1', 'T2', 'T4'), total: 700 }),
    [{ check: CHECKS.soldCount, message: /^the orders contain 4 tickets, the OK completions hold 3$/ }],
  ],
  [
    'a ticket still locked after every hold ended',
    (d) => {
      listed(d, 'T4').state = 'locked';
      Object.assign(d.counts, { locked: 1, available: 2 });
    },
    [{ check: CHECKS.locks, message: /^1 tickets are still locked after every hold ended$/, tickets: ['T4'] }],
  ],
  [
    'two store sales of one ticket',
    (d) => d.storeSales.push({ ticket_id: 'T1', order_number: 'O2', transaction_id: 'tx2' }),
    [{ check: CHECKS.store, message: /^ticket T1 has sales to O1 and O2$/, tickets: ['T1'] }],
  ],
  [
    'a store sale Redis does not have',
    (d) => (d.storeSales[2]!.order_number = 'O9'),
    [{ check: CHECKS.store, message: /^ticket T3: sale to O9 in the document store, sold \(O2\) in Redis$/, tickets: ['T3'] }],
  ],
  ['a sale missing from the store', (d) => d.storeSales.pop(), [{ check: CHECKS.store, message: /^the document store has 2 sold tickets, Redis 3$/ }]],
  ['sale conflicts recorded by the order writer', (d) => (d.storeConflicts = 1), [{ check: CHECKS.store, message: /^the order writer recorded 1 sale conflicts$/ }]],
];

test('the known-good facts pass every check', () => {
  expect(check(good())).toMatchObject({ ok: true, violations: [], warnings: [] });
});

test.each(CONTROLS)('%s: reported', (_name, spoil, expected) => {
  const facts = good();
  spoil(facts);
  const result = check(facts);
  expect(result.ok).toBe(false);
  for (const e of expected) {
    const matching = result.violations.filter((v) => v.check === e.check && e.message.test(v.message));
    expect([e.message.source, matching.length]).toEqual([e.message.source, 1]);
    if (e.tickets) expect(matching[0]!.tickets).toEqual(e.tickets);
  }
});

test('a sale by a transaction whose completion had no clear answer is a warning, not a violation', () => {
  const facts = good();
  Object.assign(listed(facts, 'T5'), { state: 'sold', order_number: 'O3', transaction_id: 'tx3' });
  Object.assign(facts.counts, { sold: 4, available: 2 });
  facts.storeSales.push({ ticket_id: 'T5', order_number: 'O3', transaction_id: 'tx3' });
  facts.uncertain.push('tx3');
  expect(check(facts)).toMatchObject({ ok: true, violations: [], warnings: ['ticket T5 sold by transaction tx3, whose completion had no clear answer'] });
});

test('every check and every place the checker reports a violation has a control', () => {
  const expectations = CONTROLS.flatMap(([, , expected]) => expected);
  expect(new Set(expectations.map((e) => e.check))).toEqual(new Set(Object.values(CHECKS)));
  // one control message per report site: a new found.fail(...) in the checker needs a new control here
  const source = fs.readFileSync(path.join(__dirname, '../tools/onsale/invariants.ts'), 'utf8');
  const sites = source.match(/found\.fail\(/g)?.length ?? 0;
  expect(new Set(expectations.map((e) => e.message.source)).size).toBe(sites);
});
