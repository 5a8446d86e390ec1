// The performance lifecycle and its archive (src/domain/lifecycle.ts, src/domain/archive.ts, lua/archive_*.lua,
// src/redis/archive-store.ts): a closed performance takes no hold and no inventory, a transaction with a live lock
// still completes; once closed (or ended), every sale persisted and no lock left, its Redis keys go, and the document
// store answers for it. The archive refuses, and keeps every key, when the store lacks a sale or an order. Real Redis;
// the document store is an SQLite file and a PostgreSQL database in turn.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redlock from 'redlock';
import request from 'supertest';
import { Archiver, compareSales, waitingReason, type ArchiveState } from '../src/domain/archive';
import type { DocumentStore, OrderSummary, SoldTicket } from '../src/domain/documents';
import { reconcile } from '../src/domain/recovery';
import { rehydrate } from '../src/domain/rehydrate';
import { createLogger } from '../src/logger';
import { RedisArchiveStore } from '../src/redis/archive-store';
import { availableIndexKeys, availablePartitionKey, performanceCodeKey, performanceKeys, performanceSetKey, ticketIndexKey } from '../src/redis/keys';
import { openWriterReads } from '../src/service';
import { PostgresDocumentStore, SqliteDocumentStore } from '../src/store';
import { ArchiveJob } from '../src/writer/archive-job';
import { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, expectError, KEYS, startTestApp, startTestWriter, testClusterNodes, testRedisUrl, uniqueId, type TestApp } from './support/app';
import { untilGone } from './support/lapse';
import { createTestDatabase } from './support/postgres';
import { runCli } from './support/spawn';
import { sell, waitFor } from './support/writer-tests';

