// Starts one real redis-server on a free loopback port for the whole run; each jest worker uses its own
// database number (see test/support/app.ts). Stopped by global-teardown.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedisServer } from '../../src/redis/embedded';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-test-redis-'));
  const redis = await startRedisServer(process.env.REDIS_SERVER_BIN ?? 'redis-server', dir);
  process.env.TIXLOCK_TEST_REDIS_URL = redis.url;
  (globalThis as Record<string, unknown>).__tixlockRedis = redis;
}
