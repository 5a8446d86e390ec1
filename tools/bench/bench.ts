// `npm run bench`: tixlock's throughput and latency against the ceiling of its framework, how holds scale with
// inventory size, and Redis memory per available and per locked ticket. Prints a markdown table, writes JSON.
//
// How it measures (all on one machine, in one run), with four processes:
// - tixlock in a child process of its own (server.ts: startService, the API only, no order writer, on a
//   private redis-server, LOG_LEVEL=error), and the baseline (a), a bare Express 5 app, in another: each server
//   process holds only its own state, never the benchmark's bookkeeping (a large live heap slows every major GC).
// - The client is autocannon in a third child (load-client.ts), so it never shares an event loop with a server
//   it measures; the baseline and every tixlock scenario are measured by the same child, the same way.
// - This process only orchestrates: it loads inventories through the API, reads Redis memory, hands the load
//   generator its request lists and waits while it runs. It reads the CPU time each run cost the serving process
//   and redis-server (per request), which explains the rates better than the rates alone on a 2-core machine.
// - Every scenario gets a warm-up run, then a measured run of a fixed duration at 50 connections. Inventories are
//   sized from a calibration run so no scenario runs out of tickets or transactions (and a run that would, stops
//   early and says so).
// - Memory is read on a quiet Redis (nothing else running): INFO used_memory before and after loading the large
//   inventory, and before and after holding tickets of it.
// - After rows (a)-(f), groups of their own modules: best available on three venues (venues.ts), another
//   performance beside a stadium on-sale (mixed.ts, with a second load generator), 1 and 2 API workers
//   (workers.ts, two more `tixlock api` servers on the same Redis) and the single-shard ceiling
//   (ceiling.ts, the lock store driven directly from a child). Their inventories are loaded with the others,
//   before the AOF rewrite; the ceiling loads its own.
// - Last, the season row: a tixlock of its own with its order writer sells, closes, archives and expires a season
//   (season.ts), Redis memory read at each step; and the idle writer's Redis commands/s with few and many
//   performances (idle-writer.ts, shared with test/writer-idle-cost.test.ts). `--only season` runs just this row.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { TixlockClient } from '../../src/client';
import { runCeiling, type CeilingResult } from './ceiling';
import { LoadClient } from './load-client';
import { venueTickets, type VenueTicket } from '../common/venue';
import { forEachConcurrently, loadBenchPerformance, setupClient, ticketPairs } from './setup';
import {
  combine,
  openingSpec,
  releaseLeftovers,
  rewriteAof,
  toScenario,
  withCpu,
  writeBackSettled,
  type BenchContext,
  type MeasuredResult,
} from './measure';
import { holdBytes, inventoryBytes, keyspace, settledMemory, ticketIndexBytes } from './memory';
import { prepareMixed, runMixed } from './mixed';
import type { LoadJob, LoadResult, LoadSpec } from './protocol';
import { ServerProcess, tixlockEnv } from './server';
import { checkTargets, renderMarkdown, seasonLines, seasonTargets, type BenchReport, type MemoryResult, type ScaleResult, type SeasonReport } from './report';
import { prepareVenues, runVenues } from './venues';
import { prepareWait, runWait } from './wait';
import { measureIdleWriter } from './idle-writer';
import { runSeason, type SeasonSize } from './season';
import { prepareWorkers, runWorkers } from './workers';

export interface BenchOptions {
  mode: 'full' | 'quick';
  connections: number;
  /** measured seconds per scenario */
  durationSeconds: number;
  /** warm-up seconds before each measured run */
  warmupSeconds: number;
  /** the large inventory of the hold-scale comparison and the memory measurement */
  largeTickets: number;
  /** the small inventory of the hold-scale comparison */
  smallTickets: number;
  /** tickets held (in pairs) for the memory-per-locked-ticket measurement */
  lockedTickets: number;
  /** the fewest tickets of each stadium performance (more when the calibration needs more) */
  stadiumTickets: number;
  /** the single-shard ceiling: ioredis connections, calls in flight on each */
  ceilingConnections: number;
  ceilingInFlight: number;
  /** the season row: performances and tickets of each */
  season: SeasonSize;
  /** the idle writer's cost measured with this few and this many performances created, over `idleWriterSweeps` sweeps */
  idleWriterPerformances: [number, number];
  idleWriterSweeps: number;
  /**
   * node options of the child processes (default: this process's, so `node --cpu-prof dist/tools/bench/bench.js`
   * profiles the servers and the load generator too); running from TypeScript sources needs a require hook.
   */
  childExecArgv?: string[];
  /** progress lines (default: stderr) */
  progress?: (line: string) => void;
  /** settings added to the environment of every tixlock the benchmark starts, the season row's too (the smoke test's longer Redis timeout) */
  serviceEnv?: Record<string, string>;
}

