// Test wiring: the real service (real Redis from the global setup) behind supertest, with known keys. Every answer
// of a test app is checked against the OpenAPI document (contract.ts): a test that gets one outside it fails.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { createApi, openReplicationWait, openWriterReads } from '../../src/service';
import { createMetrics, type Metrics } from '../../src/metrics';
import Redlock from 'redlock';
import { loadConfig, type Config, type WriterConfig } from '../../src/config';
import type { DocumentStore } from '../../src/domain/documents';
import { openDocumentStore } from '../../src/store';
import { OrderWriter } from '../../src/writer/order-writer';
import type { createApp } from '../../src/http/app';
import { KeyRing } from '../../src/http/auth';
import { createLogger, type Logger } from '../../src/logger';
import { closeRedis, connectTopology } from '../../src/redis/connection';
import {
  availableChunkKey,
  availableCountKey,
  availableHeadsKey,
  availableLevelHeadsKey,
  availablePartitionKey,
  availableSectionKey,
  availableSlotOf,
  performanceKeys,
} from '../../src/redis/keys';
import { RedisLockStore } from '../../src/redis/lock-store';
import { checkedApp } from './contract';

export const KEYS = {
  alice: 'alice-key-0001', // client "alice"
  bob: 'bob-key-000002', // client "bob"
  admin: 'admin-key-0003', // admin "root"
};

export const BASE_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  // the shipped 180 s hold: tests that watch a lock lapse ask for short holds themselves, so no lock lapses
  // under a test that did not expect it on a slow machine
  LOCK_TTL_SECONDS: '180',
  MIN_HOLD_SECONDS: '1',
  MAX_HOLD_SECONDS: '900',
  TIXLOCK_API_KEYS: `alice:${KEYS.alice},bob:${KEYS.bob}`,
  TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
};

/** REDIS_CLUSTER_NODES of the run's 6-node test cluster (global-setup.ts). */
export function testClusterNodes(): string {
  const seeds = process.env.TIXLOCK_TEST_CLUSTER_NODES;
  if (!seeds) throw new Error('TIXLOCK_TEST_CLUSTER_NODES is not set: run through jest (global setup starts the cluster)');
  return seeds;
}

/** The test Redis, on this jest worker's own database number. */
export function testRedisUrl(): string {
  const base = process.env.TIXLOCK_TEST_REDIS_URL;
  if (!base) throw new Error('TIXLOCK_TEST_REDIS_URL is not set: run through jest (global setup starts redis-server)');
  return `${base}/${Number(process.env.JEST_WORKER_ID ?? '1') % 16}`;
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  redis: Redis;
  store: RedisLockStore;
  documents: DocumentStore;
  config: Config;
  /** the API's metrics (and a test writer's, see startTestWriter) */
  metrics: Metrics;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, logger: Logger = createLogger('silent')): Promise<TestApp> {
  // the shared test Redis unless the test names another (REDIS_URL) or another topology (Sentinel)
  const where = env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES ? {} : { REDIS_URL: testRedisUrl() };
  const config = loadConfig({ ...BASE_ENV, ...where, ...env });
  if (config.redis.topology.mode === 'embedded') throw new Error('startTestApp: no Redis configured');
  // a Cluster client answers the same key commands the tests send (typed as one node for brevity)
  const redis = (await connectTopology(config.redis.topology, { commandTimeoutMs: config.redis.commandTimeoutMs })) as Redis;
  // the document store: DOCUMENT_STORE_URL when a test gives one, else a private in-memory SQLite
  const documents = await openDocumentStore(config.store.url ?? 'sqlite::memory:', config.store.dataDir);
  const replication = await openReplicationWait(config, redis);
  const metrics = createMetrics();
  const { app, store } = createApi(config, redis, documents, logger, new KeyRing(config.keys.clients, config.keys.admins), replication, metrics);
  const close = async () => {
    await documents.close();
    replication?.connection.disconnect();
    await closeRedis(redis);
  };
  return { app: checkedApp(app), redis, store, documents, config, metrics, close };
}

/**
 * The usual set-up of a test file, registered in the calling file: a beforeAll that starts a test app with `env`
 * and an afterAll that closes it. The object returned is empty until that beforeAll has run, which fills it in:
 * use it in hooks and tests, not while the file is being collected. jest runs afterAll hooks in the order they are
 * registered, so a file that also starts something on top of the app (a writer, a server) and stops it in an
 * afterAll of its own calls startTestApp itself, to stop that first.
 */
export function useTestApp(env: Record<string, string> = {}): TestApp {
  const t = {} as TestApp;
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(env);
    Object.assign(t, started);
  });
  afterAll(async () => {
    await started?.close();
  });
  return t;
}

export interface Listening {
  server: http.Server;
  /** its port on 127.0.0.1 */
  port: number;
  close(): Promise<void>;
}