interface Backend {
  url: string;
  /** runs SQL on the store behind the test app (to take a sale or an order away) */
  sql(store: DocumentStore, statement: string, params: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-archive-'));
  return {
    url: `sqlite:${path.join(dir, 'documents.sqlite')}`,
    sql: async (store, statement, params) => void (store as SqliteDocumentStore).db.prepare(statement.replace(/\$\d+/g, '?')).run(...params),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  const db = await createTestDatabase();
  return {
    url: db.url,
    sql: async (store, statement, params) => void (await (store as PostgresDocumentStore).pool.query(statement, params)),
    cleanup: () => db.drop(),
  };
}

const admin = (req: request.Test) => req.set(as(KEYS.admin));

/** Redis keys of a performance's slot, transaction records left out (they expire on their own). */
async function slotKeys(t: TestApp, id: string): Promise<string[]> {
  return (await t.redis.keys(`tix:{p:${id}}:*`)).filter((k) => !k.includes(':tx:')).sort();
}

async function persisted(t: TestApp, orderNumbers: string[]) {
  await waitFor(async () => (await Promise.all(orderNumbers.map((n) => t.documents.getOrder(n)))).every(Boolean), 15_000, 'orders persisted');
}

/** The outbox's entries all delivered and acknowledged (the writer's XACK comes after its store write). */
async function drained(t: TestApp, id: string) {
  const store = new RedisArchiveStore(t.redis);
  await waitFor(async () => (await store.state(id)) !== undefined && waitingReason((await store.state(id)) as ArchiveState, 0, 0) === undefined, 15_000, 'outbox drained');
}

describe.each([
  ['an SQLite file', sqliteBackend],
  ['PostgreSQL', postgresBackend],
])('archive with the document store on %s', (_name, makeBackend) => {
  let backend: Backend;
  let t: TestApp;
  let writer: OrderWriter;
  let archiver: Archiver;

  beforeAll(async () => {
    backend = await makeBackend();
    t = await startTestApp({ DOCUMENT_STORE_URL: backend.url });
    writer = await startTestWriter(t);
    archiver = new Archiver(new RedisArchiveStore(t.redis), t.documents, { endGraceSeconds: 6 * 3600, lockMarginSeconds: 0 });
  });

  afterAll(async () => {
    await writer?.stop();
    await t?.close();
    await backend?.cleanup();
  });

  /** 2 rows of 5 at 5000; A1-A2 sold to alice (one order), B1 to bob; persisted; returns the orders too. */
  async function soldPerformance() {
    const perf = await createPerformance(t, { rows: 2, seats: 5, extra: { starts_at: '2030-01-01T20:00:00.000Z' } });
    const [a1, a2, , , , b1] = perf.ticketIds as string[];
    const first = await sell(t.app, [a1 as string, a2 as string], { email: 'fan@example.com' });
    const second = await sell(t.app, [b1 as string], { email: 'other@example.com' }, KEYS.bob);
    await persisted(t, [first.order_number, second.order_number]);
    await drained(t, perf.id);
    return { ...perf, orders: [first, second] };
  }

  test('open, it waits; closed with every sale persisted, its keys go and the document store answers for it', async () => {
    const perf = await soldPerformance();
    const code = Number(await t.redis.hget(performanceKeys(perf.id).performance, 'code'));
    expect(await archiver.archive(perf.id)).toEqual({ performance_id: perf.id, outcome: 'waiting', reason: 'open until it ends at 2030-01-02T02:00:00.000Z' });

    const closed = await admin(request(t.app).post(`/performances/${perf.id}/close`));
    expect(closed.status).toBe(200);
    expect(closed.body.performance).toMatchObject({ id: perf.id, lifecycle: 'closed', counts: { total: 10, available: 7, locked: 0, sold: 3 } });
    expect(Date.parse(closed.body.performance.closed_at)).toBeGreaterThan(Date.now() - 60_000);

    // before: the perf hash, tickets, sold, outbox and the available index's keys (chunks, heads, sections...)
    expect(await slotKeys(t, perf.id)).toEqual(
      expect.arrayContaining([performanceKeys(perf.id).performance, performanceKeys(perf.id).sold, performanceKeys(perf.id).outbox, `tix:{p:${perf.id}}:avail:h`]),
    );
    expect((await slotKeys(t, perf.id)).length).toBeGreaterThanOrEqual(10);
    const outcome = await archiver.archive(perf.id);
    expect(outcome).toEqual({
      performance_id: perf.id,
      outcome: 'archived',
      tickets: 10,
      sold: 3,
      orders: 2,
      keys_removed: expect.any(Number),
      resumed: false,
    });
    // nothing of it is left in Redis: its slot (transaction records aside), its tickets' index entries, its code, its listing
    expect(await slotKeys(t, perf.id)).toEqual([]);
    for (const ticket of perf.ticketIds) expect(await t.redis.hget(ticketIndexKey(ticket), ticket)).toBeNull();
    expect(await t.redis.get(performanceCodeKey(code))).toBeNull();
    expect(await t.redis.sismember(performanceSetKey, perf.id)).toBe(0);

    // the store answers: the performance, as it was archived, and its orders
    const read = await admin(request(t.app).get(`/performances/${perf.id}`));
    expect(read.status).toBe(200);
    expect(read.body.performance).toEqual({
      id: perf.id,
      name: 'Test show',
      starts_at: '2030-01-01T20:00:00.000Z',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      lifecycle: 'archived',
      closed_at: closed.body.performance.closed_at,
      archived_at: expect.any(String),
      counts: { total: 10, available: 0, locked: 0, sold: 3 },
    });
    for (const sold of perf.orders) {
      const order = await request(t.app).get(`/orders/${sold.order_number}`).set(as(KEYS.admin));
      expect(order.status).toBe(200);
      expect(order.body.order).toMatchObject({ order_number: sold.order_number, transaction_id: sold.transaction_id, performance_id: perf.id });
    }
    expect((await t.documents.listTickets(perf.id)).length).toBe(10);
    // its tickets are no longer served (they are in the store)
    expectError(await admin(request(t.app).get(`/performances/${perf.id}/tickets`)), 404, 'PERFORMANCE_NOT_FOUND');
    expectError(await request(t.app).get(`/tickets/${perf.ticketIds[9]}`).set(as(KEYS.alice)), 404, 'TICKET_NOT_FOUND');

    // closed for good: holds, loads and closes answer as for a closed performance
    expectError(await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: perf.id, quantity: 1 }), 409, 'PERFORMANCE_CLOSED');
    expectError(await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [perf.ticketIds[9]] }), 409, 'PERFORMANCE_CLOSED');
    expectError(await admin(request(t.app).put(`/performances/${perf.id}`)).send({ tickets: [] }), 409, 'PERFORMANCE_CLOSED');
    const again = await admin(request(t.app).post(`/performances/${perf.id}/close`));
    expect(again.body.performance).toEqual(read.body.performance);
    // its ticket ids stay its own: another performance may not take them
    const other = await admin(request(t.app).put(`/performances/${uniqueId()}`)).send({ tickets: [{ id: perf.ticketIds[9] }] });
    expect(expectError(other, 409, 'TICKET_CONFLICT').tickets).toEqual([perf.ticketIds[9]]);
    // its transactions went with it (this process still knows their performance: the scripts say so too)
    expectError(await request(t.app).get(`/transaction/${perf.orders[0]?.transaction_id}`).set(as(KEYS.alice)), 404, 'TRANSACTION_NOT_FOUND');
    expectError(await admin(request(t.app).get(`/performances/${uniqueId()}`)), 404, 'PERFORMANCE_NOT_FOUND');

    // archived is not "behind the store": neither the sweep's reconcile nor a rehydrate brings it back
    expect(await reconcile(t.documents, t.store, true)).toEqual([]);
    // nor one that listed it just before it was archived (a sweep on another replica while this archive ran)
    const stale: DocumentStore = Object.create(t.documents, {
      listPerformances: { value: async () => (await t.documents.listPerformances()).map(({ archive: _archive, ...p }) => p) },
    });
    expect(await reconcile(stale, t.store, true)).toEqual([]);
    expect((await rehydrate(t.documents, t.store)).map((r) => r.performance_id)).not.toContain(perf.id);
    await expect(rehydrate(t.documents, t.store, [perf.id])).rejects.toMatchObject({
      code: 'PERFORMANCE_CLOSED',
      message: `Archived (nothing of them belongs in Redis again): ${perf.id}`,
    });
    expect(await slotKeys(t, perf.id)).toEqual([]);
    expect(await archiver.archive(perf.id)).toEqual({ performance_id: perf.id, outcome: 'already_archived' });
    expect(await archiver.archive(uniqueId())).toMatchObject({ outcome: 'not_found' });
  });

  test('refuses, and removes nothing, when the store lacks a sold ticket or an order', async () => {
    const perf = await soldPerformance();
    await admin(request(t.app).post(`/performances/${perf.id}/close`));
    const [first, second] = perf.orders as [(typeof perf.orders)[0], (typeof perf.orders)[0]];
    const before = await slotKeys(t, perf.id);

    await backend.sql(t.documents, 'DELETE FROM sales WHERE ticket_id = $1', [first.tickets[1] as string]);
    const lacksSale = await archiver.archive(perf.id);
    expect(lacksSale).toEqual({
      performance_id: perf.id,
      outcome: 'mismatch',
      problems: [
        `ticket ${first.tickets[1]} is sold in Redis (order ${first.order_number} of transaction ${first.transaction_id}) and not in the document store`,
      ],
    });

    await backend.sql(t.documents, 'DELETE FROM orders WHERE order_number = $1', [second.order_number]);
    const lacksOrder = await archiver.archive(perf.id);
    expect(lacksOrder.outcome).toBe('mismatch');
    expect(lacksOrder).toMatchObject({ problems: expect.arrayContaining([`order ${second.order_number} is not in the document store`]) });

    // every key is kept, and Redis still answers for the performance
    expect(await slotKeys(t, perf.id)).toEqual(before);
    expect(await t.redis.hlen(performanceKeys(perf.id).sold)).toBe(3);
    expect(await t.redis.sismember(performanceSetKey, perf.id)).toBe(1);
    const read = await admin(request(t.app).get(`/performances/${perf.id}`));
    expect(read.body.performance).toMatchObject({ lifecycle: 'closed', counts: { sold: 3 } });
  });

  test('after a close a live lock may still complete, a lapsed one may not; the archive waits for the last lock', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 6 });
    const hold = async (tickets: string[], holdSeconds: number) => {
      const res = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets, hold_seconds: holdSeconds });
      expect(res.status).toBe(201);
      return res.body.transaction_id as string;
    };
    const live = await hold([perf.ticketIds[0] as string, perf.ticketIds[1] as string], 60);
    const lapsing = await hold([perf.ticketIds[2] as string], 1);
    expect((await admin(request(t.app).post(`/performances/${perf.id}/close`))).body.performance.lifecycle).toBe('closed');

    // no new hold, of given tickets or the best available; reads keep working
    expectError(await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [perf.ticketIds[3]] }), 409, 'PERFORMANCE_CLOSED');
    expectError(await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ performance_id: perf.id, quantity: 1 }), 409, 'PERFORMANCE_CLOSED');
    expectError(await admin(request(t.app).put(`/performances/${perf.id}`)).send({ tickets: [{ id: `${perf.id}-Z1` }] }), 409, 'PERFORMANCE_CLOSED');
    expect((await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=2`).set(as(KEYS.bob))).status).toBe(200);
    expect((await admin(request(t.app).get(`/performances/${perf.id}/tickets`))).body.tickets).toHaveLength(6);

    await untilGone(t.redis, [performanceKeys(perf.id).lockPrefix + perf.ticketIds[2]]); // the short hold lapses
    const update = (txid: string, status: string) => request(t.app).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status });
    expectError(await update(lapsing, 'checkout'), 409, 'PERFORMANCE_CLOSED');
    expectError(await update(lapsing, 'complete'), 409, 'PERFORMANCE_CLOSED');
    expect(await archiver.archive(perf.id)).toMatchObject({ outcome: 'waiting', reason: expect.stringMatching(/^a lock is live/) });

    expect((await update(live, 'checkout')).status).toBe(200);
    const done = await update(live, 'complete');
    expect(done.status).toBe(200);
    await persisted(t, [done.body.order_number]);
    await drained(t, perf.id);
    expect(await archiver.archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 6, sold: 2, orders: 1 });
    expect(await slotKeys(t, perf.id)).toEqual([]);
  });

  test('the seal refuses when anything changed since the check; a sealed performance changes no more, and the next run finishes it', async () => {
    const perf = await soldPerformance();
    await admin(request(t.app).post(`/performances/${perf.id}/close`));
    const store = new RedisArchiveStore(t.redis);
    const state = (await store.state(perf.id)) as ArchiveState;
    const request_ = { endsMs: undefined, marginMs: 0, orderSeq: state.orderSeq, tickets: state.tickets, sold: state.sold, outboxLastId: state.outbox.lastId, orders: 2 };
    // a sale that landed after the check (the order sequence moved), or another sold count: refused, nothing written
    expect(await store.seal(perf.id, { ...request_, orderSeq: state.orderSeq - 1 })).toEqual({ sealed: false, reason: 'changed since it was verified' });
    expect(await store.seal(perf.id, { ...request_, sold: state.sold + 1 })).toEqual({ sealed: false, reason: 'changed since it was verified' });
    expect(await store.seal(perf.id, { ...request_, outboxLastId: '1-0' })).toEqual({ sealed: false, reason: 'changed since it was verified' });
    expect(await t.redis.hget(performanceKeys(perf.id).performance, 'archiving')).toBeNull();

    const sealed = await store.seal(perf.id, request_);
    expect(sealed).toEqual({ sealed: true, atMs: expect.any(Number), before: false });
    expect(await store.seal(perf.id, request_)).toMatchObject({ sealed: true, before: true });
    // sealed, not yet removed (a run that stopped there): archived for readers, closed for everything else
    const read = await admin(request(t.app).get(`/performances/${perf.id}`));
    expect(read.body.performance).toMatchObject({ lifecycle: 'archived', archived_at: new Date((sealed as { atMs: number }).atMs).toISOString() });
    expectError(await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [perf.ticketIds[9]] }), 409, 'PERFORMANCE_CLOSED');

    expect(await archiver.archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 10, sold: 3, orders: 2, resumed: true });
    expect(await slotKeys(t, perf.id)).toEqual([]);
    expect((await t.documents.getPerformance(perf.id))?.archive).toMatchObject({ counts: { total: 10, sold: 3 }, orders: 2 });
  });

  test('a performance whose archive fails (the store does not answer) is reported as failed; the others go on', async () => {
    const broken = await soldPerformance();
    const fine = await soldPerformance();
    for (const perf of [broken, fine]) await admin(request(t.app).post(`/performances/${perf.id}/close`));
    const failing: DocumentStore = Object.create(t.documents, {
      listSoldTickets: { value: (id: string) => (id === broken.id ? Promise.reject(new Error('store down')) : t.documents.listSoldTickets(id)) },
    });
    const outcomes = await new Archiver(new RedisArchiveStore(t.redis), failing, { endGraceSeconds: 0, lockMarginSeconds: 0 }).archiveEach([broken.id, fine.id]);
    expect(outcomes).toEqual([
      { performance_id: broken.id, outcome: 'failed', error: 'store down' },
      expect.objectContaining({ performance_id: fine.id, outcome: 'archived' }),
    ]);
    expect(await t.redis.exists(performanceKeys(broken.id).performance)).toBe(1);
    expect(await archiver.archive(broken.id)).toMatchObject({ outcome: 'archived' });
  });

  test('tixlock archive <ids>: prints each outcome as JSON; exits 1 when a named one was not archived or a mismatch was found', async () => {
    const ready = await soldPerformance();
    await admin(request(t.app).post(`/performances/${ready.id}/close`));
    const open = await createPerformance(t, { rows: 1, seats: 2 });
    const env = { NODE_ENV: 'test', REDIS_URL: testRedisUrl(), DOCUMENT_STORE_URL: backend.url, ARCHIVE_LOCK_MARGIN_SECONDS: '0' };

    const run = await runCli(['archive', ready.id, open.id], env, 60_000);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      status: 'INCOMPLETE',
      results: [
        { performance_id: ready.id, outcome: 'archived', tickets: 10, sold: 3, orders: 2, keys_removed: expect.any(Number), resumed: false },
        { performance_id: open.id, outcome: 'waiting', reason: 'open, and it has no end (no ends_at or starts_at): close it first' },
      ],
    });
    expect(await slotKeys(t, ready.id)).toEqual([]);

    const lost = await soldPerformance();
    await admin(request(t.app).post(`/performances/${lost.id}/close`));
    await backend.sql(t.documents, 'DELETE FROM orders WHERE order_number = $1', [lost.orders[1]?.order_number as string]);
    const mismatch = await runCli(['archive', lost.id], env, 60_000);
    expect(mismatch.code).toBe(1);
    expect(JSON.parse(mismatch.stdout).results).toEqual([
      { performance_id: lost.id, outcome: 'mismatch', problems: [`order ${lost.orders[1]?.order_number} is not in the document store`] },
    ]);
    expect(await t.redis.exists(performanceKeys(lost.id).performance)).toBe(1);

    const again = await runCli(['archive', ready.id], env, 60_000);
    expect({ code: again.code, out: JSON.parse(again.stdout) }).toEqual({
      code: 0,
      out: { status: 'OK', results: [{ performance_id: ready.id, outcome: 'already_archived' }] },
    });
  }, 120_000);

  test('an ended performance (ends_at, or starts_at + the grace) is closed; one loaded before ends were kept ends by its starts_at', async () => {
    const past = await createPerformance(t, { rows: 1, seats: 2, extra: { ends_at: '2020-01-01T00:00:00.000Z' } });
    const read = await admin(request(t.app).get(`/performances/${past.id}`));
    expect(read.body.performance).toMatchObject({ lifecycle: 'closed', ends_at: '2020-01-01T00:00:00.000Z', closed_at: '2020-01-01T00:00:00.000Z' });
    expectError(await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [past.ticketIds[0]] }), 409, 'PERFORMANCE_CLOSED');
    expectError(await admin(request(t.app).put(`/performances/${past.id}`)).send({ tickets: [] }), 409, 'PERFORMANCE_CLOSED');

    const started = new Date(Date.now() - 7 * 3600_000).toISOString(); // 7 h ago: past the 6 h grace
    const over = await createPerformance(t, { rows: 1, seats: 2, extra: { starts_at: started } });
    expect((await admin(request(t.app).get(`/performances/${over.id}`))).body.performance).toMatchObject({
      lifecycle: 'closed',
      closed_at: new Date(Date.parse(started) + 6 * 3600_000).toISOString(),
    });
    const recent = await createPerformance(t, { rows: 1, seats: 2, extra: { starts_at: new Date(Date.now() - 3600_000).toISOString() } });
    expect((await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [recent.ticketIds[0]] })).status).toBe(201);
    const bad = await admin(request(t.app).put(`/performances/${uniqueId()}`)).send({ starts_at: '2030-01-02T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', tickets: [] });
    expect(expectError(bad, 400, 'INVALID_REQUEST').issues).toEqual([{ path: 'ends_at', message: 'ends_at must not be before starts_at' }]);

    // a performance whose hash has no end (loaded before ends were kept): the archive takes its end from starts_at
    const legacy = await createPerformance(t, { rows: 1, seats: 2, extra: { starts_at: '2030-01-01T00:00:00.000Z' } });
    await t.redis.hdel(performanceKeys(legacy.id).performance, 'ends_ms');
    await t.redis.hset(performanceKeys(legacy.id).performance, 'starts_at', started);
    expect((await admin(request(t.app).get(`/performances/${legacy.id}`))).body.performance.lifecycle).toBe('open');
    expect(await archiver.archive(legacy.id)).toMatchObject({ outcome: 'archived', tickets: 2, sold: 0, orders: 0 });
    expect((await admin(request(t.app).get(`/performances/${legacy.id}`))).body.performance).toMatchObject({
      lifecycle: 'archived',
      closed_at: new Date(Date.parse(started) + 6 * 3600_000).toISOString(),
    });
  });
});

describe('the automatic archive: the order writer that sweeps runs it', () => {
  let t: TestApp;
  let writer: OrderWriter;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-archive-job-'));
    t = await startTestApp({ DOCUMENT_STORE_URL: `sqlite:${path.join(dir, 'documents.sqlite')}` });
    // this worker's database holds the performances of earlier tests: the sweep archives every ready one of them
    await t.redis.flushdb();
    const redlock = new Redlock([t.redis], { retryCount: 0 });
    const archived = { forget: (_id: string) => undefined as void };
    const job = new ArchiveJob({
      archiver: new Archiver(new RedisArchiveStore(t.redis), t.documents, { endGraceSeconds: 6 * 3600, lockMarginSeconds: 0 }),
      redlock,
      logger: createLogger('silent'),
      intervalMs: 0,
      metrics: t.metrics,
      onArchived: (id) => archived.forget(id),
    });
    writer = new OrderWriter({
      redis: t.redis,
      blocking: await openWriterReads(t.redis, 200, 5000),
      store: t.documents,
      redlock,
      locks: t.store,
      logger: createLogger('silent'),
      config: { ...t.config.writer, blockMs: 200, sweepIntervalMs: 300, claimIdleMs: 1000 },
      metrics: t.metrics,
      archive: job,
    });
    archived.forget = (id) => writer.forgetOutbox(id);
    writer.start();
  });

  afterAll(async () => {
    await writer?.stop();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a closed performance is archived once its sales are persisted; a mismatch is kept, logged and counted', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 4 });
    const sold = await sell(t.app, [perf.ticketIds[0] as string]);
    await admin(request(t.app).post(`/performances/${perf.id}/close`));
    await waitFor(async () => (await t.redis.exists(performanceKeys(perf.id).performance)) === 0, 20_000, 'archived by the sweep');
    const read = await admin(request(t.app).get(`/performances/${perf.id}`));
    expect(read.body.performance).toMatchObject({ lifecycle: 'archived', counts: { total: 4, sold: 1 } });
    expect((await request(t.app).get(`/orders/${sold.order_number}`).set(as(KEYS.alice))).status).toBe(200);
    // the writer reads on: a sale of another performance is persisted as before
    const next = await createPerformance(t, { rows: 1, seats: 2 });
    const other = await sell(t.app, [next.ticketIds[0] as string]);
    await waitFor(() => t.documents.getOrder(other.order_number), 10_000, 'a later sale persisted');

    // a performance whose sale the store lost: never removed, counted as a mismatch
    const lost = await createPerformance(t, { rows: 1, seats: 2 });
    const gone = await sell(t.app, [lost.ticketIds[0] as string]);
    await waitFor(() => t.documents.getOrder(gone.order_number), 10_000, 'persisted');
    await waitFor(async () => (await t.redis.xpending(performanceKeys(lost.id).outbox, 'order-writer'))[0] === 0, 10_000, 'acknowledged');
    (t.documents as SqliteDocumentStore).db.prepare('DELETE FROM sales WHERE ticket_id = ?').run(lost.ticketIds[0]);
    await admin(request(t.app).post(`/performances/${lost.id}/close`));
    const metric = async () => (await t.metrics.archives.get()).values.find((v) => v.labels.outcome === 'mismatch')?.value ?? 0;
    await waitFor(async () => (await metric()) > 0, 20_000, 'the mismatch counted');
    expect(await t.redis.exists(performanceKeys(lost.id).performance)).toBe(1);
  }, 60_000);
});

describe('archive on a Redis Cluster: the ticket index entries lie in many slots', () => {
  let t: TestApp;
  let writer: OrderWriter;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-archive-cluster-'));
    t = await startTestApp({ REDIS_CLUSTER_NODES: testClusterNodes(), DOCUMENT_STORE_URL: `sqlite:${path.join(dir, 'documents.sqlite')}` });
    writer = await startTestWriter(t);
  });

  afterAll(async () => {
    await writer?.stop();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every key of the performance, its code key and its tickets\' index entries go; the store answers', async () => {
    const perf = await createPerformance(t, { id: uniqueId('cl'), rows: 3, seats: 8 });
    const sold = await sell(t.app, perf.ticketIds.slice(0, 3));
    await persisted(t, [sold.order_number]);
    await drained(t, perf.id);
    await admin(request(t.app).post(`/performances/${perf.id}/close`));
    const k = performanceKeys(perf.id);
    const partitions = await t.redis.smembers(k.available);
    const index = await Promise.all(partitions.map(async (p) => ({ partition: p, chunks: (await t.redis.zrange(availablePartitionKey(perf.id, p), '0', '-1')).map(Number) })));
    const keys = [...availableIndexKeys(perf.id, index), k.performance, k.tickets, k.sold, k.outbox];
    const code = Number(await t.redis.hget(k.performance, 'code'));
    for (const key of keys) expect({ key, exists: await t.redis.exists(key) }).toEqual({ key, exists: 1 });

    const archiver = new Archiver(new RedisArchiveStore(t.redis), t.documents, { endGraceSeconds: 6 * 3600, lockMarginSeconds: 0 });
    expect(await archiver.archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 24, sold: 3, orders: 1 });
    for (const key of keys) expect({ key, exists: await t.redis.exists(key) }).toEqual({ key, exists: 0 });
    for (const ticket of perf.ticketIds) expect(await t.redis.hget(ticketIndexKey(ticket), ticket)).toBeNull();
    expect(new Set(perf.ticketIds.map(ticketIndexKey)).size).toBeGreaterThan(10); // many buckets, many slots
    expect(await t.redis.get(performanceCodeKey(code))).toBeNull();
    expect(await t.redis.sismember(performanceSetKey, perf.id)).toBe(0);
    expect((await admin(request(t.app).get(`/performances/${perf.id}`))).body.performance).toMatchObject({ lifecycle: 'archived', counts: { total: 24, sold: 3 } });
  }, 60_000);
});

describe('what is compared and waited for (pure)', () => {
  const sold = (ticket_id: string, order_number: string, transaction_id: string): SoldTicket => ({ ticket_id, performance_id: 'p', order_number, transaction_id });
  const order = (order_number: string, transaction_id: string, ticket_ids: string[]): OrderSummary => ({ order_number, transaction_id, performance_id: 'p', ticket_ids });
  const redis = new Map([
    ['t1', { order_number: 'O1', transaction_id: 'x1' }],
    ['t2', { order_number: 'O1', transaction_id: 'x1' }],
    ['t3', { order_number: 'O2', transaction_id: 'x2' }],
  ]);

  test('whole sets, both ways: tickets and orders missing on either side, or with another order, transaction or tickets', () => {
    const same = [sold('t1', 'O1', 'x1'), sold('t2', 'O1', 'x1'), sold('t3', 'O2', 'x2')];
    const orders = [order('O1', 'x1', ['t2', 't1']), order('O2', 'x2', ['t3'])];
    expect(compareSales(redis, same, orders)).toEqual([]);
    expect(compareSales(redis, [same[0] as SoldTicket, sold('t2', 'O9', 'x9'), same[2] as SoldTicket, sold('t4', 'O3', 'x3')], [...orders, order('O3', 'x3', ['t4'])])).toEqual([
      'ticket t2 is sold in Redis to order O1 of transaction x1, in the document store to order O9 of transaction x9',
      'ticket t4 is sold in the document store (order O3 of transaction x3) and not in Redis',
      'order O3 is in the document store and not in Redis',
    ]);
    // another order alone, or another transaction alone, is a difference too
    expect(compareSales(redis, [sold('t1', 'O1', 'x9'), ...same.slice(1)], orders)).toEqual([
      'ticket t1 is sold in Redis to order O1 of transaction x1, in the document store to order O1 of transaction x9',
    ]);
    expect(compareSales(redis, [sold('t1', 'O9', 'x1'), ...same.slice(1)], orders)).toEqual([
      'ticket t1 is sold in Redis to order O1 of transaction x1, in the document store to order O9 of transaction x1',
    ]);
    expect(compareSales(redis, same, [order('O1', 'x7', ['t1', 't2']), order('O2', 'x2', ['t3', 't5'])])).toEqual([
      'order O1 is of transaction x1 in Redis, x7 in the document store',
      'order O2 has tickets t3 in Redis, t3, t5 in the document store',
    ]);
  });

  test('waits while open, recovering, a lock is live (or lapsed within the margin), or sales are on their way', () => {
    const now = Date.parse('2030-01-01T12:00:00.000Z');
    const ready: ArchiveState = {
      performanceId: 'p',
      nowMs: now,
      settings: { id: 'p', code: 1 },
      createdAtMs: undefined,
      updatedAtMs: undefined,
      endsMs: undefined,
      closedAtMs: now - 60_000,
      recovering: undefined,
      orderSeq: 3,
      tickets: 10,
      sold: 4,
      lastHoldExpiryMs: now - 61_000,
      outbox: { lastId: '5-0', group: true, pending: 0, lastDeliveredId: '5-0' },
      deadLetters: 0,
      sealed: undefined,
    };
    expect(waitingReason(ready, undefined, 60_000)).toBeUndefined();
    expect(waitingReason({ ...ready, closedAtMs: undefined }, undefined, 0)).toBe('open, and it has no end (no ends_at or starts_at): close it first');
    expect(waitingReason({ ...ready, closedAtMs: undefined }, now + 1, 0)).toBe('open until it ends at 2030-01-01T12:00:00.001Z');
    expect(waitingReason({ ...ready, closedAtMs: undefined }, now, 0)).toBeUndefined(); // ended
    expect(waitingReason({ ...ready, recovering: 'lost' }, undefined, 0)).toBe('recovering: lost');
    expect(waitingReason(ready, undefined, 62_000)).toMatch(/^a lock is live or lapsed less than 62 s ago/);
    expect(waitingReason(ready, undefined, 61_000)).toBeUndefined(); // lapsed exactly the margin ago
    expect(waitingReason({ ...ready, outbox: { ...ready.outbox, lastDeliveredId: '4-0' } }, undefined, 0)).toBe('sales not yet delivered to the order writer');
    expect(waitingReason({ ...ready, outbox: { ...ready.outbox, group: false } }, undefined, 0)).toBe('sales not yet delivered to the order writer');
    expect(waitingReason({ ...ready, outbox: { ...ready.outbox, pending: 2 } }, undefined, 0)).toBe('2 sale(s) delivered to the order writer and not yet acknowledged');
    expect(waitingReason({ ...ready, outbox: { lastId: '0-0', group: false, pending: 0, lastDeliveredId: '0-0' } }, undefined, 0)).toBeUndefined();
  });
});
