// Redis memory for the benchmark: INFO memory deltas around a load or a set of holds on a quiet Redis, and a
// breakdown by kind of key (MEMORY USAGE) that shows what dominates.
import type { Redis } from 'ioredis';
import { availableChunkKey, availableCountKey, availablePartitionKey, performanceKeys, transactionKey } from '../../src/redis/keys';

const TICKET_INDEX_BUCKETS = 65536; // src/redis/keys.ts spreads ticket -> performance over this many hashes

export type MemoryInfo = Record<string, number>;

/** INFO memory as numbers (the *_human fields and other text are dropped). */
export async function memoryInfo(redis: Redis): Promise<MemoryInfo> {
  const out: MemoryInfo = {};
  for (const line of (await redis.info('memory')).split(/\r?\n/)) {
    const m = /^([a-z_]+):(-?\d+(?:\.\d+)?)$/.exec(line.trim());
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/**
 * Waits for Redis to be quiet: client query buffers left by a large request shrink in Redis's cron, so read
 * INFO until used_memory stops moving (at most `maxMs`); returns the last reading.
 */
export async function settledMemory(redis: Redis, maxMs = 5000): Promise<MemoryInfo> {
  let last = await memoryInfo(redis);
  let stableReadings = 0;
  for (let waited = 0; waited < maxMs && stableReadings < 3; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await memoryInfo(redis);
    const stable = now.used_memory === last.used_memory && (now.mem_clients_normal ?? 0) <= (last.mem_clients_normal ?? 0);
    stableReadings = stable ? stableReadings + 1 : 0;
    last = now;
  }
  return last;
}

/** MEMORY USAGE of a key, every element counted (SAMPLES 0); 0 when the key does not exist. */
export async function keyBytes(redis: Redis, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

/** Sum of MEMORY USAGE over many keys, pipelined. */
async function sumKeyBytes(redis: Redis, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 5000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 5000)) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      total += Number(value ?? 0);
    }
  }
  return total;
}

/** Every bucket of the global ticket -> performance index (tix:tp:0..65535). */
export function ticketIndexBytes(redis: Redis): Promise<number> {
  return sumKeyBytes(
    redis,
    Array.from({ length: TICKET_INDEX_BUCKETS }, (_, i) => `tix:tp:${i}`),
  );
}

/**
 * The performance's own keys that hold inventory: settings, tickets hash, and the available index (partition set,
 * count, every partition's chunk list and every chunk).
 */
export async function inventoryBytes(redis: Redis, performanceId: string) {
  const k = performanceKeys(performanceId);
  const partitions = await redis.smembers(k.available);
  const chunkKeys: string[] = [];
  for (const p of partitions) {
    for (const chunk of await redis.zrange(availablePartitionKey(performanceId, p), "0", "-1")) {
      chunkKeys.push(availableChunkKey(performanceId, p, Number(chunk)));
    }
  }
  return {
    performance: await keyBytes(redis, k.performance),
    tickets: await keyBytes(redis, k.tickets),
    partitionSet:
      (await keyBytes(redis, k.available)) +
      (await keyBytes(redis, availableCountKey(performanceId))) +
      (await sumKeyBytes(redis, partitions.map((p) => availablePartitionKey(performanceId, p)))),
    partitions: await sumKeyBytes(redis, chunkKeys),
    partitionCount: partitions.length,
    chunkCount: chunkKeys.length,
    holds: await keyBytes(redis, k.holds),
  };
}

/** MEMORY USAGE of what holds create, summed over the given transactions (lock keys, records, index entries). */
export async function holdBytes(redis: Redis, performanceId: string, holds: readonly { transactionId: string; tickets: readonly string[] }[]) {
  const k = performanceKeys(performanceId);
  return {
    lockKeys: await sumKeyBytes(redis, holds.flatMap((h) => h.tickets.map((t) => `${k.lockPrefix}${t}`))),
    transactionRecords: await sumKeyBytes(redis, holds.map((h) => transactionKey(performanceId, h.transactionId))),
  };
}

/** Keys in the keyspace and in the expires table (DBSIZE-like numbers from INFO keyspace, db0). */
export async function keyspace(redis: Redis): Promise<{ keys: number; expires: number }> {
  const m = /db0:keys=(\d+),expires=(\d+)/.exec(await redis.info('keyspace'));
  return { keys: Number(m?.[1] ?? 0), expires: Number(m?.[2] ?? 0) };
}
