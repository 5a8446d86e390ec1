// Lock expiry (DESIGN.md invariant 3) with short holds: a lock ends by itself; a lapsed transaction may still
// check out or complete while its tickets are free, never by touching another transaction's tickets; checkout
// extends past the first expiry up to MAX_HOLD_SECONDS.
//
// No sleeps: a test waits until Redis shows what it needs (a lock key gone, its clock past a time; see
// test/support/lapse.ts), and checks every reported lock_expires against Redis's clock read around the answer. A
// "still held" phase uses a hold of several seconds and ends by seeing the lock keys still there.
import request from 'supertest';
import { performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, useTestApp, type TestApp } from './support/app';
import { expectLockExpires, expectStillHeld, expiryOf, redisNowMs, timed, untilGone, untilRedisTime } from './support/lapse';

const t = useTestApp({ LOCK_TTL_SECONDS: '1' }); // holds of 1 s by default
// holds of 3 s, at most 6 s in all: each step of the cap test has seconds to spare
const capped = useTestApp({ LOCK_TTL_SECONDS: '3', MAX_HOLD_SECONDS: '6' });
// Same Redis, default 180 s holds: the "other buyer" holds through it, so that a lock taken after a lapse cannot
// itself lapse before the test reads it back on a slow machine.
const steady = useTestApp();

/** A hold that outlives the checks of a "still held" phase on a slow machine (they take a few requests). */
const HELD_S = 5;

const holdTickets = (app: TestApp, key: string, tickets: string[], extra: Record<string, unknown> = {}) =>
  request(app.app).post('/transaction').set(as(key)).send({ tickets, ...extra });
const update = (app: TestApp, key: string, txid: string, body: Record<string, unknown>) =>
  request(app.app).put(`/transaction/${txid}`).set(as(key)).send(body);
const getTx = (app: TestApp, key: string, txid: string) => request(app.app).get(`/transaction/${txid}`).set(as(key));
const ticket = async (app: TestApp, id: string) => (await request(app.app).get(`/tickets/${id}`).set(as(KEYS.admin))).body.ticket;
const search = (app: TestApp, perf: string, quantity: number) =>
  request(app.app).get(`/tickets?performance_id=${perf}&quantity=${quantity}`).set(as(KEYS.alice));
async function counts(app: TestApp, perf: string) {
  return (await request(app.app).get(`/performances/${perf}`).set(as(KEYS.admin))).body.performance.counts;
}
const lockKey = (perf: string, id: string) => performanceKeys(perf).lockPrefix + id;
const lockKeys = (perf: string, ids: string[]) => ids.map((id) => lockKey(perf, id));

function expect201(res: request.Response) {
  expect([res.status, res.body.error?.code]).toEqual([201, undefined]);
  return res.body as { transaction_id: string; lock_expires: string; created_at: string; tickets: { id: string }[] };
}

test('a lock ends at its expiry without anyone acting: search, counts and new holds see the tickets again', async () => {
  const p1 = await createPerformance(t, { rows: 1, seats: 4 });
  const p2 = await createPerformance(t, { rows: 1, seats: 4 });
  const [a1, a2] = p1.ticketIds as [string, string];
  const held = await timed(t.redis, () => holdTickets(t, KEYS.alice, [a1, a2], { hold_seconds: HELD_S }));
  const alice1 = expect201(held.answer);
  const expires = expectLockExpires(alice1.lock_expires, held, HELD_S * 1000);
  expect(await expiryOf(t.redis, lockKeys(p1.id, [a1, a2]))).toEqual([expires, expires]); // the lock keys end then
  expect201(await holdTickets(t, KEYS.alice, p2.ticketIds.slice(0, 2))); // 1 s

  // still held
  expect((await search(t, p1.id, 4)).body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 2 });
  const blocked = await holdTickets(t, KEYS.bob, [a1]);
  expect([blocked.status, blocked.body.error.tickets]).toEqual([409, [{ id: a1, reason: 'locked' }]]);
  expect(await ticket(t, a1)).toMatchObject({ state: 'locked', transaction_id: alice1.transaction_id });
  await expectStillHeld(t.redis, lockKeys(p1.id, [a1, a2]));

  await untilGone(t.redis, [...lockKeys(p1.id, [a1, a2]), ...lockKeys(p2.id, p2.ticketIds.slice(0, 2))]);
  expect(await redisNowMs(t.redis)).toBeGreaterThanOrEqual(expires); // not before its lock_expires

  // nobody acted: the lock key is gone and every view agrees
  expect(await counts(t, p1.id)).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
  expect(await ticket(t, a1)).toMatchObject({ state: 'available', sold: false });
  expect(await ticket(t, a1)).not.toHaveProperty('transaction_id');
  const found = await search(t, p1.id, 4);
  expect(found.status).toBe(200);
  expect(found.body.tickets.map((x: { id: string }) => x.id)).toEqual(p1.ticketIds);
  const bob1 = expect201(await holdTickets(steady, KEYS.bob, [a1]));
  expect(await t.redis.get(lockKey(p1.id, a1))).toBe(bob1.transaction_id);
  expect(await counts(t, p1.id)).toEqual({ total: 4, available: 3, locked: 1, sold: 0 });

  const read = await getTx(t, KEYS.alice, alice1.transaction_id);
  expect([read.status, read.body.transaction_status]).toEqual([200, 'expired']);
  const head = await request(t.app).head(`/transaction/${alice1.transaction_id}`).set(as(KEYS.alice));
  expect([head.status, head.headers['transaction-status'], head.headers['lock-expires']]).toEqual([200, 'expired', undefined]);

  // p2: a new hold comes first, before anything gave the lapsed tickets back; the counts still add up
  const bob2 = expect201(await holdTickets(steady, KEYS.bob, [p2.ticketIds[1]!]));
  expect(bob2.tickets.map((x) => x.id)).toEqual([p2.ticketIds[1]]);
  expect(await counts(t, p2.id)).toEqual({ total: 4, available: 3, locked: 1, sold: 0 });
  expect((await search(t, p2.id, 3)).body.tickets.map((x: { id: string }) => x.id)).toEqual([
    p2.ticketIds[0],
    p2.ticketIds[2],
    p2.ticketIds[3],
  ]);
});

