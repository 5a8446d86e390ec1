// Starts one real redis-server and one real PostgreSQL on free loopback ports for the whole run; each jest worker
// uses its own Redis database number (see test/support/app.ts) and each test file its own PostgreSQL database
// (createTestDatabase in test/support/postgres.ts). Both are stopped by global-teardown.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedisServer } from '../../src/redis/embedded';
import { startPostgres } from './postgres';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-test-redis-'));
  const redis = await startRedisServer(process.env.REDIS_SERVER_BIN ?? 'redis-server', dir);
  process.env.TIXLOCK_TEST_REDIS_URL = redis.url;
  (globalThis as Record<string, unknown>).__tixlockRedis = redis;

  let postgres;
  try {
    postgres = await startPostgres();
  } catch (err) {
    await redis.stop(); // jest runs no teardown after a failed setup
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  process.env.TIXLOCK_TEST_POSTGRES_URL = postgres.url;
  (globalThis as Record<string, unknown>).__tixlockPostgres = postgres;
}
