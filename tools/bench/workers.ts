// 1 against 2 API worker processes: the `tixlock api` command started twice beside the benchmark's tixlock, with
// API_WORKERS=1 and API_WORKERS=2 in its environment, both on the benchmark's private redis-server (REDIS_URL), and
// holds of 2 given tickets ((b)-style) and best-available holds of 2 measured on each. The servers' CPU is read
// from /proc for the whole process tree (a cluster primary and its workers).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { venueTickets } from '../common/venue';
import { loadBenchPerformance, ticketPairs } from './setup';
import { bestAvailableSpec, releaseLeftovers, toScenario, withCpu, type BenchContext, type CpuSource, type MeasuredResult } from './measure';
import type { LoadResult, LoadSpec } from './protocol';
import type { ScenarioResult } from './report';

const WORKER_COUNTS = [1, 2] as const;
type Workers = (typeof WORKER_COUNTS)[number];
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/** utime + stime (µs) of a process and every descendant still running (Linux /proc; 0 elsewhere). */
function treeCpuMicros(root: number): { micros: number; processes: number } {
  let entries: { pid: number; ppid: number; ticks: number }[];
  try {
    entries = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
          // the fields after "(comm)": state ppid ... utime (14th field overall) stime (15th)
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return [{ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
        } catch {
          return []; // gone meanwhile
        }
      });
  } catch {
    return { micros: 0, processes: 0 };
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of entries) {
      if (!tree.has(e.pid) && tree.has(e.ppid)) {
        tree.add(e.pid);
        grew = true;
      }
    }
  }
  const ticks = entries.filter((e) => tree.has(e.pid)).reduce((n, e) => n + e.ticks, 0);
  return { micros: (ticks * 1e6) / CLOCK_TICKS_PER_SECOND, processes: entries.filter((e) => tree.has(e.pid)).length };
}

