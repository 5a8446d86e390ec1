// Starts one real redis-server, one real 6-node Redis Cluster (3 primaries + 3 replicas) and one real PostgreSQL on
// free loopback ports for the whole run; each jest worker uses its own Redis database number (see
// test/support/app.ts), tests on the cluster their own performance ids, and each test file its own PostgreSQL
// database (createTestDatabase in test/support/postgres.ts). All are stopped by global-teardown.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedisServer } from '../../src/redis/embedded';
import { startCluster } from '../../tools/common/redis-cluster';
import { startPostgres } from './postgres';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-test-redis-'));
  const redis = await startRedisServer(process.env.REDIS_SERVER_BIN ?? 'redis-server', dir);
  process.env.TIXLOCK_TEST_REDIS_URL = redis.url;
  (globalThis as Record<string, unknown>).__tixlockRedis = redis;

  let postgres;
  let cluster;
  try {
    cluster = await startCluster({ serverBin: process.env.REDIS_SERVER_BIN });
    postgres = await startPostgres();
  } catch (err) {
    await cluster?.stop(); // jest runs no teardown after a failed setup
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  process.env.TIXLOCK_TEST_CLUSTER_NODES = cluster.seeds;
  (globalThis as Record<string, unknown>).__tixlockCluster = cluster;
  process.env.TIXLOCK_TEST_POSTGRES_URL = postgres.url;
  (globalThis as Record<string, unknown>).__tixlockPostgres = postgres;
}
