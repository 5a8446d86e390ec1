// Archiver (src/domain/archive.ts) in this process, over the test Redis, an in-memory SQLite document store and a real
// order writer: the paths test/archive.test.ts reaches only through the CLI or the writer's sweep (archiveReady), and
// the ones that need another party to act between the archive's steps (a sale read away, a reconcile that marks the
// performance recovering before the seal). Such a party acts through a wrapper that runs it at that moment; the
// stores under it are the real ones.
import request from 'supertest';
import { Archiver, type ArchiveState, type ArchiveStore } from '../src/domain/archive';
import type { DocumentStore } from '../src/domain/documents';
import { RedisArchiveStore } from '../src/redis/archive-store';
import { performanceKeys } from '../src/redis/keys';
import type { SqliteDocumentStore } from '../src/store';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, ISO_MS, KEYS, startTestApp, startTestWriter, type TestApp } from './support/app';
import { untilGone, untilRedisTime } from './support/lapse';
import { recordingCalls } from './support/recording';
import { sell, waitFor, type Sold } from './support/writer-tests';

let t: TestApp;
let writer: OrderWriter;
let archiveStore: RedisArchiveStore;

beforeAll(async () => {
  t = await startTestApp();
  // archiveReady takes every performance of this worker's database: start from an empty one
  await t.redis.flushdb();
  writer = await startTestWriter(t);
  archiveStore = new RedisArchiveStore(t.redis);
});

afterAll(async () => {
  await writer?.stop();
  await t?.close();
});

const archiverOf = (redis: ArchiveStore = archiveStore, documents: DocumentStore = t.documents, lockMarginSeconds = 0) =>
  new Archiver(redis, documents, { endGraceSeconds: 6 * 3600, lockMarginSeconds });

const close = async (id: string) => expect((await request(t.app).post(`/performances/${id}/close`).set(as(KEYS.admin))).status).toBe(200);

/** Runs SQL on the in-memory SQLite document store (to take sales or orders away). */
const sql = (statement: string, ...params: string[]) => (t.documents as SqliteDocumentStore).db.prepare(statement).run(...params);

/** Every sale of the performance persisted and acknowledged by the order writer: ready to archive once closed. */
async function drained(id: string) {
  await waitFor(async () => {
    const state = await archiveStore.state(id);
    return state !== undefined && state.outbox.lastDeliveredId === state.outbox.lastId && state.outbox.pending === 0;
  }, 15_000, 'outbox drained');
}

/** A performance of `seats` seats with `sales` sales of one ticket each, persisted. */
async function soldPerformance(seats: number, sales: number, id?: string) {
  const perf = await createPerformance(t, { rows: 1, seats, id });
  const sold: Sold[] = [];
  for (const ticket of perf.ticketIds.slice(0, sales)) sold.push(await sell(t.app, [ticket]));
  await waitFor(async () => (await Promise.all(sold.map((s) => t.documents.getOrder(s.order_number)))).every(Boolean), 15_000, 'orders persisted');
  await drained(perf.id);
  return { ...perf, sold };
}

describe('archiveReady: every performance Redis has, in order of id', () => {
  test('archives the ready ones in id order, waits on the open one; a stop asked between performances ends the run', async () => {
    // created in the reverse of their id order: the performance list does not give them sorted
    const ids = ['rdy-f', 'rdy-e', 'rdy-d', 'rdy-c', 'rdy-b', 'rdy-a'];
    for (const id of ids) await createPerformance(t, { id, rows: 1, seats: 2 });
    const open = await createPerformance(t, { id: 'rdy-0-open', rows: 1, seats: 2 });
    for (const id of ids) await close(id);

    // stopped after the first: only the open one (first in id order) was looked at
    let asked = 0;
    expect(await archiverOf().archiveReady(() => asked++ > 0)).toEqual([
      { performance_id: open.id, outcome: 'waiting', reason: 'open, and it has no end (no ends_at or starts_at): close it first' },
    ]);
    expect(asked).toBe(2);

    const outcomes = await archiverOf().archiveReady();
    expect(outcomes.map((o) => [o.performance_id, o.outcome])).toEqual([
      [open.id, 'waiting'],
      ...[...ids].reverse().map((id) => [id, 'archived']),
    ]);
    expect(await archiverOf().archiveReady()).toEqual([outcomes[0]]);
  });
});

