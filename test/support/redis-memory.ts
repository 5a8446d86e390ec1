// Measuring Redis memory for test/memory-model.test.ts (docs/memory.md): INFO used_memory once Redis is quiet, MEMORY
// USAGE of keys (every element counted), and the keys matching a pattern.
import type { Redis } from 'ioredis';
import { parseInfo } from '../../src/redis/info';

/** INFO memory's used_memory. */
export async function usedMemory(redis: Redis): Promise<number> {
  return Number(parseInfo(await redis.info('memory')).used_memory ?? 0);
}

/**
 * used_memory once Redis is quiet: client buffers left by large requests shrink in Redis's cron, so read until the
 * number stops moving for three readings 100 ms apart (at most maxMs); the last reading.
 */
export async function settledMemory(redis: Redis, maxMs = 5000): Promise<number> {
  let last = await usedMemory(redis);
  let stable = 0;
  for (let waited = 0; waited < maxMs && stable < 3; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await usedMemory(redis);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** MEMORY USAGE of each key, every element counted (SAMPLES 0); 0 for a key that does not exist. */
export async function keysBytes(redis: Redis, keys: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i += 2000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 2000)) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      out.push(Number(value ?? 0));
    }
  }
  return out;
}

export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Every key matching a SCAN pattern. */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}
