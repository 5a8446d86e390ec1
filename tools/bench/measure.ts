// How the benchmark measures a load run: the CPU time it cost the serving process and redis-server, results of
// several parts combined into one row, and the Redis housekeeping done around the timed runs. Shared by every
// scenario group (bench.ts, venues.ts, mixed.ts, workers.ts, wait.ts).
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { performanceKeys } from '../../src/redis/keys';
import type { TixlockClient } from '../../src/client';
import { forEachConcurrently, ticketPairs } from './setup';
import type { LoadClient } from './load-client';
import type { LoadJob, LoadResult, LoadSpec } from './protocol';
import type { ScenarioResult } from './report';
import type { ServerProcess } from './server';

/** What a group of scenarios needs from the run that hosts it (bench.ts builds it). */
export interface BenchContext {
  log: (line: string) => void;
  /** the private redis-server of tixlock */
  db: Redis;
  tixlock: ServerProcess;
  /** set-up clients (setupClient in setup.ts) with the client and the admin key */
  api: TixlockClient;
  admin: TixlockClient;
  /** the load generator */
  load: LoadClient;
  /** node options of the child processes */
  execArgv: string[];
  /** tixlock's environment */
  env: Record<string, string>;
  connections: number;
  warmupSeconds: number;
  /** seconds of each half (or slice) of a measured run */
  halfSeconds: number;
  /** a load job with the client's key (at the run's connection count unless given) */
  job(base: string, spec: LoadSpec, seconds: number, maxRequests?: number, connections?: number): LoadJob;
  /** the most requests a run of `seconds` can make (the bare-Express calibration, with headroom) */
  requestsFor(seconds: number): number;
}

/**
 * Warm-up and slice seconds of the groups whose requests may each cost Redis milliseconds (stadium best
 * available): at least 1 s. The API's Redis connection is auto-pipelined, and Redis runs every command of a
 * pipeline it has read before it writes any reply, so 50 such requests come back together after 50 × their cost;
 * a slice much shorter than that would count none of them.
 */
export function slowSeconds(ctx: BenchContext): { warm: number; half: number } {
  return { warm: Math.max(1, ctx.warmupSeconds), half: Math.max(1, ctx.halfSeconds) };
}

/** A best-available hold of 2 on a performance, as a load spec. */
export const bestAvailableSpec = (performanceId: string): LoadSpec => ({
  kind: 'list',
  method: 'POST',
  paths: ['/transaction'],
  bodies: [JSON.stringify({ performance_id: performanceId, quantity: 2 })],
});

/** Holds of the given tickets in pairs, one transaction each, whose ids the run collects (to check out or sell later). */
export const openingSpec = (ticketIds: readonly string[]): LoadSpec => ({
  kind: 'list',
  method: 'POST',
  paths: ['/transaction'],
  bodies: ticketPairs(ticketIds).map((p) => JSON.stringify({ tickets: p })),
  collectTransactions: true,
});

/** A load run with the CPU it cost the server and Redis, per completed request. */
export type MeasuredResult = LoadResult & { serverCpuUs: number; redisCpuUs: number; redisForks: number };

/** Anything whose CPU time can be read (a server child, or a group of them). */
export interface CpuSource {
  /** CPU time (user + system, µs) used so far */
  cpuMicros(): Promise<number>;
}

export const infoField = (info: string, name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);

/** CPU time (user + system, s) redis-server has used so far: INFO cpu. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return infoField(info, 'used_cpu_sys') + infoField(info, 'used_cpu_user');
}

async function redisForks(redis: Redis): Promise<number> {
  return infoField(await redis.info('stats'), 'total_forks');
}

/**
 * Waits (at most 60 s) until redis-server is idle: under 5 ms of CPU in 100 ms. A load run ends with up to one
 * request per connection still in the server, which it answers after the run (to a closed connection); when each
 * costs milliseconds of Redis time, that backlog would otherwise run into the next run and count there.
 */
export async function quiesce(redis: Redis): Promise<void> {
  let last = await redisCpuSeconds(redis);
  for (let waited = 0; waited < 60_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await redisCpuSeconds(redis);
    if (now - last < 0.005) return;
    last = now;
  }
}

/**
 * CPU time of the server and of Redis used while `run` ran (µs, totals), and Redis forks seen. The run starts on
 * an idle Redis (see quiesce).
 */
export async function measureCpu<T>(
  redis: Redis,
  server: CpuSource,
  run: () => Promise<T>,
): Promise<{ value: T; serverCpuUs: number; redisCpuUs: number; redisForks: number }> {
  await quiesce(redis);
  const forksBefore = await redisForks(redis);
  const redisBefore = await redisCpuSeconds(redis);
  const before = await server.cpuMicros();
  const value = await run();
  const serverCpuUs = (await server.cpuMicros()) - before;
  const redisCpuUs = ((await redisCpuSeconds(redis)) - redisBefore) * 1e6;
  return { value, serverCpuUs, redisCpuUs, redisForks: (await redisForks(redis)) - forksBefore };
}

/** Runs a load job and reads the CPU time it cost the serving process and the redis-server, per request. */
export async function withCpu(redis: Redis, server: CpuSource, run: () => Promise<LoadResult>): Promise<MeasuredResult> {
  const m = await measureCpu(redis, server, run);
  const n = Math.max(m.value.requestsTotal, 1);
  return { ...m.value, serverCpuUs: m.serverCpuUs / n, redisCpuUs: m.redisCpuUs / n, redisForks: m.redisForks };
}