describe('the lock margin (ARCHIVE_LOCK_MARGIN_SECONDS)', () => {
  test('a lock that lapsed within the margin keeps it waiting; once sealed, the next run finishes it without waiting again', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2 });
    const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [perf.ticketIds[0]], hold_seconds: 1 });
    expect(hold.status).toBe(201);
    await close(perf.id);
    await untilGone(t.redis, [performanceKeys(perf.id).lockPrefix + perf.ticketIds[0]]);
    const state = (await archiveStore.state(perf.id)) as ArchiveState;
    expect(state.lastHoldExpiryMs).toBeGreaterThan(0); // the lapsed lock is still in the holds

    // an hour's margin: the lock lapsed a moment ago
    expect(await archiverOf(archiveStore, t.documents, 3600).archive(perf.id)).toEqual({
      performance_id: perf.id,
      outcome: 'waiting',
      reason: `a lock is live or lapsed less than 3600 s ago (the last lapses at ${new Date(state.lastHoldExpiryMs).toISOString()})`,
    });
    expect(await t.redis.hget(performanceKeys(perf.id).performance, 'archiving')).toBeNull();

    // sealed by a run with no margin that stopped there: the hour's margin does not hold up finishing it
    const request_ = { endsMs: undefined, marginMs: 0, orderSeq: state.orderSeq, tickets: 2, sold: 0, outboxLastId: state.outbox.lastId, orders: 0 };
    expect(await archiveStore.seal(perf.id, request_)).toMatchObject({ sealed: true });
    expect(await archiverOf(archiveStore, t.documents, 3600).archive(perf.id)).toEqual({
      performance_id: perf.id,
      outcome: 'archived',
      tickets: 2,
      sold: 0,
      orders: 0,
      keys_removed: expect.any(Number),
      resumed: true,
    });
  });
});

describe('mismatches and refusals found on the way', () => {
  test('a dead letter is a mismatch: the sale the order writer gave up on is not in the store', async () => {
    const perf = await soldPerformance(2, 1);
    // a malformed outbox entry: the order writer moves it to the dead letters at once (and acknowledges it)
    await t.redis.xadd(performanceKeys(perf.id).outbox, '*', 'junk', '1');
    await waitFor(async () => (await t.redis.xlen(performanceKeys(perf.id).deadLetters)) === 1, 15_000, 'dead-lettered');
    await drained(perf.id);
    await close(perf.id);
    expect(await archiverOf().archive(perf.id)).toEqual({
      performance_id: perf.id,
      outcome: 'mismatch',
      problems: [`1 dead letter(s): sales the order writer gave up on (tixlock dead-letters ${perf.id})`],
    });
    expect(await t.redis.hget(performanceKeys(perf.id).performance, 'archiving')).toBeNull();
  });

  test('a sold ticket gone between the state and the sold tickets read: it waits, and compares nothing', async () => {
    const perf = await soldPerformance(2, 2);
    await close(perf.id);
    // another party takes a sale away from Redis right after the archive read its state
    const racing: ArchiveStore = Object.create(archiveStore, {
      soldTickets: {
        value: async (id: string) => {
          await t.redis.hdel(performanceKeys(id).sold, perf.ticketIds[0] as string);
          return archiveStore.soldTickets(id);
        },
      },
    });
    expect(await archiverOf(racing).archive(perf.id)).toEqual({ performance_id: perf.id, outcome: 'waiting', reason: 'its sales changed while being read' });
  });

  test('marked recovering while the store was compared: the seal refuses, nothing is removed', async () => {
    const perf = await soldPerformance(2, 1);
    await close(perf.id);
    // a reconcile marks it recovering while the archive reads the store's orders
    const marking: DocumentStore = Object.create(t.documents, {
      listPerformanceOrders: {
        value: async (id: string) => {
          await t.store.markRecovering(id, 'lost');
          return t.documents.listPerformanceOrders(id);
        },
      },
    });
    expect(await archiverOf(archiveStore, marking).archive(perf.id)).toEqual({ performance_id: perf.id, outcome: 'waiting', reason: 'not sealed: recovering' });
    expect(await t.redis.hget(performanceKeys(perf.id).performance, 'archiving')).toBeNull();
    expect(await t.redis.hlen(performanceKeys(perf.id).sold)).toBe(1);
  });

  test('a lock taken and lapsed while the store was compared (a performance without a kept end): the seal waits out the margin too', async () => {
    // its hash has no end (loaded before ends were kept) and it started 7 h ago: ended by starts_at + the 6 h grace for
    // the archive, still open for the lock store until the seal records that end
    const perf = await createPerformance(t, { rows: 1, seats: 2, extra: { starts_at: '2030-01-01T00:00:00.000Z' } });
    await t.redis.hdel(performanceKeys(perf.id).performance, 'ends_ms');
    await t.redis.hset(performanceKeys(perf.id).performance, 'starts_at', new Date(Date.now() - 7 * 3600_000).toISOString());
    // a one-second hold taken while the archive reads the store, lapsed before the seal
    const holding: DocumentStore = Object.create(t.documents, {
      listPerformanceOrders: {
        value: async (id: string) => {
          const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [perf.ticketIds[0]], hold_seconds: 1 });
          expect(hold.status).toBe(201);
          const [, expiry] = await t.redis.zrange(performanceKeys(id).holds, '-1', '-1', 'WITHSCORES');
          await untilRedisTime(t.redis, Number(expiry) + 200);
          return t.documents.listPerformanceOrders(id);
        },
      },
    });
    expect(await archiverOf(archiveStore, holding, 60).archive(perf.id)).toEqual({
      performance_id: perf.id,
      outcome: 'waiting',
      reason: 'not sealed: a lock is live or lapsed too recently',
    });
    expect(await t.redis.hget(performanceKeys(perf.id).performance, 'archiving')).toBeNull();
  });

  /** `sales` tickets sold one per order, closed; the store then loses every sale and order: 2 x `sales` problems. */
  async function storeLostEverySale(sales: number) {
    const perf = await soldPerformance(sales, sales);
    await close(perf.id);
    sql('DELETE FROM sales WHERE performance_id = ?', perf.id);
    for (const s of perf.sold) sql('DELETE FROM orders WHERE order_number = ?', s.order_number);
    const outcome = await archiverOf().archive(perf.id);
    expect(outcome).toMatchObject({ outcome: 'mismatch', problems: expect.any(Array) });
    return { perf, problems: (outcome as { problems: string[] }).problems };
  }

  test('a mismatch lists the first 50 problems, then how many more', async () => {
    // 30 tickets and 30 orders missing: 60 problems
    const { perf, problems } = await storeLostEverySale(30);
    const missing = perf.sold.map((s) => `ticket ${s.tickets[0]} is sold in Redis (order ${s.order_number} of transaction ${s.transaction_id}) and not in the document store`);
    expect(problems).toHaveLength(51);
    expect(problems.slice(0, 30).sort()).toEqual([...missing].sort());
    expect(problems.slice(30, 50)).toEqual(Array(20).fill(expect.stringMatching(/^order \S+ is not in the document store$/)));
    expect(problems[50]).toBe('... and 10 more');
  }, 60_000);

  test('exactly 50 problems are all listed, with no count of more', async () => {
    // 25 sales and their 25 orders lost: 50 problems, the cap itself
    const { problems } = await storeLostEverySale(25);
    expect(problems).toHaveLength(50);
    expect(problems.filter((p) => p.startsWith('...'))).toEqual([]);
  }, 60_000);
});

