// Negative controls of test/support/outage-state.ts, the state checks test/redis-failure.test.ts runs after its
// outages: a known-good performance in the real test Redis passes, and one corruption per check (made directly in
// Redis, or in what the buyers were told) is reported by that check, with its message.
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { performanceCodeOf } from '../src/domain/transaction-id';
import { availableChunkKey, availableCountKey, availableSlotOf, performanceCodeKey, performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, listen, startTestApp, type Listening, type TestApp } from './support/app';
import { OUTAGE_CHECKS, outageProblems, type OutagePerformance } from './support/outage-state';
import type { KnownTx } from './support/outage-traffic';

let t: TestApp;
let server: Listening;
let base: string;

beforeAll(async () => {
  t = await startTestApp({ LOCK_TTL_SECONDS: '600' }); // no hold lapses under a check
  server = await listen(t);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await t?.close();
});

/**
 * A known-good state: tickets T[0..7]; `open` (alice) holds T0+T1, `checkout` (alice) T2 in checkout, `done` (bob)
 * bought T3, `released` (alice) held and released T4; T5..T7 are available. Every buyer knows its transaction.
 */
async function goodState() {
  const perf: OutagePerformance = await createPerformance(t, { rows: 1, seats: 8 });
  const T = perf.ticketIds;
  const known = new Map<string, KnownTx>();
  const hold = async (key: string, tickets: string[]) => {
    const res = await request(t.app).post('/transaction').set(as(key)).send({ tickets });
    expect(res.status).toBe(201);
    const tx: KnownTx = { id: res.body.transaction_id, key, tickets: res.body.tickets.map((x: { id: string; price: number }) => ({ id: x.id, price: x.price })), status: 'open', orderNumber: undefined, unsure: new Set() };
    known.set(tx.id, tx);
    return tx;
  };
  const update = async (tx: KnownTx, status: string) => {
    const res = await request(t.app).put(`/transaction/${tx.id}`).set(as(tx.key)).send({ status });
    expect(res.status).toBe(200);
    Object.assign(tx, { status, orderNumber: res.body.order_number ?? undefined });
  };
  const open = await hold(KEYS.alice, [T[0]!, T[1]!]);
  const checkout = await hold(KEYS.alice, [T[2]!]);
  await update(checkout, 'checkout');
  const done = await hold(KEYS.bob, [T[3]!]);
  await update(done, 'complete');
  const released = await hold(KEYS.alice, [T[4]!]);
  const res = await request(t.app).delete(`/transaction/${released.id}`).set(as(KEYS.alice));
  expect([res.status, res.body.transaction_status]).toEqual([200, 'released']);
  released.status = 'released';
  return { perf, T, known, open, checkout, done, released, k: performanceKeys(perf.id) };
}

type State = Awaited<ReturnType<typeof goodState>>;

const record = (s: State, id: string) => `${s.k.transactionPrefix}${id}`;
async function chunkOf(s: State, ticket: string) {
  const slot = availableSlotOf((await t.redis.hget(s.k.tickets, ticket)) as string);
  return availableChunkKey(s.perf.id, slot.partition, slot.chunk);
}