export function benchOptions(mode: 'full' | 'quick', overrides: Partial<BenchOptions> = {}): BenchOptions {
  const base: Omit<BenchOptions, 'ceilingConnections' | 'ceilingInFlight'> =
    mode === 'full'
      ? {
          mode,
          connections: 50,
          durationSeconds: 10,
          warmupSeconds: 2,
          largeTickets: 1_000_000,
          smallTickets: 1_000,
          lockedTickets: 20_000,
          stadiumTickets: 200_000,
          season: { performances: 200, ticketsPerPerformance: 300 },
          idleWriterPerformances: [10, 1000],
          idleWriterSweeps: 2,
        }
      : {
          mode,
          connections: 50,
          durationSeconds: 1,
          warmupSeconds: 0.5,
          largeTickets: 20_000,
          smallTickets: 1_000,
          lockedTickets: 1_000,
          stadiumTickets: 20_000,
          season: { performances: 20, ticketsPerPerformance: 200 },
          idleWriterPerformances: [10, 100],
          idleWriterSweeps: 1,
        };
  return { ...base, ceilingConnections: 4, ceilingInFlight: 50, ...overrides };
}

const CLIENT_KEY = 'bench-client-key-0001';
const ADMIN_KEY = 'bench-admin-key-0001';
/** the pairs of the hold + release loop, on either inventory */
const SCALE_PAIRS = 500;
/** headroom over the calibrated rate when sizing inventories */
const HEADROOM = 1.5;