/** One listening HTTP server for the app (supertest would open one per request otherwise). */
export async function listen(t: TestApp): Promise<Listening> {
  const server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  expect(port).toBeGreaterThan(0);
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An order writer in this process over the test app's Redis and document store; stop it when done. */
export async function startTestWriter(t: TestApp, overrides: Partial<WriterConfig> = {}): Promise<OrderWriter> {
  const blocking = await openWriterReads(t.redis, 200, 5000);
  const writer = new OrderWriter({
    redis: t.redis,
    blocking,
    store: t.documents,
    redlock: new Redlock([t.redis], { retryCount: 0 }),
    locks: t.store,
    logger: createLogger('silent'),
    config: { ...t.config.writer, blockMs: 200, sweepIntervalMs: 500, claimIdleMs: 1000, ...overrides },
    metrics: t.metrics,
  });
  t.metrics.readOutboxLagFrom(() => writer.outboxLag());
  writer.start();
  return writer;
}

/** A performance id no other test uses. */
export const uniqueId = (prefix = 'perf') => `${prefix}-${randomUUID().slice(0, 8)}`;

export const as = (key: string) => ({ Authorization: `Bearer ${key}` });

/**
 * Creates a performance with `rows` rows of `seats` seats (ids `<perf>-<row><seat>`, row letters A.., seats 1..)
 * at `price` cents; returns the performance id and the ticket ids in seat order.
 */
export async function createPerformance(
  t: TestApp,
  opts: { rows?: number; seats?: number; price?: number; id?: string; extra?: Record<string, unknown> } = {},
) {
  const id = opts.id ?? uniqueId();
  const rows = opts.rows ?? 2;
  const seats = opts.seats ?? 5;
  const tickets = [];
  for (let r = 0; r < rows; r++) {
    for (let s = 1; s <= seats; s++) {
      const row = String.fromCharCode(65 + r);
      tickets.push({ id: `${id}-${row}${s}`, section: 'ORCH', row, seat: s, price: opts.price ?? 5000 });
    }
  }
  const res = await request(t.app)
    .put(`/performances/${id}`)
    .set(as(KEYS.admin))
    .send({ name: 'Test show', tickets, ...opts.extra });
  if (res.status !== 200) throw new Error(`createPerformance: ${res.status} ${JSON.stringify(res.body)}`);
  return { id, ticketIds: tickets.map((x) => x.id) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- helpers for the HTTP tests (test/http-*.test.ts) ----

/** An ISO-8601 UTC time with milliseconds, as API.md requires. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Asserts status, code and API.md's error shape (request_id = the X-Request-Id header); returns `error`. */
export function expectError(res: request.Response, status: number, code: string): Record<string, unknown> {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({
    status: 'ERROR',
    error: expect.objectContaining({ code, message: expect.any(String), request_id: res.headers['x-request-id'] }),
  });
  expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  return res.body.error;
}

/** Live counts of a performance, read as admin. */
export async function countsOf(t: TestApp, performanceId: string) {
  const res = await request(t.app).get(`/performances/${performanceId}`).set(as(KEYS.admin));
  if (res.status !== 200) throw new Error(`countsOf: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.performance.counts as { total: number; available: number; locked: number; sold: number };
}

// ---- helpers for the Redis-level tests (test/scripts-*, race, expiry) ----

/** A caller as the auth layer makes it from an API key, for calling the lock store directly. */
export const callerOf = (name: string, role: 'client' | 'admin' = 'client', ip = '10.0.0.1') => ({ name, role, ip });

/** PUT /performances/{id} as admin with these tickets and settings; returns the answer's `performance`. */
export async function putPerformance(
  t: TestApp,
  id: string,
  tickets: Record<string, unknown>[],
  settings: Record<string, unknown> = {},
) {
  const res = await request(t.app).put(`/performances/${id}`).set(as(KEYS.admin)).send({ ...settings, tickets });
  if (res.status !== 200) throw new Error(`putPerformance: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.performance;
}

/** Puts a ticket back into the available index the way the scripts do (for tests that simulate lost state). */
export async function putBackAvailable(redis: Redis, performanceId: string, ticketId: string, score: number): Promise<void> {
  const rec = await redis.hget(performanceKeys(performanceId).tickets, ticketId);
  if (rec === null) throw new Error(`putBackAvailable: no ticket ${ticketId}`);
  const { partition, section, priceLevel, chunk } = availableSlotOf(rec);
  const added = await redis.zadd(availableChunkKey(performanceId, partition, chunk), score, ticketId);
  if (added === 1) await redis.incr(availableCountKey(performanceId));
  await redis.zadd(availablePartitionKey(performanceId, partition), chunk, String(chunk));
  await redis.sadd(performanceKeys(performanceId).available, partition);
  await redis.sadd(availableSectionKey(performanceId, section), partition);
  await redis.zadd(availableHeadsKey(performanceId), 'LT', score, partition);
  await redis.zadd(availableLevelHeadsKey(performanceId, priceLevel), 'LT', score, partition);
}

/** A ticket's score in the available index (its partition's chunk), or null when not available. */
export async function availableScore(redis: Redis, performanceId: string, ticketId: string): Promise<number | null> {
  const rec = await redis.hget(performanceKeys(performanceId).tickets, ticketId);
  if (rec === null) return null;
  const slot = availableSlotOf(rec);
  const score = await redis.zscore(availableChunkKey(performanceId, slot.partition, slot.chunk), ticketId);
  return score === null ? null : Number(score);
}
