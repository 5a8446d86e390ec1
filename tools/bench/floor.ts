// The floor of a hold's and a checkout's Redis cost: `npm run bench:floor`. It compares the shipped hold and
// checkout (RedisLockStore.hold and .extend: the API's adapter, scripts and arguments) with FLOOR_HOLD and
// FLOOR_EXTEND below: the fewest Redis calls each can make for two tickets while keeping what the Redis model
// requires: a lock key with a TTL per ticket, a transaction record, the expiry index and the available index. The
// floors skip what the shipped scripts add (the re-sent-command check, the performance's settings, the sold
// check, the available count and the cheapest-partition heads, the hold cap, the full reply), so neither can
// cost less than its floor on this machine.
//
// All run in alternating rounds on one private redis-server (AOF everysec, as the benchmark's) and one
// 300,000-ticket performance of the small venue; each hold takes two tickets drawn at random (cold data, as in an
// on-sale), each checkout extends a transaction its kind of hold opened. Script time comes from INFO
// commandstats, Redis CPU per call from INFO cpu.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { loadChunks } from '../../src/domain/inventory';
import { assignRelativeOrds } from '../../src/domain/seat-order';
import type { Caller } from '../../src/domain/types';
import { connectRedis } from '../../src/redis/connection';
import { startRedisServer } from '../../src/redis/embedded';
import { availableChunkKey, availableSlotOf, performanceKeys, transactionKey } from '../../src/redis/keys';
import { RedisLockStore } from '../../src/redis/lock-store';
import { SMALL_VENUE, venueTickets } from '../common/venue';
import { redisCpuSeconds } from './measure';

/**
 * The floor hold: lock two tickets, all or nothing.
 * KEYS[1] tickets hash   KEYS[2] available chunk of ticket 1   KEYS[3] available chunk of ticket 2
 * KEYS[4] holds zset   KEYS[5] transaction hash   KEYS[6] lock key prefix (a prefix, not a key)
 * ARGV[1] transaction id   ARGV[2] ticket 1   ARGV[3] ticket 2   ARGV[4] hold (ms)
 * Returns 1 when both were locked, 0 when either is unknown or locked (nothing changed).
 */
const FLOOR_HOLD = `
local t = redis.call('TIME')
local recs = redis.call('HMGET', KEYS[1], ARGV[2], ARGV[3])
local locks = redis.call('MGET', KEYS[6] .. ARGV[2], KEYS[6] .. ARGV[3])
if not recs[1] or not recs[2] or locks[1] or locks[2] then return 0 end
local expires = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[4]))
redis.call('SET', KEYS[6] .. ARGV[2], ARGV[1], 'PXAT', expires)
redis.call('SET', KEYS[6] .. ARGV[3], ARGV[1], 'PXAT', expires)
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[4], expires, ARGV[2], expires, ARGV[3])
redis.call('HSET', KEYS[5], 'status', 'open', 'client', 'bench', 'tickets', ARGV[2] .. ',' .. ARGV[3], 'lock_expires', expires)
redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[4]) + 60000)
return 1`;

/**
 * The floor checkout: extend the locks of an open transaction of two tickets by the hold.
 * KEYS[1] transaction hash   KEYS[2] holds zset   KEYS[3] lock key prefix (a prefix, not a key)
 * ARGV[1] transaction id   ARGV[2] hold (ms)
 * Returns 1 when both locks were extended, 0 when the transaction is not open or a lock is not its own.
 */
const FLOOR_EXTEND = `
local t = redis.call('TIME')
local tx = redis.call('HMGET', KEYS[1], 'status', 'tickets')
if tx[1] ~= 'open' then return 0 end
local a, b = string.match(tx[2], '^([^,]+),([^,]+)$')
local locks = redis.call('MGET', KEYS[3] .. a, KEYS[3] .. b)
if locks[1] ~= ARGV[1] or locks[2] ~= ARGV[1] then return 0 end
local expires = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[2]))
redis.call('PEXPIREAT', KEYS[3] .. a, expires)
redis.call('PEXPIREAT', KEYS[3] .. b, expires)
redis.call('ZADD', KEYS[2], expires, a, expires, b)
redis.call('HSET', KEYS[1], 'lock_expires', expires)
return 1`;

const TICKETS = 300_000;
const ROUNDS = 6; // per variant, alternating
const CALLS_PER_ROUND = 5_000;
const IN_FLIGHT = 50;
const CALLER: Caller = { name: 'bench', role: 'client', ip: '127.0.0.1' };

interface RoundResult {
  scriptUs: number;
  redisCpuUs: number;
}

const PERFORMANCE_ID = 'floor';

