import fs from 'node:fs';
import type { EmbeddedRedis } from '../../src/redis/embedded';
import type { EmbeddedCluster } from '../../tools/common/redis-cluster';
import type { TestPostgres } from './postgres';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const postgres = g.__tixlockPostgres as TestPostgres | undefined;
  if (postgres) await postgres.destroy();
  const cluster = g.__tixlockCluster as EmbeddedCluster | undefined;
  if (cluster) await cluster.stop();
  const redis = g.__tixlockRedis as EmbeddedRedis | undefined;
  if (!redis) return;
  await redis.stop();
  fs.rmSync(redis.dir, { recursive: true, force: true });
}
