// The single-shard ceiling: how many holds (and best-available holds, and releases) ONE performance gets when
// Redis, not the API, is the limit. A child process of its own drives the scripts directly through the lock store
// (RedisLockStore: the same adapter, arguments and replies the API uses), over several auto-pipelined ioredis
// connections with many calls in flight, against the benchmark's private redis-server, for a fixed duration.
//
// It loads its own performances through the lock store (no HTTP, no document store), sized from a warm-up run on
// a performance of their own: the measured run starts on fresh inventory and never runs out. Redis CPU per
// operation is the INFO cpu delta over the operations; Redis's CPU utilisation (CPU seconds per wall second) near
// 1.0 says Redis was the limit, and the child's own utilisation says whether it was instead.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { loadChunks } from '../../src/domain/inventory';
import { assignRelativeOrds } from '../../src/domain/seat-order';
import type { Caller, HoldOptions } from '../../src/domain/types';
import { RedisDeadlines } from '../../src/redis/clock';
import { connectRedis } from '../../src/redis/connection';
import { RedisLockStore } from '../../src/redis/lock-store';
import { SMALL_VENUE, venueTickets, type VenueLayout } from '../common/venue';
import { ticketPairs } from './setup';
import { redisCpuSeconds } from './measure';

export interface CeilingJob {
  redisUrl: string;
  /** the service's environment (lock TTL, hold limits, command timeout: as the API has them) */
  env: Record<string, string>;
  /** performance ids start with this */
  prefix: string;
  layout?: VenueLayout;
  /** ioredis connections, and calls in flight on each */
  connections: number;
  inFlightPerConnection: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export type CeilingOp = 'hold' | 'holdBest' | 'release';

export interface CeilingRun {
  op: CeilingOp;
  /** the measured performance */
  performance_id: string;
  performance_tickets: number;
  ops: number;
  errors: number;
  /** first error message, if any */
  error?: string;
  duration_seconds: number;
  ops_per_second: number;
  latency_ms: { p50: number; p99: number };
  redis_cpu_us_per_op: number;
  /** redis-server CPU seconds per wall second during the run (1.0 = one core busy all the time) */
  redis_cpu_utilisation: number;
  /** this child's CPU seconds per wall second (the driver; near 1.0 it, not Redis, was the limit) */
  driver_cpu_utilisation: number;
  /** the run stopped before its duration because its input ran out */
  ended_early: boolean;
  warmup: { seconds: number; ops_per_second: number; errors: number };
}

export interface CeilingResult {
  connections: number;
  in_flight: number;
  layout: string;
  runs: CeilingRun[];
}

const CALLER: Caller = { name: 'bench-ceiling', role: 'client', ip: '127.0.0.1' };
const HEADROOM = 1.5;

const percentile = (sorted: Float64Array, p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) : 0);

