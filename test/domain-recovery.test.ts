// reconcile, rehydrateMarked (src/domain/recovery.ts) and rehydrate (src/domain/rehydrate.ts) in this process, on the
// losses test/redis-data-loss.test.ts and the CLI tests bring about by restarting or flushing Redis: here one
// performance's keys go (its slot, or its tickets' index entries), so the other tests of the worker are left alone.
// Real Redis, in-memory SQLite document store.
import type { Redis } from 'ioredis';
import { reconcile, rehydrateMarked } from '../src/domain/recovery';
import { rehydrate } from '../src/domain/rehydrate';
import { ticketIndexKey } from '../src/redis/keys';
import { RedisLockStore } from '../src/redis/lock-store';
import type { SqliteDocumentStore } from '../src/store';
import request from 'supertest';
import { as, createPerformance, KEYS, uniqueId, useTestApp } from './support/app';
import { recordingCalls } from './support/recording';

const t = useTestApp();

/** Redis forgets the performance: every key of its slot. */
async function forgetSlot(redis: Redis, id: string) {
  const keys = await redis.keys(`tix:{p:${id}}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** Redis forgets which performance these tickets belong to (the global ticket index). */
async function forgetTicketIndex(redis: Redis, ticketIds: readonly string[]) {
  for (const ticket of ticketIds) await redis.hdel(ticketIndexKey(ticket), ticket);
}

test('reconcile: a performance Redis has none of is behind; marked, and rehydrated when asked', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 3 });
  await forgetSlot(t.redis, perf.id);
  expect(await reconcile(t.documents, t.store, false, [{ id: perf.id }])).toEqual([
    { performance_id: perf.id, behind: 'Redis has none of this performance', rehydrated: false },
  ]);
  expect((await t.store.salesState(perf.id)).recovering).toBe('Redis has none of this performance');

  expect(await reconcile(t.documents, t.store, true, [{ id: perf.id }])).toEqual([
    { performance_id: perf.id, behind: 'Redis has none of this performance', rehydrated: true },
  ]);
  expect(await t.store.salesState(perf.id)).toMatchObject({ exists: true, recovering: undefined });
  expect(await reconcile(t.documents, t.store, true, [{ id: perf.id }])).toEqual([]);
});

test('rehydrateMarked: a marked performance the store does not have stays marked, reported and not rehydrated', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  const db = (t.documents as SqliteDocumentStore).db;
  db.prepare('DELETE FROM tickets WHERE performance_id = ?').run(perf.id);
  db.prepare('DELETE FROM performances WHERE id = ?').run(perf.id);
  await t.store.markRecovering(perf.id, 'lost');
  expect(await rehydrateMarked(t.documents, t.store, true, [perf.id])).toEqual([{ performance_id: perf.id, behind: 'lost', rehydrated: false }]);
  expect((await t.store.salesState(perf.id)).recovering).toBe('lost');
});

test('rehydrate refuses a performance whose tickets Redis gave to another one; rehydrateMarked passes that on', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 25 });
  // Redis forgot the tickets' owner, and another process claimed them for another performance since; the rehydrate
  // runs in a fresh process (as `tixlock rehydrate` does): lock stores of their own, which cache no owner
  await forgetTicketIndex(t.redis, perf.ticketIds);
  expect(await new RedisLockStore(t.redis, t.config.domain).claimTickets(uniqueId('other'), perf.ticketIds)).toEqual([]);
  const locks = new RedisLockStore(t.redis, t.config.domain);

  const refused = { code: 'TICKET_CONFLICT', message: `Tickets of ${perf.id} belong to another performance in Redis.` };
  const error = await rehydrate(t.documents, locks, [perf.id]).catch((err: unknown) => err);
  expect(error).toMatchObject(refused);
  // the first 20 of them are named
  expect((error as { details: { tickets: string[] } }).details.tickets).toHaveLength(20);
  expect(perf.ticketIds).toEqual(expect.arrayContaining((error as { details: { tickets: string[] } }).details.tickets));

  await locks.markRecovering(perf.id, 'lost');
  await expect(rehydrateMarked(t.documents, locks, true, [perf.id])).rejects.toMatchObject(refused);
  expect((await locks.salesState(perf.id)).recovering).toBe('lost');
});

test('reconcile keeps an earlier mark: its reason stays the first cause found', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  await forgetSlot(t.redis, perf.id);
  await t.store.markRecovering(perf.id, 'a conflicting sale (order writer)');
  expect(await reconcile(t.documents, t.store, false, [{ id: perf.id }])).toEqual([
    { performance_id: perf.id, behind: 'Redis has none of this performance', rehydrated: false },
  ]);
  expect((await t.store.salesState(perf.id)).recovering).toBe('a conflicting sale (order writer)');
});

test('rehydrateMarked: only the marked ones; each rehydrated and its mark cleared', async () => {
  const marked = await createPerformance(t, { rows: 1, seats: 2 });
  const unmarked = await createPerformance(t, { rows: 1, seats: 2 });
  await t.store.markRecovering(marked.id, 'lost');
  expect(await rehydrateMarked(t.documents, t.store, true, [unmarked.id, marked.id])).toEqual([
    { performance_id: marked.id, behind: 'lost', rehydrated: true },
  ]);
  expect((await t.store.salesState(marked.id)).recovering).toBeUndefined();
  expect(await rehydrateMarked(t.documents, t.store, true, [unmarked.id, marked.id])).toEqual([]);
});

test('rehydrate brings back a closed performance closed (at the same time), and a performance with no tickets', async () => {
  const admin = as(KEYS.admin);
  const read = async (id: string) => (await request(t.app).get(`/performances/${id}`).set(admin)).body.performance;
  const closed = await createPerformance(t, { rows: 1, seats: 2 });
  expect((await request(t.app).post(`/performances/${closed.id}/close`).set(admin)).status).toBe(200);
  const empty = await createPerformance(t, { rows: 0 });
  const before = { closed: await read(closed.id), empty: await read(empty.id) };
  expect(before.closed).toMatchObject({ lifecycle: 'closed', closed_at: expect.any(String) });

  for (const id of [closed.id, empty.id]) await forgetSlot(t.redis, id);
  expect(await rehydrate(t.documents, t.store, [closed.id, empty.id])).toEqual(
    expect.arrayContaining([
      { performance_id: closed.id, tickets: 2, sold: 0 },
      { performance_id: empty.id, tickets: 0, sold: 0 },
    ]),
  );
  expect(await read(closed.id)).toMatchObject({ lifecycle: 'closed', closed_at: before.closed.closed_at, counts: before.closed.counts });
  expect(await read(empty.id)).toMatchObject({ id: empty.id, lifecycle: 'open', counts: { total: 0, available: 0, locked: 0, sold: 0 } });
});

test('rehydrateMarked without autoRehydrate: reported, not rehydrated, the mark stays', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  await t.store.markRecovering(perf.id, 'lost');
  expect(await rehydrateMarked(t.documents, t.store, false, [perf.id])).toEqual([{ performance_id: perf.id, behind: 'lost', rehydrated: false }]);
  expect((await t.store.salesState(perf.id)).recovering).toBe('lost');
});

test('only the named performance: rehydrate restores it alone, and reconcile rehydrates only the one behind', async () => {
  const [a, b, c] = [await createPerformance(t, { rows: 1, seats: 2 }), await createPerformance(t, { rows: 1, seats: 2 }), await createPerformance(t, { rows: 1, seats: 2 })];
  for (const perf of [a, b, c]) await forgetSlot(t.redis, perf.id);
  expect(await rehydrate(t.documents, t.store, [a.id])).toEqual([{ performance_id: a.id, tickets: 2, sold: 0 }]);
  expect((await t.store.salesState(b.id)).exists).toBe(false);
  expect(await reconcile(t.documents, t.store, true, [{ id: b.id }])).toEqual([
    { performance_id: b.id, behind: 'Redis has none of this performance', rehydrated: true },
  ]);
  expect((await t.store.salesState(b.id)).exists).toBe(true);
  expect((await t.store.salesState(c.id)).exists).toBe(false);
});

test('a big performance is restored in writes of at most 2,000 tickets, each ticket once', async () => {
  // 4,000 tickets: two full writes, no empty one after them
  const perf = await createPerformance(t, { rows: 4, seats: 1000 });
  await forgetSlot(t.redis, perf.id);
  const writes: number[] = [];
  const counting = recordingCalls(t.store, 'restoreInventory', (_performance, tickets) => writes.push(tickets.length));
  expect(await rehydrate(t.documents, counting, [perf.id])).toEqual([{ performance_id: perf.id, tickets: 4000, sold: 0 }]);
  expect(writes).toEqual([2000, 2000]);
  expect((await t.store.salesState(perf.id)).exists).toBe(true);
}, 60_000);
