// Redis killed and restarted from its AOF with sales in the outbox that no writer has acknowledged (some never
// delivered, some delivered to a writer that died): every one is still delivered and written exactly once
// (Invariant 4). A redis-server of this file's own, so it can be killed. The first two tests run it with
// appendfsync always (a kill at any moment keeps every reply); the last as shipped, everysec, where a SIGKILL keeps
// what Redis has written to the kernel (docs/redis-model.md, "What a Redis crash can lose").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { performanceKeys } from '../src/redis/keys';
import { startRedisServer, type EmbeddedRedis } from '../src/redis/embedded';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { aofBufferWritten, appendfsyncOf, portOpen } from './support/redis-fault';
import {
  ensureGroup,
  pendingByConsumer,
  pendingCount,
  readAsGhost,
  sell,
  undeliveredCount,
  waitFor,
  type Sold,
} from './support/writer-tests';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

let dir: string;
let redis: EmbeddedRedis;
let t: TestApp;
let http: Listening;
const writers: OrderWriter[] = [];
const outcomes: string[] = [];

/** Every write fsynced before its reply, so a SIGKILL loses nothing (CONFIG SET does not outlive a restart). */
const fsyncAlways = () => t.redis.call('CONFIG', 'SET', 'appendfsync', 'always');

/**
 * SIGKILL the redis-server, start it again on the same directory and port (as shipped: everysec), wait for the app
 * to reconnect. With `always` every reply was fsynced, so the kill comes at once and `always` is set again; with
 * `everysec` the kill waits until Redis has written its AOF buffer (until then it may hold back acknowledged
 * writes), and the server stays as it started.
 */
async function killAndRestart(fsync: 'always' | 'everysec' = 'always'): Promise<void> {
  const { port } = redis;
  expect(await appendfsyncOf(t.redis)).toBe(fsync);
  if (fsync === 'everysec') await aofBufferWritten(t.redis);
  process.kill(redis.pid, 'SIGKILL');
  await waitFor(async () => !(await portOpen(port)), 5000, 'redis-server gone');
  redis = await startRedisServer(BIN, dir, port);
  await waitFor(async () => (await t.redis.ping().catch(() => '')) === 'PONG', 10_000, 'the app reconnected');
  if (fsync === 'always') await fsyncAlways();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-writer-aof-'));
  redis = await startRedisServer(BIN, dir);
  t = await startTestApp({ REDIS_URL: redis.url });
  await t.redis.flushdb(); // the writer reads every performance in this database: start from none
  await fsyncAlways();
  http = await listen(t);
  const real = t.documents.recordSale.bind(t.documents);
  jest.spyOn(t.documents, 'recordSale').mockImplementation(async (sale) => {
    const r = await real(sale);
    outcomes.push(`${sale.order_number}:${r.outcome}`);
    return r;
  });
}, 30_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all(writers.map((w) => w.stop()));
  await http?.close();
  await t?.close();
  await redis?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 30_000);

const writtenOnce = (sold: Sold[]) => {
  const written = outcomes.filter((o) => o.endsWith(':written')).map((o) => o.split(':')[0]);
  for (const s of sold) expect(written.filter((n) => n === s.order_number)).toHaveLength(1);
};

let perf: { id: string; ticketIds: string[] };
const sold: Sold[] = [];

/**
 * Six sales and no writer: three read by a writer that then died, three never delivered. Redis is killed and
 * restarted; the outbox, its group, the dead consumer's pending entries and the sold tickets must come back, and a
 * new writer must write each sale once.
 */
async function unacknowledgedSalesSurviveKill(
  target: { id: string; ticketIds: string[] },
  salesOf: Sold[],
  fsync: 'always' | 'everysec',
): Promise<void> {
  await ensureGroup(t.redis, target.id);
  for (let i = 0; i < 6; i++) salesOf.push(await sell(t.app, target.ticketIds.slice(2 * i, 2 * i + 2)));
  expect(await readAsGhost(t.redis, target.id, 'ghost', 3)).toHaveLength(3);
  expect(await pendingByConsumer(t.redis, target.id)).toEqual({ ghost: 3 });
  expect(await undeliveredCount(t.redis, target.id)).toBe(3);

  await killAndRestart(fsync);

  const k = performanceKeys(target.id);
  expect(await t.redis.xlen(k.outbox)).toBe(6);
  expect(await pendingByConsumer(t.redis, target.id)).toEqual({ ghost: 3 });
  expect(await undeliveredCount(t.redis, target.id)).toBe(3);
  expect(await t.redis.hlen(k.sold)).toBe(12);

  writers.push(await startTestWriter(t, { consumer: `after-restart-${fsync}`, claimIdleMs: 1000 }));
  for (const s of salesOf) await waitFor(() => t.documents.getOrder(s.order_number), 15_000, `order ${s.order_number}`);
  await waitFor(async () => (await pendingCount(t.redis, target.id)) === 0, 5000, 'every entry acknowledged');
  expect(await pendingByConsumer(t.redis, target.id)).toEqual({});
  expect(await t.documents.listSoldTickets(target.id)).toHaveLength(12);
  writtenOnce(salesOf);
  expect((await new DeadLetters(t.redis).list()).dead_letters).toEqual([]);
}

test('appendfsync always: unacknowledged sales survive a SIGKILL of Redis at any moment and a restart from its AOF, then are written once', async () => {
  perf = await createPerformance(t, { rows: 2, seats: 10 });
  await unacknowledgedSalesSurviveKill(perf, sold, 'always');
}, 30_000);

test('appendfsync always: a writer running across a Redis restart keeps writing: sales completed before and after it, each once', async () => {
  expect(writers).toHaveLength(1);
  // completed just before the kill (the writer may or may not have acknowledged them by then)
  const before = [await sell(t.app, perf.ticketIds.slice(12, 14)), await sell(t.app, perf.ticketIds.slice(14, 16))];
  await killAndRestart();
  const after = [await sell(t.app, perf.ticketIds.slice(16, 18)), await sell(t.app, perf.ticketIds.slice(18, 20))];
  sold.push(...before, ...after);
  expect(new Set(sold.map((s) => s.order_number)).size).toBe(10); // the order sequence came back too

  for (const s of [...before, ...after]) {
    await waitFor(() => t.documents.getOrder(s.order_number), 15_000, `order ${s.order_number}`);
  }
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'every entry acknowledged');
  const sales = await t.documents.listSoldTickets(perf.id);
  expect(sales).toHaveLength(20);
  expect(new Set(sales.map((s) => s.ticket_id))).toEqual(new Set(perf.ticketIds));
  writtenOnce(sold);
  expect(outcomes.filter((o) => o.endsWith(':conflict'))).toEqual([]);
  expect((await new DeadLetters(t.redis).list()).dead_letters).toEqual([]);
}, 30_000);

test('appendfsync everysec (as shipped): unacknowledged sales survive a SIGKILL of Redis once it has written its AOF buffer, then are written once', async () => {
  // no writer may read the new performance's outbox before the kill: stop the ones running
  await Promise.all(writers.splice(0).map((w) => w.stop()));
  await t.redis.call('CONFIG', 'SET', 'appendfsync', 'everysec');
  const shipped = await createPerformance(t, { rows: 2, seats: 10 });
  await unacknowledgedSalesSurviveKill(shipped, [], 'everysec');
  expect(await appendfsyncOf(t.redis)).toBe('everysec'); // the restarted server runs as shipped
}, 30_000);
