// Redis killed and restarted from its AOF with sales in the outbox that no writer has acknowledged (some never
// delivered, some delivered to a writer that died): every one is still delivered and written exactly once
// (Invariant 4). A redis-server of this file's own, so it can be killed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { performanceKeys } from '../src/redis/keys';
import { startRedisServer, type EmbeddedRedis } from '../src/redis/embedded';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { portOpen } from './support/redis-fault';
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

/** SIGKILL the redis-server, start it again on the same directory and port, wait for the app to reconnect. */
async function killAndRestart(): Promise<void> {
  const { port } = redis;
  process.kill(redis.pid, 'SIGKILL');
  await waitFor(async () => !(await portOpen(port)), 5000, 'redis-server gone');
  redis = await startRedisServer(BIN, dir, port);
  await waitFor(async () => (await t.redis.ping().catch(() => '')) === 'PONG', 10_000, 'the app reconnected');
  await fsyncAlways();
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

test('unacknowledged sales survive a SIGKILL of Redis and a restart from its AOF, then are written once', async () => {
  perf = await createPerformance(t, { rows: 2, seats: 10 });
  await ensureGroup(t.redis, perf.id);
  // six sales and no writer: three read by a writer that then died, three never delivered
  for (let i = 0; i < 6; i++) sold.push(await sell(t.app, perf.ticketIds.slice(2 * i, 2 * i + 2)));
  expect(await readAsGhost(t.redis, perf.id, 'ghost', 3)).toHaveLength(3);
  expect(await pendingByConsumer(t.redis, perf.id)).toEqual({ ghost: 3 });
  expect(await undeliveredCount(t.redis, perf.id)).toBe(3);

  await killAndRestart();

  // the outbox, its group, the dead consumer's pending entries and the sold tickets came back from the AOF
  const k = performanceKeys(perf.id);
  expect(await t.redis.xlen(k.outbox)).toBe(6);
  expect(await pendingByConsumer(t.redis, perf.id)).toEqual({ ghost: 3 });
  expect(await undeliveredCount(t.redis, perf.id)).toBe(3);
  expect(await t.redis.hlen(k.sold)).toBe(12);

  writers.push(await startTestWriter(t, { consumer: 'after-restart', claimIdleMs: 1000 }));
  for (const s of sold) await waitFor(() => t.documents.getOrder(s.order_number), 15_000, `order ${s.order_number}`);
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'every entry acknowledged');
  expect(await pendingByConsumer(t.redis, perf.id)).toEqual({});
  expect(await t.documents.listSoldTickets(perf.id)).toHaveLength(12);
  writtenOnce(sold);
  expect((await new DeadLetters(t.redis).list()).dead_letters).toEqual([]);
}, 30_000);

test('a writer running across a Redis restart keeps writing: sales completed before and after it, each once', async () => {
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
