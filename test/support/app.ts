// Test wiring: the real service (real Redis from the global setup) behind supertest, with known keys.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { domainSettings } from '../../src/cli';
import { loadConfig, type Config } from '../../src/config';
import { InventoryService } from '../../src/domain/inventory';
import { TransactionService } from '../../src/domain/transactions';
import { createApp } from '../../src/http/app';
import { KeyRing } from '../../src/http/auth';
import { createLogger } from '../../src/logger';
import { connectRedis } from '../../src/redis/connection';
import { RedisLockStore } from '../../src/redis/lock-store';

export const KEYS = {
  alice: 'alice-key-0001', // client "alice"
  bob: 'bob-key-000002', // client "bob"
  admin: 'admin-key-0003', // admin "root"
};

export const BASE_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOCK_TTL_SECONDS: '2',
  MIN_HOLD_SECONDS: '1',
  MAX_HOLD_SECONDS: '900',
  TIXLOCK_API_KEYS: `alice:${KEYS.alice},bob:${KEYS.bob}`,
  TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
};

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
  config: Config;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ ...BASE_ENV, REDIS_URL: testRedisUrl(), ...env });
  const redis = await connectRedis(config.redisUrl as string, { commandTimeoutMs: config.redisCommandTimeoutMs });
  const store = new RedisLockStore(redis, domainSettings(config));
  const app = createApp({
    transactions: new TransactionService(store, domainSettings(config)),
    inventory: new InventoryService(store, domainSettings(config)),
    keys: new KeyRing(config.apiKeys, config.adminKeys),
    logger: createLogger('silent'),
    readinessChecks: { redis: () => store.ping() },
    trustProxy: config.trustProxy,
  });
  return { app, redis, store, config, close: async () => void (await redis.quit()) };
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
