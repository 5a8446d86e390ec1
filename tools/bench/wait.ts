// The cost of REDIS_WAIT_REPLICAS=1 on complete: a replica of the benchmark's redis-server is started, then two
// `tixlock api` servers on the benchmark's Redis, one with REDIS_WAIT_REPLICAS=0 and one with 1 (its completes wait
// for the replica's acknowledgement), and completes measured on each: warm-ups, then slices in the order 0, 1, 1, 0.
// Each complete sells a transaction opened beforehand through the benchmark's tixlock.
import fs from 'node:fs';
import path from 'node:path';
import { connectRedis } from '../../src/redis/connection';
import { startRedisServer, type EmbeddedRedis } from '../../src/redis/embedded';
import { venueTickets } from '../common/venue';
import { loadBenchPerformance } from './setup';
import { openingSpec, toScenario, withCpu, type BenchContext, type MeasuredResult } from './measure';
import type { LoadResult, LoadSpec } from './protocol';
import type { ScenarioResult } from './report';
import { CliServer } from './workers';

const WAITS = [0, 1] as const;
type Wait = (typeof WAITS)[number];
const STEPS: Wait[] = [0, 1, 0, 1, 1, 0]; // warm-ups (0, 1), then ABBA slices
const isWarm = (i: number) => i < 2;

export interface WaitPlan {
  /** per step, the transactions its completes sell (paths /transaction/{id}) */
  paths: string[][];
}

export interface WaitRow {
  replicas: Wait;
  complete: ScenarioResult;
}

export interface WaitResult {
  command: string;
  rows: WaitRow[];
  /** WAIT 1 over WAIT 0: requests/s, and p99 */
  rate_ratio: number;
  p99_ratio: number;
}

/** Opens, through the benchmark's tixlock, the transactions every step's completes will sell. */
export async function prepareWait(ctx: BenchContext): Promise<WaitPlan> {
  const counts = STEPS.map((_, i) => ctx.requestsFor(isWarm(i) ? ctx.warmupSeconds : ctx.halfSeconds));
  const total = counts.reduce((a, b) => a + b, 0);
  ctx.log(`opening ${total} transactions for the WAIT 0 / WAIT 1 completes`);
  const tickets = venueTickets('wt', 2 * total);
  await loadBenchPerformance(ctx.admin, 'bench-wait', tickets);
  // the duration only caps the run (it ends after `total` requests): generous, since a loaded machine is slow
  const opened = await ctx.load.run(ctx.job(ctx.tixlock.url, openingSpec(tickets.map((t) => t.id)), Math.max(300, total / 50), total));
  if (opened.non2xx + opened.errors + opened.timeouts > 0) throw new Error(`opening transactions failed: ${JSON.stringify(opened.statusCodes)}`);
  const all = (opened.transactionIds ?? []).map((id) => `/transaction/${id}`);
  // every step needs its transactions: a short count would leave a later step with nothing to complete
  if (all.length < total) throw new Error(`opened ${all.length} of ${total} transactions for the WAIT rows`);
  const paths: string[][] = [];
  let at = 0;
  for (const n of counts) {
    paths.push(all.slice(at, at + n));
    at += n;
  }
  return { paths };
}

export async function runWait(ctx: BenchContext, plan: WaitPlan, dataDir: string, baseline: LoadResult): Promise<WaitResult> {
  const redisUrl = ctx.tixlock.redisUrl as string;
  const primaryPort = Number(new URL(redisUrl).port);
  let replica: EmbeddedRedis | undefined;
  const servers = new Map<Wait, CliServer>();
  try {
    ctx.log('starting a replica of the benchmark redis-server');
    replica = await startRedisServer(process.env.REDIS_SERVER_BIN ?? 'redis-server', path.join(dataDir, 'wait-replica'));
    const admin = await connectRedis(replica.url, { commandTimeoutMs: 60_000 });
    try {
      await admin.call('REPLICAOF', '127.0.0.1', String(primaryPort));
      for (let waited = 0; !/master_link_status:up/.test(await admin.info('replication')); waited += 200) {
        if (waited > 120_000) throw new Error('the replica did not sync within 2 minutes');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      admin.disconnect();
    }
    for (const w of WAITS) {
      const dir = path.join(dataDir, `wait-${w}`);
      fs.mkdirSync(dir, { recursive: true });
      ctx.log(`starting tixlock api with REDIS_WAIT_REPLICAS=${w}`);
      servers.set(
        w,
        await CliServer.start({ ...ctx.env, DATA_DIR: dir, REDIS_URL: redisUrl, REDIS_WAIT_REPLICAS: String(w), REDIS_WAIT_TIMEOUT_MS: '1000' }, ctx.execArgv),
      );
    }
    const bodies = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ status: 'complete', customer: { email: `wait-${i}@example.com`, first_name: 'Bench' }, payment_reference: `wait-${i}` }),
    );
    const measured = new Map<Wait, { warmup?: MeasuredResult; parts: MeasuredResult[] }>();
    ctx.log(`completes with WAIT 0 and WAIT 1: warm-ups, then ${ctx.halfSeconds} s slices in the order 0, 1, 1, 0`);
    for (const [i, w] of STEPS.entries()) {
      const server = servers.get(w) as CliServer;
      const paths = plan.paths[i] ?? [];
      const spec: LoadSpec = { kind: 'list', method: 'PUT', paths, bodies };
      const seconds = isWarm(i) ? ctx.warmupSeconds : ctx.halfSeconds;
      const r = await withCpu(ctx.db, server, () => ctx.load.run(ctx.job(server.url, spec, seconds, paths.length)));
      const entry = measured.get(w) ?? { parts: [] };
      measured.set(w, entry);
      if (isWarm(i)) entry.warmup = r;
      else {
        entry.parts.push(r);
        ctx.log(`    complete, WAIT ${w}: ${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99} ms`);
      }
    }
    const rows: WaitRow[] = WAITS.map((w) => {
      const m = measured.get(w) ?? { parts: [] };
      const complete = toScenario(
        `wait-${w}-complete`,
        `complete (sell), REDIS_WAIT_REPLICAS=${w}`,
        'PUT /transaction/{id} {"status":"complete","customer",...}, each open transaction once',
        m.parts,
        baseline,
        m.warmup,
        ctx.warmupSeconds,
      );
      return { replicas: w, complete };
    });
    const [none, one] = rows as [WaitRow, WaitRow];
    return {
      command: 'tixlock api with REDIS_WAIT_REPLICAS=0 and =1 (REDIS_WAIT_TIMEOUT_MS=1000), REDIS_URL = the benchmark redis-server, one local replica of it',
      rows,
      rate_ratio: none.complete.requests_per_second > 0 ? one.complete.requests_per_second / none.complete.requests_per_second : 0,
      p99_ratio: none.complete.latency_ms.p99 > 0 ? one.complete.latency_ms.p99 / none.complete.latency_ms.p99 : 0,
    };
  } finally {
    for (const s of servers.values()) await s.stop().catch(() => undefined);
    await replica?.stop().catch(() => undefined);
  }
}