/**
 * One result from several runs of the same load: counts and time summed; p50, p90, mean and CPU per request
 * weighted by requests; p99 and max of the worst run (autocannon hands back percentiles, not histograms).
 */
export function combine(runs: MeasuredResult[]): MeasuredResult {
  const total = runs.reduce((n, r) => n + r.requestsTotal, 0);
  const duration = runs.reduce((n, r) => n + r.durationSeconds, 0);
  const weighted = (f: (r: MeasuredResult) => number) => runs.reduce((n, r) => n + f(r) * r.requestsTotal, 0) / Math.max(total, 1);
  const sum = (f: (r: MeasuredResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  const worst = (f: (r: MeasuredResult) => number) => Math.max(...runs.map(f));
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    requestsPerSecond: duration > 0 ? total / duration : 0,
    requestsTotal: total,
    durationSeconds: duration,
    latencyMs: {
      p50: weighted((r) => r.latencyMs.p50),
      p90: weighted((r) => r.latencyMs.p90),
      p99: worst((r) => r.latencyMs.p99),
      mean: weighted((r) => r.latencyMs.mean),
      max: worst((r) => r.latencyMs.max),
    },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
    clientCpuUs: weighted((r) => r.clientCpuUs),
    endedEarly: runs.some((r) => r.endedEarly),
    serverCpuUs: weighted((r) => r.serverCpuUs),
    redisCpuUs: weighted((r) => r.redisCpuUs),
    redisForks: sum((r) => r.redisForks),
  };
}

/** A report row from the parts (halves, ABBA slices) of one scenario. */
export function toScenario(
  id: string,
  name: string,
  request: string,
  parts: MeasuredResult[],
  baseline: LoadResult,
  warmup: LoadResult | undefined,
  warmupSeconds: number,
): ScenarioResult {
  const r = combine(parts);
  return {
    id,
    name,
    request,
    requests_per_second: r.requestsPerSecond,
    requests_total: r.requestsTotal,
    duration_seconds: r.durationSeconds,
    latency_ms: r.latencyMs,
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    status_codes: r.statusCodes,
    ratio_to_a: baseline.requestsPerSecond > 0 ? r.requestsPerSecond / baseline.requestsPerSecond : 0,
    server_cpu_us_per_request: r.serverCpuUs,
    redis_cpu_us_per_request: r.redisCpuUs,
    load_generator_cpu_us_per_request: r.clientCpuUs,
    redis_forks: r.redisForks,
    ended_early: r.endedEarly,
    parts_requests_per_second: parts.map((h) => h.requestsPerSecond),
    warmup: warmup && { seconds: warmupSeconds, requests_per_second: warmup.requestsPerSecond, non_2xx: warmup.non2xx, errors: warmup.errors },
  };
}

/**
 * Releases (through the API) every transaction that still holds a ticket of these pairs. The server may still be
 * answering requests the load generator gave up on at the end of its run, so look again until nothing is held.
 */
export async function releaseLeftovers(redis: Redis, api: TixlockClient, performanceId: string, pairs: [string, string][]): Promise<void> {
  const { lockPrefix } = performanceKeys(performanceId);
  const lockKeys = pairs.flat().map((id) => `${lockPrefix}${id}`);
  for (let pass = 0; pass < 50; pass++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const holders = new Set((await redis.mget(lockKeys)).filter((v): v is string => v !== null));
    if (holders.size === 0) return;
    await forEachConcurrently([...holders], 8, async (tx) => {
      await api.release(tx);
    });
  }
}

/** How many of these tickets of a performance are locked now (their lock keys exist). */
export async function lockedCount(redis: Redis, performanceId: string, ticketIds: readonly string[]): Promise<number> {
  const { lockPrefix } = performanceKeys(performanceId);
  let locked = 0;
  for (let i = 0; i < ticketIds.length; i += 10_000) {
    const keys = ticketIds.slice(i, i + 10_000).map((id) => `${lockPrefix}${id}`);
    locked += (await redis.mget(keys)).filter((v) => v !== null).length;
  }
  return locked;
}

/**
 * Waits (at most 60 s) until the kernel has written most dirty pages out (Linux: /proc/meminfo Dirty), so the
 * write-back of a freshly rewritten AOF does not compete with a timed run for the CPU. Elsewhere: a short pause.
 */
export async function writeBackSettled(): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 500) {
    let dirtyKb = 0;
    try {
      dirtyKb = Number(/^Dirty:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
    } catch {
      dirtyKb = 0;
    }
    if (dirtyKb < 32 * 1024 && waited >= 1000) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** BGREWRITEAOF, and wait until it (and any rewrite already running) has finished. */
export async function rewriteAof(redis: Redis): Promise<void> {
  const busy = async () => {
    const info = await redis.info('persistence');
    return infoField(info, 'aof_rewrite_in_progress') === 1 || infoField(info, 'aof_rewrite_scheduled') === 1;
  };
  while (await busy()) await new Promise((resolve) => setTimeout(resolve, 200));
  await redis.bgrewriteaof();
  do await new Promise((resolve) => setTimeout(resolve, 200));
  while (await busy());
}