/** `tixlock api` in a process of its own (a cluster primary with API_WORKERS > 1), found by its banner line. */
export class CliServer implements CpuSource {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string>, execArgv: string[]): Promise<CliServer> {
    const cli = path.join(__dirname, '..', '..', 'src', `cli${path.extname(__filename)}`);
    const child = spawn(process.execPath, [...execArgv, cli, 'api'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`tixlock api did not start within 60 s: ${out}`)), 60_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on (http:\/\/[^\s:]+:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve((m[1] as string).replace('localhost', '127.0.0.1'));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`tixlock api exited (${code ?? signal}) before it listened: ${out}`));
      });
    });
    child.stdout?.resume(); // keep draining its output
    return new CliServer(child, url);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async cpuMicros(): Promise<number> {
    return treeCpuMicros(this.pid).micros;
  }

  /** processes of its tree now (a primary with N workers: N + 1) */
  processes(): number {
    return treeCpuMicros(this.pid).processes;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface WorkersPlan {
  /** pairs of a 1,000-ticket performance for the fresh servers' warm-up (a hold + release loop) */
  warmPairs: [string, string][];
  /** per op, the input of each step in order: warm-up 1, warm-up 2, then slices 1, 2, 2, 1 */
  holdPairs: [string, string][][];
  bestRequests: number[];
}

export interface WorkersRow {
  workers: Workers;
  /** processes in the server's tree during the runs (1 without a cluster; a primary and N workers: N + 1) */
  processes: number;
  hold: ScenarioResult;
  best: ScenarioResult;
}

export interface WorkersResult {
  /** how the servers were started */
  command: string;
  rows: WorkersRow[];
  /** 2 workers over 1, requests/s */
  hold_ratio: number;
  best_ratio: number;
}

const WARM_ID = 'bench-workers-warm';
/**
 * A fresh server process needs thousands of requests before V8 has optimised its hot paths (seen here: CPU per
 * hold 2-3 × the steady state in its first second): each server first runs a hold + release loop for this many
 * times the warm-up (consuming no inventory), then the usual warm-up of each op.
 */
const FRESH_WARMUP_FACTOR = 4;
const STEPS: Workers[] = [1, 2, 1, 2, 2, 1]; // warm-ups (1, 2), then ABBA slices
const isWarm = (i: number) => i < 2;

/**
 * Inventories for both ops, sized per step: with 2 workers a run may outrun the 1-process calibration by up to the
 * number of workers the machine's cores can keep busy.
 */
export async function prepareWorkers(ctx: BenchContext): Promise<WorkersPlan> {
  const speedup = Math.max(1, Math.min(2, os.cpus().length / 2));
  const requests = STEPS.map((w, i) => Math.ceil(ctx.requestsFor(isWarm(i) ? ctx.warmupSeconds : ctx.halfSeconds) * (w === 2 ? speedup : 1)));
  const total = requests.reduce((a, b) => a + b, 0);
  ctx.log(`loading 2 × ${2 * total} tickets for the 1- and 2-worker runs`);
  const hold = venueTickets('w', 2 * total);
  await loadBenchPerformance(ctx.admin, 'bench-workers-hold', hold);
  await loadBenchPerformance(ctx.admin, 'bench-workers-best', venueTickets('wb', 2 * total));
  const all = ticketPairs(hold.map((t) => t.id));
  const holdPairs: [string, string][][] = [];
  let at = 0;
  for (const n of requests) {
    holdPairs.push(all.slice(at, at + n));
    at += n;
  }
  const warm = venueTickets('ww', 1000);
  await loadBenchPerformance(ctx.admin, WARM_ID, warm);
  return { warmPairs: ticketPairs(warm.map((t) => t.id)), holdPairs, bestRequests: requests };
}

export async function runWorkers(ctx: BenchContext, plan: WorkersPlan, dataDir: string, baseline: LoadResult): Promise<WorkersResult> {
  const servers = new Map<Workers, CliServer>();
  try {
    for (const w of WORKER_COUNTS) {
      const dir = path.join(dataDir, `workers-${w}`);
      fs.mkdirSync(dir, { recursive: true });
      const redisUrl = ctx.tixlock.redisUrl as string;
      ctx.log(`starting tixlock api with API_WORKERS=${w} on the same redis-server`);
      servers.set(w, await CliServer.start({ ...ctx.env, DATA_DIR: dir, REDIS_URL: redisUrl, API_WORKERS: String(w) }, ctx.execArgv));
    }
    const processes = new Map<Workers, number>([...servers].map(([w, s]) => [w, s.processes()]));
    for (const [w, server] of servers) {
      ctx.log(`    warming up the ${w}-worker server: hold + release loop for ${FRESH_WARMUP_FACTOR * ctx.warmupSeconds} s`);
      await ctx.load.run(ctx.job(server.url, { kind: 'hold-release', pairs: plan.warmPairs }, FRESH_WARMUP_FACTOR * ctx.warmupSeconds));
      await releaseLeftovers(ctx.db, ctx.api, WARM_ID, plan.warmPairs);
    }
    const measured = new Map<string, { warmup?: MeasuredResult; parts: MeasuredResult[] }>();
    const run = async (op: 'hold' | 'best', spec: LoadSpec, w: Workers, i: number, maxRequests: number) => {
      const server = servers.get(w) as CliServer;
      const seconds = isWarm(i) ? ctx.warmupSeconds : ctx.halfSeconds;
      const r = await withCpu(ctx.db, server, () => ctx.load.run(ctx.job(server.url, spec, seconds, maxRequests)));
      const key = `${op}-${w}`;
      const entry = measured.get(key) ?? { parts: [] };
      measured.set(key, entry);
      if (isWarm(i)) entry.warmup = r;
      else {
        entry.parts.push(r);
        ctx.log(`    ${op === 'hold' ? 'hold' : 'best available'}, ${w} worker${w > 1 ? 's' : ''}: ${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99} ms`);
      }
    };
    ctx.log(`1 and 2 API workers: holds, then best-available holds; warm-ups, then ${ctx.halfSeconds} s slices in the order 1, 2, 2, 1`);
    for (const [i, w] of STEPS.entries()) {
      const pairs = plan.holdPairs[i] ?? [];
      const spec: LoadSpec = { kind: 'list', method: 'POST', paths: ['/transaction'], bodies: pairs.map((p) => JSON.stringify({ tickets: p })) };
      await run('hold', spec, w, i, pairs.length);
    }
    for (const [i, w] of STEPS.entries()) await run('best', bestAvailableSpec('bench-workers-best'), w, i, plan.bestRequests[i] ?? 0);

    const scenario = (op: 'hold' | 'best', w: Workers) => {
      const m = measured.get(`${op}-${w}`) ?? { parts: [] };
      const name = `${op === 'hold' ? 'hold 2 given tickets' : 'best-available hold of 2'}, ${w} API worker${w > 1 ? 's' : ''}`;
      const request = op === 'hold' ? 'POST /transaction {"tickets":[2 ids]}' : 'POST /transaction {"performance_id","quantity":2}';
      return toScenario(`workers-${w}-${op}`, name, request, m.parts, baseline, m.warmup, ctx.warmupSeconds);
    };
    const rows: WorkersRow[] = WORKER_COUNTS.map((w) => ({ workers: w, processes: processes.get(w) ?? 0, hold: scenario('hold', w), best: scenario('best', w) }));
    const [one, two] = rows as [WorkersRow, WorkersRow];
    const ratio = (a: ScenarioResult, b: ScenarioResult) => (a.requests_per_second > 0 ? b.requests_per_second / a.requests_per_second : 0);
    return {
      command: 'tixlock api with API_WORKERS=1 and =2, REDIS_URL = the benchmark redis-server, LOG_LEVEL=error',
      rows,
      hold_ratio: ratio(one.hold, two.hold),
      best_ratio: ratio(one.best, two.best),
    };
  } finally {
    for (const s of servers.values()) await s.stop().catch(() => undefined);
  }
}