type Variant = 'hold, shipped' | 'hold, floor' | 'checkout, shipped' | 'checkout, floor';

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-floor-'));
  const server = await startRedisServer(process.env.REDIS_SERVER ?? 'redis-server', dir);
  try {
    const config = loadConfig({ REDIS_URL: server.url });
    const redis = await connectRedis(server.url, { commandTimeoutMs: 10_000, autoPipelining: true });
    const store = new RedisLockStore(redis, config.domain);
    const { ids, chunkKey } = await loadFloorPerformance(redis, store);
    const variants = await variantsOf(redis, store, ids, chunkKey, config.domain.lockTtlSeconds * 1000);
    const results = await runRounds(redis, variants);
    printTable(results);
    redis.disconnect();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads the floor performance (TICKETS of the small venue) through the lock store; each ticket's available chunk. */
async function loadFloorPerformance(redis: Redis, store: RedisLockStore) {
  const keys = performanceKeys(PERFORMANCE_ID);
  const generated = venueTickets(PERFORMANCE_ID, TICKETS, SMALL_VENUE);
  const ordered = assignRelativeOrds(generated.map((t) => ({ ...t, seat: String(t.seat) })));
  const code = await store.nextPerformanceCode();
  for (const [i, part] of loadChunks(ordered).entries()) {
    await store.loadInventory(PERFORMANCE_ID, i === 0 ? { name: PERFORMANCE_ID, code } : { code }, part);
  }
  const ids = generated.map((t) => t.id);
  const chunkKey = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 10_000) {
    const batch = ids.slice(i, i + 10_000);
    const records = await redis.hmget(keys.tickets, ...batch);
    batch.forEach((id, j) => {
      const slot = availableSlotOf(records[j] as string);
      chunkKey.set(id, availableChunkKey(PERFORMANCE_ID, slot.partition, slot.chunk));
    });
  }
  return { ids, chunkKey };
}

/**
 * The four calls compared: the shipped hold and checkout, and the floor ones. Holds take random, never-repeating
 * pairs (every call meets tickets no call before it touched); each checkout extends, in turn, a transaction its
 * kind of hold opened.
 */
async function variantsOf(redis: Redis, store: RedisLockStore, ids: string[], chunkKey: Map<string, string>, holdMs: number) {
  const keys = performanceKeys(PERFORMANCE_ID);
  const performanceId = PERFORMANCE_ID;
  const floorSha = (await redis.script('LOAD', FLOOR_HOLD)) as string;
  const floorExtendSha = (await redis.script('LOAD', FLOOR_EXTEND)) as string;

  const order = ids.map((id) => ({ id, r: Math.random() })).sort((a, b) => a.r - b.r).map((x) => x.id);
  let next = 0;
  const pair = () => [order[next++] as string, order[next++] as string] as const;

  const opened = { shipped: [] as string[], floor: [] as string[] };
  const extendTurn = { shipped: 0, floor: 0 };
  const nextOpened = (kind: 'shipped' | 'floor') => opened[kind][extendTurn[kind]++ % opened[kind].length] as string;
  const variants: Record<Variant, () => Promise<void>> = {
    'hold, shipped': async () => {
      const [a, b] = pair();
      const transactionId = randomUUID();
      await store.hold({ transactionId, performanceId, caller: CALLER, holdSeconds: undefined }, [a, b]);
      opened.shipped.push(transactionId);
    },
    'hold, floor': async () => {
      const [a, b] = pair();
      const txid = randomUUID();
      const keyList = [keys.tickets, chunkKey.get(a), chunkKey.get(b), keys.holds, transactionKey(performanceId, txid), keys.lockPrefix];
      const locked = await redis.evalsha(floorSha, keyList.length, ...(keyList as string[]), txid, a, b, holdMs);
      if (locked !== 1) throw new Error(`floor hold of ${a}, ${b} failed`);
      opened.floor.push(txid);
    },
    'checkout, shipped': async () => {
      await store.extend({ caller: CALLER, transactionId: nextOpened('shipped'), performanceId }, undefined);
    },
    'checkout, floor': async () => {
      const txid = nextOpened('floor');
      const extended = await redis.evalsha(floorExtendSha, 3, transactionKey(performanceId, txid), keys.holds, keys.lockPrefix, txid, holdMs);
      if (extended !== 1) throw new Error(`floor checkout of ${txid} failed`);
    },
  };
  return variants;
}

/** ROUNDS alternating rounds of each variant: CALLS_PER_ROUND calls, IN_FLIGHT at a time; script time and Redis CPU per call. */
async function runRounds(redis: Redis, variants: Record<Variant, () => Promise<void>>) {
  const results = Object.fromEntries(Object.keys(variants).map((name) => [name, [] as RoundResult[]]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(variants) as Variant[]) {
      await redis.config('RESETSTAT');
      const cpu0 = await redisCpuSeconds(redis);
      let calls = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (calls++ < CALLS_PER_ROUND) await variants[name]();
        }),
      );
      const cpu = (await redisCpuSeconds(redis)) - cpu0;
      const stats = await redis.info('commandstats');
      const evalshaUs = Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? 0);
      (results[name] as RoundResult[]).push({ scriptUs: evalshaUs / CALLS_PER_ROUND, redisCpuUs: (cpu * 1e6) / CALLS_PER_ROUND });
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${name}: ${(evalshaUs / CALLS_PER_ROUND).toFixed(1)} µs script\n`);
    }
  }
  return results;
}

/** The medians over the rounds, as a markdown table on stdout. */
function printTable(results: Record<string, RoundResult[]>) {
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
  console.log(
    `holds of 2 random tickets of ${TICKETS.toLocaleString('en-US')}, checkouts of those holds; ${ROUNDS} alternating rounds of ` +
      `${CALLS_PER_ROUND} calls, ${IN_FLIGHT} in flight; medians\n`,
  );
  console.log('| operation | script µs/call | Redis CPU µs/call |\n| --- | ---: | ---: |');
  for (const [name, rounds] of Object.entries(results)) {
    console.log(`| ${name} | ${median(rounds.map((r) => r.scriptUs)).toFixed(1)} | ${median(rounds.map((r) => r.redisCpuUs)).toFixed(1)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