function redisVersion(info: string): string {
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/**
 * One run: start the processes, calibrate, load the inventories (measuring memory on the way), rewrite the AOF,
 * then the timed runs (round 1, the hold-scale loops, round 2), the scenario groups and the report. Each phase is a
 * function below, in this order.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = new Date();
  const log = options.progress ?? ((line: string) => process.stderr.write(`[bench +${((Date.now() - started.getTime()) / 1000).toFixed(1)}s] ${line}\n`));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-bench-'));
  const processes: Processes = {};
  try {
    const rig = await startProcesses(options, log, dataDir, processes);
    const calibration = await calibrate(rig);
    const { memory, scale } = await loadScaleInventories(rig);
    const inputs = await prepareScenarioInputs(rig, calibration.requestsFor);
    const ctx = contextOf(rig, calibration.requestsFor);
    const plans = await prepareGroups(ctx, options.stadiumTickets);
    const autoRewrite = await rewriteAofBeforeRuns(rig);

    const list = scenarioList(rig, inputs);
    const runs = await runRoundOne(rig, list);
    const holdScale = await runHoldScale(rig, scale);
    await runRoundTwo(rig, list, runs);
    const baseline = combine(runs.get('a')?.halves ?? []);
    const groups = await runGroups(ctx, plans, rig, baseline);
    await rig.db.config('SET', 'auto-aof-rewrite-percentage', autoRewrite);
    const season = await runSeasonRow(options, log);

    const scenarios = list.map((sc) => {
      const r = runs.get(sc.id) ?? { warmup: undefined, halves: [] };
      return toScenario(sc.id, sc.name, sc.request, r.halves, baseline, r.warmup, options.warmupSeconds);
    });
    const partial: Omit<BenchReport, 'targets'> = {
      ...(await runFacts(rig, started)),
      setup: setupOf(rig, calibration.requestsPerSecond, inputs, scale, plans),
      scenarios,
      inventory_scale: scaleResults(scale, holdScale, baseline, options.warmupSeconds),
      memory,
      ...groups,
      season,
    };
    return { ...partial, targets: checkTargets(partial) };
  } finally {
    await stopProcesses(processes);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The season row: a season in a tixlock of its own (season.ts), then the idle writer with few and many performances
 * (idle-writer.ts: a redis-server of its own, the API and the writer in this process; Redis commands are counted,
 * not timed, so it may share this process).
 */
export async function runSeasonRow(o: BenchOptions, log: (line: string) => void): Promise<SeasonReport> {
  const { performances, ticketsPerPerformance } = o.season;
  log(`season: ${performances} performances of ${ticketsPerPerformance} tickets sold, closed, archived and expired (its own tixlock with the order writer)`);
  const memory = await runSeason(o.season, o.childExecArgv ?? process.execArgv, (line) => log(`    ${line}`), o.serviceEnv);
  log(`    used_memory: baseline ${memory.baseline.used_memory}, after sales ${memory.after_sales.used_memory}, after archive ${memory.after_archive.used_memory}, after expiry ${memory.after_expiry.used_memory} (${memory.ratio_after_expiry.toFixed(3)} ×)`);
  const [fewN, manyN] = o.idleWriterPerformances;
  log(`idle order writer: Redis commands/s with ${fewN} and ${manyN} performances, ${o.idleWriterSweeps} sweep(s) each`);
  const few = await measureIdleWriter(fewN, { sweeps: o.idleWriterSweeps });
  const many = await measureIdleWriter(manyN, { sweeps: o.idleWriterSweeps });
  const ratio = few.commandsPerSecond > 0 ? many.commandsPerSecond / few.commandsPerSecond : Number.POSITIVE_INFINITY;
  log(`    ${few.commandsPerSecond.toFixed(2)} vs ${many.commandsPerSecond.toFixed(2)} commands/s (${ratio.toFixed(2)} ×)`);
  return { memory, idle_writer: { few, many, ratio_many_to_few: ratio } };
}

/** The processes a run has started so far: stopped at its end, however far it got. */
interface Processes {
  service?: ServerProcess;
  bare?: ServerProcess;
  redis?: Redis;
  client?: LoadClient;
}

/** A run's processes and clients, and how it phrases a load job. */
interface Rig {
  o: BenchOptions;
  log: (line: string) => void;
  dataDir: string;
  /** tixlock's environment */
  env: Record<string, string>;
  /** node options of the child processes */
  execArgv: string[];
  tixlock: ServerProcess;
  bareApp: ServerProcess;
  load: LoadClient;
  /** tixlock's private redis-server */
  db: Redis;
  /** set-up clients with the client and the admin key */
  api: TixlockClient;
  admin: TixlockClient;
  job: BenchContext['job'];
}

/** One step of a scenario: what the load generator sends, and at most how many requests. */
type Step = { spec: LoadSpec; maxRequests?: number };

/** A row (a)-(f): its server, its warm-up and the steps of its two measured halves. */
interface Scenario {
  id: string;
  name: string;
  request: string;
  server: ServerProcess;
  warm: Step;
  halves: [Step, Step];
}

/** Each row's warm-up and halves, by id. */
type Runs = Map<string, { warmup: MeasuredResult; halves: MeasuredResult[] }>;

/** An inventory of the hold + release loop: its performance and the pairs the loop holds and releases. */
interface ScaleInventory {
  performanceId: string;
  pairs: [string, string][];
  tickets: number;
}

type ScaleInventories = Record<'small' | 'large', ScaleInventory>;

/** The input rows (b)-(e) consume, loaded and opened before the timed runs. */
interface ScenarioInputs {
  /** requests a warm-up and a half can make */
  need: { warm: number; half: number };
  /** tickets of bench-hold and bench-best: 2 × (a warm-up and two halves) */
  perScenario: number;
  holdPairs: [string, string][];
  /** transactions opened: those checkout (d) extends round-robin, then those complete (e) sells once each */
  openCount: number;
  checkoutPaths: string[];
  completePaths: string[];
}

type GroupPlans = {
  venues: Awaited<ReturnType<typeof prepareVenues>>;
  mixed: Awaited<ReturnType<typeof prepareMixed>>;
  workers: Awaited<ReturnType<typeof prepareWorkers>>;
  wait: Awaited<ReturnType<typeof prepareWait>>;
};

/** the baseline (a)'s request */
const BARE_SPEC: LoadSpec = { kind: 'list', method: 'POST', paths: ['/bare'], bodies: [JSON.stringify({ tickets: ['bare-ORCH-R1-1', 'bare-ORCH-R1-2'] })] };

/** Starts tixlock (API only, on a private redis-server), the bare Express app and the load generator. */
async function startProcesses(o: BenchOptions, log: Rig['log'], dataDir: string, started: Processes): Promise<Rig> {
  const env = tixlockEnv(dataDir, 'bench', { client: CLIENT_KEY, admin: ADMIN_KEY }, {
    // holds made early in the run must still be live for checkout and complete minutes later
    LOCK_TTL_SECONDS: '3600',
    MAX_HOLD_SECONDS: '3600',
    ...o.serviceEnv,
  });
  log(`starting tixlock (API only, private redis-server) in ${dataDir}, the bare Express app and the load generator`);
  const execArgv = o.childExecArgv ?? process.execArgv;
  const tixlock = await ServerProcess.start({ kind: 'tixlock', env }, execArgv);
  started.service = tixlock;
  if (!tixlock.redisUrl) throw new Error('expected a private redis-server');
  const db = new Redis(tixlock.redisUrl);
  started.redis = db;
  const api = setupClient(tixlock.url, CLIENT_KEY);
  const admin = setupClient(tixlock.url, ADMIN_KEY);
  const bareApp = await ServerProcess.start({ kind: 'bare' }, execArgv);
  started.bare = bareApp;
  const load = LoadClient.start(execArgv);
  started.client = load;

  const jsonHeaders = { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' };
  const getHeaders = { authorization: `Bearer ${CLIENT_KEY}` };
  const job = (base: string, spec: LoadSpec, seconds: number, maxRequests?: number, connections = o.connections): LoadJob => ({
    url: base,
    connections,
    durationSeconds: seconds,
    maxRequests,
    headers: spec.kind === 'list' && spec.method === 'GET' ? getHeaders : jsonHeaders,
    spec,
  });
  return { o, log, dataDir, env, execArgv, tixlock, bareApp, load, db, api, admin, job };
}

async function stopProcesses(started: Processes): Promise<void> {
  await started.client?.close().catch(() => undefined);
  await started.bare?.stop().catch(() => undefined);
  started.redis?.disconnect();
  await started.service?.stop().catch(() => undefined);
}

/**
 * How fast is this machine now? Inventories are sized from it: no tixlock scenario can outrun the bare framework,
 * so its rate with headroom bounds every scenario's needs.
 */
async function calibrate({ o, load, bareApp, job, log }: Rig) {
  await load.run(job(bareApp.url, BARE_SPEC, Math.max(1, o.warmupSeconds)));
  const calibration = await load.run(job(bareApp.url, BARE_SPEC, 1));
  const perSecond = Math.max(calibration.requestsPerSecond, 2000); // a busy moment must not size them too small
  const requestsFor = (seconds: number) => Math.ceil(perSecond * HEADROOM * seconds) + 4 * o.connections;
  log(`calibration: bare Express answers ${Math.round(calibration.requestsPerSecond)} req/s`);
  return { requestsPerSecond: calibration.requestsPerSecond, requestsFor };
}

/**
 * Loads the small and the large inventory of the hold-scale comparison, measuring Redis memory on a quiet Redis
 * on the way: per available ticket (loading the large one) and per locked ticket (holding some of it in pairs).
 * The loop's pairs are spread over the part of each inventory nobody else holds.
 */
async function loadScaleInventories({ o, log, db, api, admin }: Rig): Promise<{ memory: BenchReport['memory']; scale: ScaleInventories }> {
  const small = venueTickets('s1k', o.smallTickets);
  log(`loading the ${small.length}-ticket inventory`);
  await loadBenchPerformance(admin, 'bench-small', small);

  const large = venueTickets('l1m', o.largeTickets);
  log(`loading the ${large.length}-ticket inventory (memory per available ticket)`);
  const available = await measureAvailable(db, admin, 'bench-large', large);

  // one hold and release first, so the hold and release scripts are already in Redis's script cache
  const first = await api.holdTickets(small.slice(0, 2).map((t) => t.id));
  await api.release(first.transaction_id);
  const lockedPairs = ticketPairs(large.slice(0, o.lockedTickets).map((t) => t.id));
  log(`holding ${lockedPairs.length * 2} tickets of it (memory per locked ticket)`);
  const locked = await measureLocked(db, api, 'bench-large', lockedPairs);

  const largeFree = large.slice(o.lockedTickets);
  const largePairs = Array.from({ length: SCALE_PAIRS }, (_, j) => {
    const at = 2 * Math.floor((j * (largeFree.length / 2 - 1)) / SCALE_PAIRS);
    return [largeFree[at]?.id, largeFree[at + 1]?.id] as [string, string];
  });
  const smallPairs = ticketPairs(small.map((t) => t.id)).slice(0, SCALE_PAIRS);
  // the million ticket objects go with this function, before the timed runs: only the pairs are kept
  return {
    memory: { available, locked },
    scale: {
      small: { performanceId: 'bench-small', pairs: smallPairs, tickets: small.length },
      large: { performanceId: 'bench-large', pairs: largePairs, tickets: o.largeTickets },
    },
  };
}

/**
 * Inventories and open transactions for rows (b)-(e), sized so no run can run out. Checkout (d) extends a fixed set
 * of transactions round-robin; complete (e) sells each of the others once (round 2 runs (e) before (d), so the two
 * never share a transaction).
 */
async function prepareScenarioInputs({ o, log, admin, load, job, tixlock }: Rig, requestsFor: (seconds: number) => number): Promise<ScenarioInputs> {
  const need = { warm: requestsFor(o.warmupSeconds), half: requestsFor(o.durationSeconds / 2) };
  const perScenario = need.warm + 2 * need.half;
  log(`loading 3 × ${2 * perScenario} tickets: for holds (b), best-available holds (c), and transactions for (d) and (e)`);
  const holdInventory = venueTickets('h', 2 * perScenario);
  const holdPairs = ticketPairs(holdInventory.map((t) => t.id));
  await loadBenchPerformance(admin, 'bench-hold', holdInventory);
  await loadBenchPerformance(admin, 'bench-best', venueTickets('c', 2 * perScenario));
  const checkoutCount = Math.min(2000, need.half);
  const openCount = perScenario + checkoutCount;
  const openInventory = venueTickets('t', 2 * openCount);
  await loadBenchPerformance(admin, 'bench-open', openInventory);
  log(`opening ${openCount} transactions for checkout (d) and complete (e)`);
  const opened = await load.run(job(tixlock.url, openingSpec(openInventory.map((t) => t.id)), Math.max(60, openCount / 200), openCount));
  if (opened.non2xx + opened.errors + opened.timeouts > 0) throw new Error(`opening transactions failed: ${JSON.stringify(opened.statusCodes)}`);
  const opens = (opened.transactionIds ?? []).map((id) => `/transaction/${id}`);
  return { need, perScenario, holdPairs, openCount, checkoutPaths: opens.slice(0, checkoutCount), completePaths: opens.slice(checkoutCount) };
}

/** What the scenario groups (venues, mixed, workers, wait) get of the run. */
function contextOf(rig: Rig, requestsFor: (seconds: number) => number): BenchContext {
  const { log, db, tixlock, api, admin, load, execArgv, env, job, o } = rig;
  return { log, db, tixlock, api, admin, load, execArgv, env, connections: o.connections, warmupSeconds: o.warmupSeconds, halfSeconds: o.durationSeconds / 2, job, requestsFor };
}

/** The inventories of the scenario groups that run after round 2, loaded now with the others (before the AOF rewrite). */
async function prepareGroups(ctx: BenchContext, stadiumTickets: number): Promise<GroupPlans> {
  const venues = await prepareVenues(ctx, stadiumTickets);
  const mixed = await prepareMixed(ctx);
  const workers = await prepareWorkers(ctx);
  const wait = await prepareWait(ctx);
  return { venues, mixed, workers, wait };
}

/**
 * Rewrites the AOF now (the loads grew it by hundreds of MB) and lets the kernel write the new file out, then
 * switches Redis's automatic rewrite off until the timed runs are over: a rewrite forks a Redis of ~300 MB, and the
 * fork, its copy-on-write and the write-back cost CPU that has nothing to do with the scenario being measured (one
 * landing in a run was seen to cut it by a third). AOF writes and fsync stay on. Each run records the forks it saw
 * (redis_forks). Returns the setting to restore.
 */
async function rewriteAofBeforeRuns({ db, log }: Rig): Promise<string> {
  log('rewriting the AOF before the timed runs');
  await rewriteAof(db);
  await writeBackSettled();
  const rewritePercentage = ((await db.config('GET', 'auto-aof-rewrite-percentage')) as string[])[1] ?? '100';
  await db.config('SET', 'auto-aof-rewrite-percentage', '0');
  return rewritePercentage;
}

/** Rows (a)-(f): each one's server, warm-up and halves. */
function scenarioList({ bareApp, tixlock }: Rig, inputs: ScenarioInputs): Scenario[] {
  const { need, holdPairs } = inputs;
  const holdSpec = (pairs: [string, string][]): Step => ({
    spec: { kind: 'list', method: 'POST', paths: ['/transaction'], bodies: pairs.map((p) => JSON.stringify({ tickets: p })) },
    maxRequests: pairs.length,
  });
  const bestSpec: LoadSpec = { kind: 'list', method: 'POST', paths: ['/transaction'], bodies: [JSON.stringify({ performance_id: 'bench-best', quantity: 2 })] };
  const best = (maxRequests: number): Step => ({ spec: bestSpec, maxRequests });
  const checkout: Step = { spec: { kind: 'list', method: 'PUT', paths: inputs.checkoutPaths, bodies: [JSON.stringify({ status: 'checkout' })] } };
  const complete = completeSteps(inputs);
  // on the large inventory: (b) may have held every ticket of its own
  const search: Step = { spec: { kind: 'list', method: 'GET', paths: ['/tickets?performance_id=bench-large&quantity=2'] } };
  const bare: Step = { spec: BARE_SPEC };
  const tix = { server: tixlock };
  return [
    { id: 'a', name: 'bare Express 5: JSON body in, JSON out', request: 'POST /bare {"tickets":[2 ids]}', server: bareApp, warm: bare, halves: [bare, bare] },
    {
      id: 'b',
      name: 'hold 2 given tickets',
      request: 'POST /transaction {"tickets":[2 ids]}, different tickets each request',
      ...tix,
      warm: holdSpec(holdPairs.slice(0, need.warm)),
      halves: [holdSpec(holdPairs.slice(need.warm, need.warm + need.half)), holdSpec(holdPairs.slice(need.warm + need.half))],
    },
    { id: 'c', name: 'best-available hold of 2', request: 'POST /transaction {"performance_id","quantity":2}', ...tix, warm: best(need.warm), halves: [best(need.half), best(need.half)] },
    {
      id: 'd',
      name: 'checkout (extend)',
      request: 'PUT /transaction/{id} {"status":"checkout"}, round-robin over open transactions',
      ...tix,
      warm: checkout,
      halves: [checkout, checkout],
    },
    {
      id: 'e',
      name: 'complete (sell)',
      request: 'PUT /transaction/{id} {"status":"complete","customer",...}, each open transaction once',
      ...tix,
      ...complete,
    },
    { id: 'f', name: 'search (GET /tickets)', request: 'GET /tickets?performance_id=…&quantity=2', ...tix, warm: search, halves: [search, search] },
  ];
}

/** Complete (e): each open transaction once, a fifth at most for the warm-up, the rest in two halves. */
function completeSteps({ need, completePaths }: ScenarioInputs): Pick<Scenario, 'warm' | 'halves'> {
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({ status: 'complete', customer: { email: `buyer-${i}@example.com`, first_name: 'Bench' }, payment_reference: `pay-${i}` }),
  );
  const complete = (paths: string[]): Step => ({ spec: { kind: 'list', method: 'PUT', paths, bodies }, maxRequests: paths.length });
  const warm = Math.min(need.warm, Math.floor(completePaths.length / 5));
  const half = Math.floor((completePaths.length - warm) / 2);
  return {
    warm: complete(completePaths.slice(0, warm)),
    halves: [complete(completePaths.slice(warm, warm + half)), complete(completePaths.slice(warm + half))],
  };
}

const runStep = ({ db, load, job }: Rig, sc: Scenario, step: Step, seconds: number) =>
  withCpu(db, sc.server, () => load.run(job(sc.server.url, step.spec, seconds, step.maxRequests)));

/**
 * Round 1: a..f, each warmed up, then half its duration; round 2 (after the hold-scale runs): f..a, the other half.
 * Each scenario's result is the sum of its halves, so a machine that speeds up or slows down during the run (it
 * does, on a shared 2-core machine) favours no scenario over another.
 */
async function runRoundOne(rig: Rig, list: Scenario[]): Promise<Runs> {
  const { o, log } = rig;
  const half = o.durationSeconds / 2;
  const runs: Runs = new Map();
  log(`round 1: (a)..(f), ${o.warmupSeconds} s warm-up and ${half} s each`);
  for (const sc of list) {
    const warmup = await runStep(rig, sc, sc.warm, o.warmupSeconds);
    const first = await runStep(rig, sc, sc.halves[0], half);
    runs.set(sc.id, { warmup, halves: [first] });
    log(`    (${sc.id}) ${sc.name}: ${Math.round(first.requestsPerSecond)} req/s, p99 ${first.latencyMs.p99} ms, non-2xx ${first.non2xx}`);
  }
  return runs;
}

/** Round 2: f..a, the second half of each (see runRoundOne). */
async function runRoundTwo(rig: Rig, list: Scenario[], runs: Runs): Promise<void> {
  const half = rig.o.durationSeconds / 2;
  rig.log(`round 2: (f)..(a), ${half} s each`);
  for (const sc of [...list].reverse()) {
    const second = await runStep(rig, sc, sc.halves[1], half);
    runs.get(sc.id)?.halves.push(second);
    rig.log(`    (${sc.id}) ${sc.name}: ${Math.round(second.requestsPerSecond)} req/s, p99 ${second.latencyMs.p99} ms, non-2xx ${second.non2xx}`);
  }
}

/**
 * Holds on the small and the large inventory, compared: a hold + release loop (a small inventory cannot be held
 * for seconds otherwise), measured in ABBA order (small, large, large, small; half the duration each).
 */
async function runHoldScale(rig: Rig, scale: ScaleInventories) {
  const { o, log, db, api, load, job, tixlock } = rig;
  const loop = async (which: keyof ScaleInventories, seconds: number) => {
    const inv = scale[which];
    const result = await withCpu(db, tixlock, () => load.run(job(tixlock.url, { kind: 'hold-release', pairs: inv.pairs }, seconds)));
    // a run ends with up to one hold per connection in flight, never released: release those before the next
    await releaseLeftovers(db, api, inv.performanceId, inv.pairs);
    return result;
  };
  log(`hold + release loop on the ${scale.small.tickets}- and ${o.largeTickets}-ticket inventories: ${o.warmupSeconds} s warm-up each, then ABBA`);
  const warmups = { small: await loop('small', o.warmupSeconds), large: await loop('large', o.warmupSeconds) };
  const slices: Record<keyof ScaleInventories, MeasuredResult[]> = { small: [], large: [] };
  for (const which of ['small', 'large', 'large', 'small'] as const) slices[which].push(await loop(which, o.durationSeconds / 2));
  return { warmups, slices };
}

/**
 * The scenario groups: venues, the mixed row, 1 and 2 API workers, WAIT 0 and 1, then the single-shard ceiling
 * (which loads its own performances through the lock store).
 */
async function runGroups(ctx: BenchContext, plans: GroupPlans, rig: Rig, baseline: LoadResult) {
  const venues = await runVenues(ctx, plans.venues, baseline);
  const mixed = await runMixed(ctx, plans.mixed, plans.venues.stadiumId, baseline);
  const workers = await runWorkers(ctx, plans.workers, rig.dataDir, baseline);
  const wait = await runWait(ctx, plans.wait, rig.dataDir, baseline);
  const ceiling = await measureCeiling(rig);
  return { venues, mixed, ceiling, workers, wait };
}

async function measureCeiling({ o, log, tixlock, env, execArgv }: Rig): Promise<CeilingResult> {
  log(`single-shard ceiling: the lock store over ${o.ceilingConnections} connections × ${o.ceilingInFlight} calls in flight, ${o.warmupSeconds} s warm-up and ${o.durationSeconds} s per op`);
  const ceiling = await runCeiling(
    {
      redisUrl: tixlock.redisUrl as string,
      env,
      prefix: 'bench-ceiling',
      connections: o.ceilingConnections,
      inFlightPerConnection: o.ceilingInFlight,
      warmupSeconds: o.warmupSeconds,
      durationSeconds: o.durationSeconds,
    },
    execArgv,
  );
  for (const c of ceiling.runs) {
    log(`    ${c.op}: ${Math.round(c.ops_per_second)} ops/s, Redis ${c.redis_cpu_us_per_op.toFixed(1)} µs/op, Redis busy ${Math.round(c.redis_cpu_utilisation * 100)} %`);
  }
  return ceiling;
}

/** The hold + release loop's results on each inventory, and their ratio. */
function scaleResults(scale: ScaleInventories, run: Awaited<ReturnType<typeof runHoldScale>>, baseline: LoadResult, warmupSeconds: number): BenchReport['inventory_scale'] {
  const result = (which: keyof ScaleInventories): ScaleResult => {
    const inv = scale[which];
    const name = `hold + release loop on a ${inv.tickets}-ticket inventory`;
    const request = 'POST /transaction {"tickets":[2 ids]} then DELETE /transaction/{id}';
    const scenario = toScenario(`scale-${which}`, name, request, run.slices[which], baseline, run.warmups[which], warmupSeconds);
    return { ...scenario, inventory_tickets: inv.tickets, pairs: inv.pairs.length, holds_per_second: scenario.requests_per_second / 2 };
  };
  const small = result('small');
  const large = result('large');
  return { small, large, ratio_large_to_small: large.holds_per_second / small.holds_per_second };
}

/** The report's head: the tool, the mode, when, and on what machine. */
async function runFacts({ o, db }: Rig, started: Date): Promise<Pick<BenchReport, 'tool' | 'mode' | 'started_at' | 'finished_at' | 'elapsed_seconds' | 'machine'>> {
  const finished = new Date();
  const cpus = os.cpus();
  return {
    tool: 'tixlock npm run bench',
    mode: o.mode,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    elapsed_seconds: Math.round((finished.getTime() - started.getTime()) / 1000),
    machine: {
      cpus: cpus.length,
      cpu_model: cpus[0]?.model.trim() ?? 'unknown',
      node: process.version,
      redis: redisVersion(await db.info('server')),
      platform: `${os.platform()} ${os.release()}`,
    },
  };
}

/** The report's setup: connections, durations, the processes, the calibration and every inventory's size. */
function setupOf({ o }: Rig, calibrationRate: number, inputs: ScenarioInputs, scale: ScaleInventories, plans: GroupPlans): BenchReport['setup'] {
  return {
    connections: o.connections,
    duration_seconds: o.durationSeconds,
    warmup_seconds: o.warmupSeconds,
    load_generator: 'autocannon 8 in a child process of its own; the same child measures (a) and tixlock',
    servers:
      'each in a child process of its own, started by the benchmark: tixlock via startService (API only, no order ' +
      'writer, LOG_LEVEL=error, private redis-server with AOF everysec and noeviction; the AOF rewritten before ' +
      'the timed runs and its automatic rewrite off during them) and the bare Express app (a)',
    calibration_requests_per_second: calibrationRate,
    inventories: {
      'bench-hold (b)': 2 * inputs.perScenario,
      'bench-best (c)': 2 * inputs.perScenario,
      'bench-open (d, e)': 2 * inputs.openCount,
      'bench-small': scale.small.tickets,
      'bench-large (f, memory)': o.largeTickets,
      ...Object.fromEntries(plans.venues.venues.map((v) => [`${v.performanceId} (venues${v.key === 'stadium' ? ', mixed' : ''})`, v.tickets])),
      'bench-other (mixed)': 2 * plans.mixed.pairs.reduce((n, p) => n + p.length, 0),
      'bench-workers-hold, bench-workers-best (workers, each)': 2 * plans.workers.bestRequests.reduce((a, b) => a + b, 0),
      layout: '3 sections × 2 price levels (6 partitions), rows of 50 seats, ids like l1m-ORCH-R12-7',
      stadium_layout:
        '200 sections × 2 price levels (400 partitions): level A (front third of the rows) by tier, 150.00 to 60.00; level B ' +
        '(back two thirds) 40.00 in every section, the cheapest price',
    },
    transactions: { checkout_round_robin: inputs.checkoutPaths.length, complete_each_once: inputs.completePaths.length },
  };
}

/** INFO used_memory around loading `tickets` into a new performance, with a breakdown by kind of key. */
async function measureAvailable(redis: Redis, admin: TixlockClient, performanceId: string, tickets: readonly VenueTicket[]): Promise<MemoryResult> {
  const indexBefore = await ticketIndexBytes(redis);
  const keysBefore = await keyspace(redis);
  const before = await settledMemory(redis);
  await loadBenchPerformance(admin, performanceId, tickets);
  const after = await settledMemory(redis);
  const keysAfter = await keyspace(redis);
  const parts = await inventoryBytes(redis, performanceId);
  const index = (await ticketIndexBytes(redis)) - indexBefore;
  const n = tickets.length;
  const delta = (after.used_memory ?? 0) - (before.used_memory ?? 0);
  const listed = parts.tickets + parts.partitions + parts.partitionSet + parts.performance + index;
  return memoryResult(n, before, after, keysBefore, keysAfter, {
    'tickets hash': parts.tickets / n,
    [`available index (${parts.partitionCount} partitions, ${parts.chunkCount} chunk zsets)`]: (parts.partitions + parts.partitionSet) / n,
    'ticket → performance index': index / n,
    'performance hash': parts.performance / n,
    other: (delta - listed) / n,
  });
}

/** INFO used_memory around holding `pairs` (one transaction per pair) of a loaded performance. */
async function measureLocked(redis: Redis, api: TixlockClient, performanceId: string, pairs: [string, string][]): Promise<MemoryResult> {
  const partsBefore = await inventoryBytes(redis, performanceId);
  const keysBefore = await keyspace(redis);
  const before = await settledMemory(redis);
  const holds: { transactionId: string; tickets: string[] }[] = [];
  await forEachConcurrently(pairs, 16, async (pair) => {
    const held = await api.holdTickets(pair);
    holds.push({ transactionId: held.transaction_id, tickets: pair });
  });
  const after = await settledMemory(redis);
  const keysAfter = await keyspace(redis);
  const partsAfter = await inventoryBytes(redis, performanceId);
  const made = await holdBytes(redis, performanceId, holds);
  const n = pairs.length * 2;
  const delta = (after.used_memory ?? 0) - (before.used_memory ?? 0);
  const holdsIndex = partsAfter.holds - partsBefore.holds;
  const availableIndex = partsAfter.partitions - partsBefore.partitions;
  const listed = made.lockKeys + made.transactionRecords + holdsIndex + availableIndex;
  return memoryResult(n, before, after, keysBefore, keysAfter, {
    'lock key': made.lockKeys / n,
    'transaction hash (per 2 tickets)': made.transactionRecords / n,
    'holds zset': holdsIndex / n,
    'available index (freed)': availableIndex / n,
    [`other (${Math.round(((keysAfter.expires - keysBefore.expires) / n) * 10) / 10} TTL entries per ticket, dict growth)`]: (delta - listed) / n,
  });
}

function memoryResult(
  n: number,
  before: Record<string, number>,
  after: Record<string, number>,
  keysBefore: { keys: number; expires: number },
  keysAfter: { keys: number; expires: number },
  breakdown: Record<string, number>,
): MemoryResult {
  const delta = (after.used_memory ?? 0) - (before.used_memory ?? 0);
  return {
    tickets: n,
    used_memory_before: before.used_memory ?? 0,
    used_memory_after: after.used_memory ?? 0,
    delta_bytes: delta,
    bytes_per_ticket: delta / n,
    mem_clients_normal: [before.mem_clients_normal ?? 0, after.mem_clients_normal ?? 0],
    mem_aof_buffer: [before.mem_aof_buffer ?? 0, after.mem_aof_buffer ?? 0],
    keys_added: keysAfter.keys - keysBefore.keys,
    expires_added: keysAfter.expires - keysBefore.expires,
    breakdown_bytes_per_ticket: breakdown,
  };
}

const USAGE = `usage: npm run bench -- [--quick] [--only season] [--json FILE] [--duration SECONDS] [--connections N]

  --quick          a short smoke run: 1 s per scenario, small inventories (the numbers mean little)
  --json FILE      where to write the results (default bench-results.json)
  --duration S     measured seconds per scenario (default 10; quick 1)
  --connections N  concurrent connections (default 50)
  --only season    only the season row: Redis memory through a season, and the idle writer (full: 200
                   performances, 10 vs 1,000; quick: 20, 10 vs 100); its JSON is {season, targets}
`;

function parseArgs(argv: string[]): { options: BenchOptions; jsonFile: string; only?: 'season' } | undefined {
  let quick = false;
  let only: 'season' | undefined;
  let jsonFile = 'bench-results.json';
  const overrides: Partial<BenchOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${arg} must be a positive number`);
      return n;
    };
    if (arg === '--quick') quick = true;
    else if (arg === '--json') jsonFile = value();
    else if (arg === '--only') {
      const v = value();
      if (v !== 'season') throw new Error(`--only takes season (got ${v})`);
      only = v;
    }
    else if (arg === '--duration') overrides.durationSeconds = positive(value());
    else if (arg === '--connections') overrides.connections = Math.round(positive(value()));
    else if (arg === '-h' || arg === '--help') return undefined;
    else throw new Error(`unknown option ${arg}`);
  }
  return { options: benchOptions(quick ? 'quick' : 'full', overrides), jsonFile, ...(only ? { only } : {}) };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!parsed) {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.only === 'season') {
    const started = Date.now();
    const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
    const season = await runSeasonRow(parsed.options, log);
    const targets = seasonTargets(season);
    fs.writeFileSync(parsed.jsonFile, `${JSON.stringify({ tool: 'tixlock npm run bench -- --only season', mode: parsed.options.mode, season, targets }, null, 2)}\n`);
    const lines = [...seasonLines(season), '', '| target | wanted | measured | |', '| --- | --- | --- | --- |'];
    for (const t of targets) lines.push(`| ${t.description} | ${t.target} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`);
    process.stdout.write(`${lines.join('\n')}\n\nresults written to ${path.resolve(parsed.jsonFile)}\n`);
    return;
  }
  const report = await runBench(parsed.options);
  fs.writeFileSync(parsed.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderMarkdown(report)}\n\nresults written to ${path.resolve(parsed.jsonFile)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