/** [what, the corruption, the check that must report it, its message] */
const CONTROLS: [string, (s: State) => Promise<unknown> | void, string, RegExp][] = [
  ['a ticket record deleted', (s) => t.redis.hdel(s.k.tickets, s.T[7]!), OUTAGE_CHECKS.records, /^ticket records missing \[.*-A8\], not the performance's \[\]$/],
  ['an available ticket taken out of the index', async (s) => t.redis.zrem(await chunkOf(s, s.T[7]!), s.T[7]!), OUTAGE_CHECKS.oneState, /-A8: sold=undefined lock=null available=false$/],
  ['a lock missing from the holds index', (s) => t.redis.zrem(s.k.holds, s.T[0]!), OUTAGE_CHECKS.holdsIndex, /-A1: lock=.+ but holds score null$/],
  ['the available count off by one', (s) => t.redis.incr(availableCountKey(s.perf.id)), OUTAGE_CHECKS.availableCount, /^the available count is 5, 4 tickets are available$/],
  ['the holds index naming a free ticket', (s) => t.redis.zadd(s.k.holds, Date.now() + 600_000, s.T[7]!), OUTAGE_CHECKS.counts, /^the API counts .*"locked":4.*, Redis .*"locked":3/],
  ['a transaction record without tickets', (s) => t.redis.hset(record(s, s.released.id), 'tickets', ''), OUTAGE_CHECKS.recordTickets, /: a record without tickets /],
  [
    "a transaction id that does not lead to its performance",
    (s) => t.redis.set(performanceCodeKey(performanceCodeOf(s.open.id)!), 'another-performance'),
    OUTAGE_CHECKS.recordCode,
    /: its id does not lead to its performance$/,
  ],
  ['an open transaction missing a lock', (s) => t.redis.del(`${s.k.lockPrefix}${s.T[0]}`), OUTAGE_CHECKS.recordLocks, /\(open\): 1\/2 locks$/],
  ['a released transaction still locking', (s) => t.redis.set(`${s.k.lockPrefix}${s.T[4]}`, s.released.id), OUTAGE_CHECKS.recordLocks, /\(released\): still locks 1 tickets$/],
  ['a complete transaction without its order number', (s) => t.redis.hdel(record(s, s.done.id), 'order_number'), OUTAGE_CHECKS.recordSales, /: complete without an order number$/],
  ['a complete transaction whose ticket is sold to another order', (s) => t.redis.hset(s.k.sold, s.T[3]!, `X99|${s.done.id}`), OUTAGE_CHECKS.recordSales, /: complete but 0\/1 tickets sold to it$/],
  ['an open transaction with a sale', (s) => t.redis.hset(s.k.sold, s.T[0]!, `X99|${s.open.id}`), OUTAGE_CHECKS.recordSales, /\(open\): 1 tickets sold to it$/],
  ['a lock by no transaction', (s) => t.redis.set(`${s.k.lockPrefix}${s.T[7]}`, 'no-such-transaction'), OUTAGE_CHECKS.lockOwner, /-A8 by no-such-transaction: no such record$/],
  ['a sale to no transaction', (s) => t.redis.hset(s.k.sold, s.T[7]!, 'X99|no-such-transaction'), OUTAGE_CHECKS.saleOwner, /-A8 to no-such-transaction: no such record$/],
  ...(['order .* twice in the outbox', 'transaction .* sold twice', 'ticket .*-A4 sold twice: .* and .*'] as const).map(
    (message): [string, (s: State) => Promise<unknown>, string, RegExp] => [`a sale twice in the outbox (${message})`, duplicateSale, OUTAGE_CHECKS.outbox, new RegExp(`^${message}$`)],
  ),
  ['a sale the sold hash does not have', (s) => t.redis.hset(s.k.sold, s.T[3]!, `X99|${s.done.id}`), OUTAGE_CHECKS.outbox, /-A4: outbox and sold hash disagree$/],
  ['a sale missing from the outbox', (s) => t.redis.del(s.k.outbox), OUTAGE_CHECKS.outbox, /^the outbox sells 0 tickets, the sold hash has 1$/],
  ['a completion its buyer was not told of', (s) => void s.known.set(s.done.id, { ...s.done, status: 'open' }), OUTAGE_CHECKS.asTold, /: complete, expected one of open$/],
  ['a buyer told of other tickets', (s) => void s.done.tickets.push({ id: s.T[5]!, price: 5000 }), OUTAGE_CHECKS.asTold, /: other tickets$/],
  ['a transaction that is not readable', (s) => t.redis.del(record(s, s.checkout.id)), OUTAGE_CHECKS.asTold, /\(last seen checkout\): GET answered 404 /],
  ['a buyer told of another order number', (s) => void (s.done.orderNumber = 'X99'), OUTAGE_CHECKS.asTold, /: order .+, was answered X99$/],
  ['an open transaction whose ticket is not locked by it', (s) => t.redis.set(`${s.k.lockPrefix}${s.T[1]}`, s.checkout.id, 'KEEPTTL'), OUTAGE_CHECKS.asTold, /\(open\): ticket .*-A2 is /],
  ['a completion the listing does not show as sold', (s) => t.redis.hdel(s.k.sold, s.T[3]!), OUTAGE_CHECKS.invariants, /^no ticket sold twice: ticket .*-A4 completed OK in order .* but is /],
];

/** The completed transaction's outbox entry, added again. */
async function duplicateSale(s: State) {
  const [entry] = await t.redis.xrange(s.k.outbox, '-', '+');
  await t.redis.xadd(s.k.outbox, '*', ...entry![1]);
}

test('the known-good state passes every check', async () => {
  const s = await goodState();
  expect((await outageProblems(t.redis, base, s.perf, s)).problems).toEqual([]);
});

test.each(CONTROLS)('%s: reported', async (_what, corrupt, check, message) => {
  const s = await goodState();
  await corrupt(s);
  const { problems } = await outageProblems(t.redis, base, s.perf, s);
  const reported = problems.filter((p) => p.check === check && message.test(p.message));
  // (all the problems are shown when it is missed; a transaction id's check fires for each of the performance's)
  expect({ check, message: message.source, reported: reported.length > 0, all: reported.length > 0 ? [] : problems }).toEqual({
    check,
    message: message.source,
    reported: true,
    all: [],
  });
});

test('every check and every place a check reports has a control', () => {
  expect(new Set(CONTROLS.map(([, , check]) => check))).toEqual(new Set(Object.values(OUTAGE_CHECKS)));
  // one control message per report site: a new problems.add(...) in the checker needs a new control here (the
  // on-sale invariants are one site here; each of their own sites has a control in invariants-controls.test.ts)
  const source = fs.readFileSync(path.join(__dirname, 'support/outage-state.ts'), 'utf8');
  const sites = source.match(/problems\.add\(OUTAGE_CHECKS\./g)?.length ?? 0;
  expect(new Set(CONTROLS.map(([, , , m]) => m.source)).size).toBe(sites);
});