describe('what the archive writes to the document store', () => {
  test('the tickets as Redis has them (one the store lost too) and the document with its archive record', async () => {
    const perf = await soldPerformance(3, 1);
    // the store lost an unsold ticket's row: the archive writes every ticket Redis has
    sql('DELETE FROM tickets WHERE ticket_id = ?', perf.ticketIds[2] as string);
    await close(perf.id);
    const state = (await archiveStore.state(perf.id)) as ArchiveState;
    expect(await archiverOf().archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 3, sold: 1, orders: 1 });
    expect((await t.documents.listTickets(perf.id)).map((ticket) => ticket.id).sort()).toEqual([...perf.ticketIds].sort());
    const doc = await t.documents.getPerformance(perf.id);
    expect(doc).toMatchObject({ id: perf.id, closed_at: new Date(state.closedAtMs as number).toISOString() });
    expect(doc?.archive).toEqual({
      archived_at: expect.stringMatching(ISO_MS),
      closed_at: new Date(state.closedAtMs as number).toISOString(),
      created_at: new Date(state.createdAtMs as number).toISOString(),
      updated_at: expect.stringMatching(ISO_MS),
      counts: { total: 3, sold: 1 },
      orders: 1,
    });
  });

  test('a big performance goes to the store in writes of at most 5,000 tickets, each ticket once', async () => {
    // 10,000 tickets: two full writes, then the archive record with no ticket (no empty write before it)
    const perf = await createPerformance(t, { rows: 10, seats: 1000 });
    await close(perf.id);
    const writes: number[] = [];
    const counting = recordingCalls(t.documents, 'upsertInventory', (_doc, tickets) => writes.push(tickets.length));
    expect(await archiverOf(archiveStore, counting).archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 10_000, sold: 0 });
    expect(writes).toEqual([5000, 5000, 0]);
    expect(await t.documents.listTickets(perf.id)).toHaveLength(10_000);
  }, 60_000);

  test('an ended performance (never closed) of before created_at was kept: its end is when it closed, no creation time', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2, extra: { ends_at: '2020-01-01T00:00:00.000Z' } });
    await t.redis.hdel(performanceKeys(perf.id).performance, 'created_at', 'updated_at');
    expect(await archiverOf().archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 2, sold: 0, orders: 0 });
    const doc = await t.documents.getPerformance(perf.id);
    expect(doc?.closed_at).toBeUndefined();
    expect(doc?.archive).toEqual({ archived_at: expect.stringMatching(ISO_MS), closed_at: '2020-01-01T00:00:00.000Z', counts: { total: 2, sold: 0 }, orders: 0 });
  });
});