/** Runs `call(i)` for i = 0, 1, ... with `inFlight` calls at a time until `seconds` pass or `limit` calls started. */
async function drive(
  inFlight: number,
  seconds: number,
  limit: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ ops: number; errors: number; error?: string; seconds: number; latencies: Float64Array; endedEarly: boolean }> {
  const latencies = new Float64Array(limit);
  let next = 0;
  let done = 0;
  let errors = 0;
  let error: string | undefined;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async () => {
    while (next < limit && performance.now() < end) {
      const i = next++;
      const t0 = performance.now();
      try {
        await call(i);
        latencies[done++] = performance.now() - t0;
      } catch (err) {
        errors++;
        error ??= String((err as Error)?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const measured = latencies.subarray(0, done).sort();
  return { ops: done, errors, error, seconds: elapsed, latencies: measured, endedEarly: next >= limit && elapsed < seconds * 0.99 };
}

class Ceiling {
  private turn = 0;
  private constructor(
    private readonly job: CeilingJob,
    private readonly redis: Redis[],
    private readonly stores: RedisLockStore[],
  ) {}

  static async open(job: CeilingJob): Promise<Ceiling> {
    const config = loadConfig(job.env);
    const settings = config.domain;
    const deadlines = new RedisDeadlines(config.redis.commandTimeoutMs); // as the API: holds carry a deadline
    const redis = await Promise.all(
      Array.from({ length: job.connections }, () => connectRedis(job.redisUrl, { commandTimeoutMs: config.redis.commandTimeoutMs, autoPipelining: true })),
    );
    return new Ceiling(job, redis, redis.map((r) => new RedisLockStore(r, settings, deadlines)));
  }

  /** the stores in turn: each call goes out on the next connection */
  private get store(): RedisLockStore {
    return this.stores[this.turn++ % this.stores.length] as RedisLockStore;
  }

  private get inFlight() {
    return this.job.connections * this.job.inFlightPerConnection;
  }

  /**
   * Loads `count` tickets into a new performance through the lock store, as InventoryService does (a performance
   * code, seat order, script calls cut at seat-order gaps), without the document store; returns their ids.
   */
  private async load(performanceId: string, count: number): Promise<string[]> {
    const generated = venueTickets(performanceId, count, this.job.layout ?? SMALL_VENUE);
    const ordered = assignRelativeOrds(generated.map((t) => ({ ...t, seat: String(t.seat) })));
    const code = await this.store.nextPerformanceCode();
    for (const [i, part] of loadChunks(ordered).entries()) {
      await this.store.loadInventory(performanceId, i === 0 ? { name: performanceId, code } : { code }, part);
    }
    return generated.map((t) => t.id); // generation order: tickets 2k and 2k+1 are adjacent seats
  }

  private holdOptions(performanceId: string): HoldOptions {
    return { transactionId: randomUUID(), performanceId, caller: CALLER, holdSeconds: undefined };
  }

  /** Holds of given pairs (each a new transaction) on a performance of `tickets`; returns the transactions. */
  private async holds(performanceId: string, tickets: number, seconds: number) {
    const pairs = ticketPairs(await this.load(performanceId, tickets));
    const transactions: string[] = [];
    const run = await this.timed(seconds, pairs.length, async (i) => {
      const options = this.holdOptions(performanceId);
      await this.store.hold(options, pairs[i] as [string, string]);
      transactions.push(options.transactionId);
    });
    return { run, transactions };
  }

  private async bestHolds(performanceId: string, tickets: number, seconds: number) {
    await this.load(performanceId, tickets);
    return this.timed(seconds, Math.floor(tickets / 2), (_i) => this.store.holdBest(this.holdOptions(performanceId), { quantity: 2 }));
  }

  private async timed(seconds: number, limit: number, call: (i: number) => Promise<unknown>) {
    const redis = this.redis[0] as Redis;
    const redisBefore = await redisCpuSeconds(redis);
    const cpuBefore = process.cpuUsage();
    const r = await drive(this.inFlight, seconds, limit, call);
    const cpu = process.cpuUsage(cpuBefore);
    const redisUsed = (await redisCpuSeconds(redis)) - redisBefore;
    return {
      ...r,
      redisCpuUs: (redisUsed * 1e6) / Math.max(r.ops, 1),
      redisUtilisation: redisUsed / r.seconds,
      driverUtilisation: (cpu.user + cpu.system) / 1e6 / r.seconds,
    };
  }

  /** Tickets for a measured run of `seconds` at the warm-up's rate with headroom, at least `floor`. */
  private size(warmupOpsPerSecond: number, ticketsPerOp: number, floor: number): number {
    return Math.max(floor, Math.ceil(warmupOpsPerSecond * HEADROOM * this.job.durationSeconds * ticketsPerOp) + 2 * this.inFlight * ticketsPerOp);
  }

  async run(): Promise<CeilingResult> {
    const j = this.job;
    const warmTickets = Math.max(20_000, Math.ceil(j.warmupSeconds * 40_000));
    const result = (op: CeilingOp, performanceId: string, tickets: number, r: Awaited<ReturnType<Ceiling['timed']>>, warm: Awaited<ReturnType<Ceiling['timed']>>): CeilingRun => ({
      op,
      performance_id: performanceId,
      performance_tickets: tickets,
      ops: r.ops,
      errors: r.errors,
      ...(r.error ? { error: r.error } : {}),
      duration_seconds: r.seconds,
      ops_per_second: r.ops / r.seconds,
      latency_ms: { p50: percentile(r.latencies, 0.5), p99: percentile(r.latencies, 0.99) },
      redis_cpu_us_per_op: r.redisCpuUs,
      redis_cpu_utilisation: r.redisUtilisation,
      driver_cpu_utilisation: r.driverUtilisation,
      ended_early: r.endedEarly,
      warmup: { seconds: warm.seconds, ops_per_second: warm.ops / warm.seconds, errors: warm.errors },
    });

    // holds of 2 given tickets, then releases of those same transactions
    const holdWarm = await this.holds(`${j.prefix}-hold-warm`, warmTickets, j.warmupSeconds);
    const releaseWarm = await this.timed(j.warmupSeconds, holdWarm.transactions.length, (i) =>
      this.store.release({ caller: CALLER, transactionId: holdWarm.transactions[i] as string, performanceId: `${j.prefix}-hold-warm` }),
    );
    const holdPerformance = `${j.prefix}-hold`;
    const holdTickets = this.size(holdWarm.run.ops / holdWarm.run.seconds, 2, warmTickets);
    const held = await this.holds(holdPerformance, holdTickets, j.durationSeconds);
    const released = await this.timed(j.durationSeconds, held.transactions.length, (i) =>
      this.store.release({ caller: CALLER, transactionId: held.transactions[i] as string, performanceId: holdPerformance }),
    );

    // best-available holds of 2
    const bestWarm = await this.bestHolds(`${j.prefix}-best-warm`, warmTickets, j.warmupSeconds);
    const bestTickets = this.size(bestWarm.ops / bestWarm.seconds, 2, warmTickets);
    const best = await this.bestHolds(`${j.prefix}-best`, bestTickets, j.durationSeconds);

    return {
      connections: j.connections,
      in_flight: this.inFlight,
      layout: (j.layout ?? SMALL_VENUE).name,
      runs: [
        result('hold', holdPerformance, holdTickets, held.run, holdWarm.run),
        result('holdBest', `${j.prefix}-best`, bestTickets, best, bestWarm),
        // releases: of the measured holds' transactions, as many as there are (the run may end before its duration)
        result('release', holdPerformance, holdTickets, released, releaseWarm),
      ],
    };
  }

  close() {
    for (const r of this.redis) r.disconnect();
  }
}

/** Runs the ceiling measurement in a child process of its own; execArgv as for LoadClient.start. */
export function runCeiling(job: CeilingJob, execArgv: string[] = []): Promise<CeilingResult> {
  const module = path.join(__dirname, `ceiling${path.extname(__filename)}`);
  const child = fork(module, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.once('message', (reply: { ok: true; result: CeilingResult } | { ok: false; error: string }) => {
      settled = true;
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`ceiling: ${reply.error}`));
      child.disconnect();
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`ceiling child exited (${code ?? signal}) before it answered`));
    });
    child.send(job);
  });
}

// As the child: run the job the parent sends, answer once, leave.
if (require.main === module) {
  process.once('message', (job: CeilingJob) => {
    let ceiling: Ceiling | undefined;
    Ceiling.open(job)
      .then((c) => {
        ceiling = c;
        return c.run();
      })
      .then(
        (result) => process.send?.({ ok: true, result }),
        (err: unknown) => process.send?.({ ok: false, error: String((err as Error)?.stack ?? err) }),
      )
      .finally(() => ceiling?.close());
  });
  process.on('disconnect', () => process.exit(0));
}