test('complete after expiry: 200 when every ticket is still free; 409 when one was taken, touching nothing of the taker', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 6 });
  const [s1, s2, s3, s4, s5, s6] = perf.ticketIds as [string, string, string, string, string, string];
  const free = expect201(await holdTickets(t, KEYS.alice, [s1, s2]));
  const taken = expect201(await holdTickets(t, KEYS.alice, [s3, s4]));
  const soldAway = expect201(await holdTickets(t, KEYS.alice, [s5, s6]));
  await untilGone(t.redis, lockKeys(perf.id, perf.ticketIds));

  // 1) nothing happened meanwhile: the sale goes through
  const done = await update(t, KEYS.alice, free.transaction_id, { status: 'complete' });
  expect([done.status, done.body.transaction_status]).toEqual([200, 'complete']);
  expect(done.body.order_number).toMatch(/^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/);
  expect(await ticket(t, s1)).toMatchObject({ state: 'sold', sold: true, order_number: done.body.order_number });

  // 2) bob holds s4 after alice's lock lapsed: alice's completion fails and bob's lock is left alone
  const bob = expect201(await holdTickets(steady, KEYS.bob, [s4]));
  const bobPttl = await t.redis.pttl(lockKey(perf.id, s4));
  const lost = await update(t, KEYS.alice, taken.transaction_id, { status: 'complete' });
  expect(lost.status).toBe(409);
  expect(lost.body.error).toMatchObject({ code: 'TICKETS_UNAVAILABLE', tickets: [{ id: s4, reason: 'locked' }] });
  expect(await t.redis.get(lockKey(perf.id, s4))).toBe(bob.transaction_id);
  expect(await t.redis.pttl(lockKey(perf.id, s4))).toBeLessThanOrEqual(bobPttl);
  expect(await t.redis.pttl(lockKey(perf.id, s4))).toBeGreaterThan(0);
  expect(await ticket(t, s4)).toMatchObject({ state: 'locked', transaction_id: bob.transaction_id, locked_by: 'bob' });
  expect(await ticket(t, s3)).toMatchObject({ state: 'available' });
  const bobRead = await getTx(t, KEYS.bob, bob.transaction_id);
  expect(bobRead.body.transaction_status).toBe('open');
  expect((await getTx(t, KEYS.alice, taken.transaction_id)).body.transaction_status).toBe('expired');
  // an expired transaction stays expired
  const again = await update(t, KEYS.alice, taken.transaction_id, { status: 'complete' });
  expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_TRANSACTION_STATE']);
  const checkout = await update(t, KEYS.alice, taken.transaction_id, { status: 'checkout' });
  expect([checkout.status, checkout.body.error.code]).toEqual([409, 'INVALID_TRANSACTION_STATE']);

  // 3) bob bought s6 meanwhile: reason "sold", bob's sale unchanged
  const bobSale = expect201(await holdTickets(steady, KEYS.bob, [s6]));
  const bobDone = await update(t, KEYS.bob, bobSale.transaction_id, { status: 'complete' });
  expect(bobDone.status).toBe(200);
  const lost2 = await update(t, KEYS.alice, soldAway.transaction_id, { status: 'complete' });
  expect(lost2.body.error).toMatchObject({ code: 'TICKETS_UNAVAILABLE', tickets: [{ id: s6, reason: 'sold' }] });
  expect(await ticket(t, s6)).toMatchObject({ state: 'sold', order_number: bobDone.body.order_number, transaction_id: bobSale.transaction_id });
  expect(await ticket(t, s5)).toMatchObject({ state: 'available' });

  expect(await t.redis.xlen(performanceKeys(perf.id).outbox)).toBe(2);
  expect(await counts(t, perf.id)).toEqual({ total: 6, available: 2, locked: 1, sold: 3 });
});

