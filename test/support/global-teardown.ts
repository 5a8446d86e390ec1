import fs from 'node:fs';
import type { EmbeddedRedis } from '../../src/redis/embedded';

export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as Record<string, unknown>).__tixlockRedis as EmbeddedRedis | undefined;
  if (!redis) return;
  await redis.stop();
  fs.rmSync(redis.dir, { recursive: true, force: true });
}