test('checkout after expiry: locks again when the tickets are free; 409 and expired when one was taken', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const [s1, s2, s3, s4] = perf.ticketIds as [string, string, string, string];
  // the checkout relocks for the transaction's own hold: HELD_S, for the "still held" checks after it
  const free = expect201(await holdTickets(t, KEYS.alice, [s1, s2], { hold_seconds: HELD_S }));
  const taken = expect201(await holdTickets(t, KEYS.alice, [s3, s4]));
  await untilGone(t.redis, lockKeys(perf.id, perf.ticketIds));

  const again = await timed(t.redis, () => update(t, KEYS.alice, free.transaction_id, { status: 'checkout' }));
  expect([again.answer.status, again.answer.body.transaction_status]).toEqual([200, 'checkout']);
  // now + the hold, on Redis's clock: in the future, not the lapsed lock_expires or a time near it
  const relocked = expectLockExpires(again.answer.body.lock_expires, again, HELD_S * 1000);
  expect(relocked).toBeGreaterThan(Date.parse(free.lock_expires));
  for (const id of [s1, s2]) expect(await t.redis.get(lockKey(perf.id, id))).toBe(free.transaction_id);
  expect(await expiryOf(t.redis, lockKeys(perf.id, [s1, s2]))).toEqual([relocked, relocked]);
  const blocked = await holdTickets(t, KEYS.bob, [s1]);
  expect(blocked.status).toBe(409);

  const bob = expect201(await holdTickets(steady, KEYS.bob, [s3]));
  const lost = await update(t, KEYS.alice, taken.transaction_id, { status: 'checkout' });
  expect(lost.status).toBe(409);
  expect(lost.body.error).toMatchObject({ code: 'TICKETS_UNAVAILABLE', tickets: [{ id: s3, reason: 'locked' }] });
  expect(await t.redis.get(lockKey(perf.id, s3))).toBe(bob.transaction_id);
  expect(await t.redis.get(lockKey(perf.id, s4))).toBeNull(); // nothing half-locked
  expect((await getTx(t, KEYS.alice, taken.transaction_id)).body.transaction_status).toBe('expired');
  expect(await counts(t, perf.id)).toEqual({ total: 4, available: 1, locked: 3, sold: 0 });
  await expectStillHeld(t.redis, lockKeys(perf.id, [s1, s2]));

  const done = await update(t, KEYS.alice, free.transaction_id, { status: 'complete' });
  expect([done.status, done.body.transaction_status]).toEqual([200, 'complete']);
});

test('release after expiry never frees a ticket that another transaction took meanwhile', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 3 });
  const [s1, s2] = perf.ticketIds as [string, string];
  const old = expect201(await holdTickets(t, KEYS.alice, [s1, s2]));
  await untilGone(t.redis, lockKeys(perf.id, [s1, s2]));
  const bob = expect201(await holdTickets(steady, KEYS.bob, [s1]));
  const released = await request(t.app).delete(`/transaction/${old.transaction_id}`).set(as(KEYS.alice));
  expect([released.status, released.body.transaction_status]).toEqual([200, 'released']);
  expect(await t.redis.get(lockKey(perf.id, s1))).toBe(bob.transaction_id);
  expect(await ticket(t, s1)).toMatchObject({ state: 'locked', transaction_id: bob.transaction_id });
  expect(await ticket(t, s2)).toMatchObject({ state: 'available' });
  expect(await counts(t, perf.id)).toEqual({ total: 3, available: 2, locked: 1, sold: 0 });
});

test('checkout before expiry keeps the lock alive beyond the original lock_expires', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  const [s1] = perf.ticketIds as [string];
  const HOLD_S = 6;
  const tx = expect201(await holdTickets(t, KEYS.alice, [s1], { hold_seconds: HOLD_S }));
  const first = Date.parse(tx.lock_expires);
  expect(first - Date.parse(tx.created_at)).toBe(HOLD_S * 1000);

  // half-way through the hold (on Redis's clock), so the new expiry is seconds past the first
  await untilRedisTime(t.redis, first - (HOLD_S * 1000) / 2);
  const ext = await timed(t.redis, () => update(t, KEYS.alice, tx.transaction_id, { status: 'checkout', tickets: [s1] }));
  expect([ext.answer.status, ext.answer.body.transaction_status]).toEqual([200, 'checkout']);
  expect(ext.after).toBeLessThan(first); // the checkout ran before the lock's expiry: it extended a live lock
  const second = expectLockExpires(ext.answer.body.lock_expires, ext, HOLD_S * 1000);
  expect(second).toBeGreaterThanOrEqual(first + (HOLD_S * 1000) / 2);
  expect(await expiryOf(t.redis, [lockKey(perf.id, s1)])).toEqual([second]);

  await untilRedisTime(t.redis, first + 1);
  // past the first expiry, still locked by alice
  expect(await t.redis.get(lockKey(perf.id, s1))).toBe(tx.transaction_id);
  const blocked = await holdTickets(t, KEYS.bob, [s1]);
  expect([blocked.status, blocked.body.error?.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
  expect(await ticket(t, s1)).toMatchObject({ state: 'locked', lock_expires: ext.answer.body.lock_expires });
  expect((await getTx(t, KEYS.alice, tx.transaction_id)).body).toMatchObject({
    transaction_status: 'checkout',
    lock_expires: ext.answer.body.lock_expires,
  });
  expect((await search(t, perf.id, 2)).body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 1 });
  await expectStillHeld(t.redis, [lockKey(perf.id, s1)]);
});

test('MAX_HOLD_SECONDS caps the total lock life from creation; checkout after the cap is HOLD_LIMIT_REACHED', async () => {
  const HOLD_MS = 3000; // capped's LOCK_TTL_SECONDS
  const perf = await createPerformance(capped, { rows: 1, seats: 2 });
  const [s1] = perf.ticketIds as [string];
  const key = lockKey(perf.id, s1);
  const tooLong = await holdTickets(capped, KEYS.alice, [s1], { hold_seconds: 7 });
  expect([tooLong.status, tooLong.body.error.code]).toEqual([400, 'INVALID_REQUEST']);

  const tx = expect201(await holdTickets(capped, KEYS.alice, [s1]));
  const created = Date.parse(tx.created_at);
  const cap = created + 6000;
  expect(Date.parse(tx.lock_expires)).toBe(created + HOLD_MS);

  // a checkout a second in: now + the hold, past the first expiry and short of the cap
  await untilRedisTime(capped.redis, created + 1000);
  const c1 = await timed(capped.redis, () => update(capped, KEYS.alice, tx.transaction_id, { status: 'checkout' }));
  expect(c1.answer.status).toBe(200);
  const renewed = expectLockExpires(c1.answer.body.lock_expires, c1, HOLD_MS, cap);
  expect(renewed).toBeGreaterThan(created + HOLD_MS);
  expect(renewed).toBeLessThan(cap);

  // once now + the hold passes the cap, a checkout locks to the cap exactly
  await untilRedisTime(capped.redis, cap - HOLD_MS + 1);
  const c2 = await timed(capped.redis, () => update(capped, KEYS.alice, tx.transaction_id, { status: 'checkout' }));
  expect(c2.answer.status).toBe(200);
  expect(expectLockExpires(c2.answer.body.lock_expires, c2, HOLD_MS, cap)).toBe(cap);
  expect(await expiryOf(capped.redis, [key])).toEqual([cap]);

  await untilGone(capped.redis, [key]);
  expect(await redisNowMs(capped.redis)).toBeGreaterThanOrEqual(cap);
  const c3 = await update(capped, KEYS.alice, tx.transaction_id, { status: 'checkout' });
  expect(c3.status).toBe(409);
  expect(c3.body.error).toMatchObject({ code: 'HOLD_LIMIT_REACHED', hold_limit: new Date(cap).toISOString() });
  // the lock ended at the cap
  expect(await capped.redis.get(key)).toBeNull();
  expect((await getTx(capped, KEYS.alice, tx.transaction_id)).body.transaction_status).toBe('expired');
  // completing is still possible while the tickets are free (the cap limits holding, not buying)
  const done = await update(capped, KEYS.alice, tx.transaction_id, { status: 'complete' });
  expect([done.status, done.body.transaction_status]).toEqual([200, 'complete']);
});
