// `tixlock onsale`: starts (or reaches) a tixlock, creates a performance, runs the buyers with a progress display,
// prints the summary, then checks the invariants once the order writer drained. runOnsale returns the exit code;
// src/cli.ts loads this module (with a lazy import) only when `tixlock onsale` runs.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startCluster, type EmbeddedCluster } from '../common/redis-cluster';
import { performanceKeys } from '../../src/redis/keys';
import { openDocuments, startService } from '../../src/service';
import { TixlockClient, TixlockError } from '../../src/client';
import { gradedLayout, loadPerformance, sectionsOf, venueTickets } from '../common/venue';
import { endpointOf, ENDPOINTS, newLedger, OUTCOMES, planBuyer, runBuyer, type Ledger, type Outcome } from './buyer';
import { checkInvariants, gatherFacts, type InvariantFacts, type InvariantResult } from './invariants';
import { Metrics, type Sample } from './metrics';
import { HELP, parseOptions, UsageError, type OnsaleOptions } from './options';
import { Progress, type ProgressState, type ProgressStream } from './progress';
import { histogram, summaryTable, toHtml, toJson, type OnsaleResult } from './report';

export interface OnsaleIo {
  stdout: { write(chunk: string): boolean };
  /** progress and notes */
  stderr: ProgressStream;
}

interface Target {
  mode: 'embedded' | 'remote';
  url: string;
  adminKey: string;
  clientKey: string;
  /** with an embedded cluster: SIGKILL the primary serving the performance; returns its port */
  killPrimaryOf?: (performanceId: string) => Promise<number>;
  /** the document store's sales and conflicts of the performance (embedded mode only; after stop) */
  readStore?: (performanceId: string) => Promise<Pick<InvariantFacts, 'storeSales' | 'storeConflicts'>>;
  stop(): Promise<void>;
}

const makeKey = () => `tix_${randomBytes(18).toString('base64url')}`;
/** the invariant check waits for holds to end (and then expects nothing locked) when the hold is this short */
const LOCK_WAIT_LIMIT_S = 30;
const SAMPLE_MS = 250;
const flowRank = (endpoint: string) => (Object.values(ENDPOINTS) as string[]).indexOf(endpoint);
/** the buyers' timeout per request; the admin's reads (and 50,000-ticket PUTs) may take longer and are retried */
const BUYER_TIMEOUT_MS = 30_000;
const ADMIN_TIMEOUT_MS = 60_000;

/** A private tixlock in this process: its own redis-server, SQLite and keys in a temp directory. */
async function startEmbedded(options: OnsaleOptions): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-onsale-'));
  // --cluster: a private Redis Cluster (failure detection after 1 s, so a killed primary is replaced quickly)
  let cluster: EmbeddedCluster | undefined;
  try {
    if (options.cluster === 'embedded') cluster = await startCluster({ nodeTimeoutMs: 1000, serverBin: process.env.REDIS_SERVER_BIN });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const seeds = cluster?.seeds ?? (options.cluster !== 'embedded' ? options.cluster : undefined);
  const clientKey = makeKey();
  const adminKey = makeKey();
  const config = loadConfig({
    NODE_ENV: 'development',
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    LOCK_TTL_SECONDS: String(options.holdSeconds),
    MIN_HOLD_SECONDS: '1',
    MAX_HOLD_SECONDS: String(Math.max(900, options.holdSeconds)),
    TIXLOCK_API_KEYS: `onsale-client:${clientKey}`,
    TIXLOCK_ADMIN_KEYS: `onsale-admin:${adminKey}`,
    WRITER_BLOCK_MS: '100',
    WRITER_SWEEP_INTERVAL_MS: '1000',
    ...(seeds ? { REDIS_CLUSTER_NODES: seeds } : {}),
  });
  const logger = createLogger(config.logging.level);
  let service;
  try {
    service = await startService(config, logger, { api: true, writer: true });
  } catch (err) {
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const running = service;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
  };
  return {
    mode: 'embedded',
    url: `http://127.0.0.1:${running.port}`,
    adminKey,
    clientKey,
    readStore: async (performanceId) => {
      await stop(); // the writer has drained (the orders were all found); read the file on its own
      const documents = await openDocuments(config, logger);
      try {
        const storeSales = await documents.listSoldTickets(performanceId);
        const conflicts = (await documents.listConflicts(10_000)).filter((c) => c.performance_id === performanceId);
        return { storeSales, storeConflicts: conflicts.length };
      } finally {
        await documents.close();
      }
    },
    ...(cluster ? { killPrimaryOf: (performanceId: string) => killPrimaryOf(cluster as EmbeddedCluster, performanceId) } : {}),
    stop: async () => {
      try {
        await stop();
      } finally {
        await cluster?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** SIGKILLs the primary that serves a performance's slot in an embedded cluster; returns its port. */
async function killPrimaryOf(cluster: EmbeddedCluster, performanceId: string): Promise<number> {
  const key = performanceKeys(performanceId).performance;
  for (const node of cluster.nodes) {
    const r = new Redis({ port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      const port = Number(ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1]);
      const primary = cluster.nodes.find((n) => n.port === port);
      if (!primary) throw new Error(`no node on port ${port}`);
      await primary.kill();
      return port;
    } catch {
      // this node does not answer: ask the next
    } finally {
      r.disconnect();
    }
  }
  throw new Error('no node of the cluster answered');
}

/**
 * --kill-primary-at: at that second of the sale, kills the performance's primary, then probes the performance
 * (a search) every 100 ms, for at most a minute, until its shard answers something else than 503. settle() drops a
 * kill the sale ended before, and waits for a probe under way.
 */
function scheduleKill(target: Target, options: OnsaleOptions, performanceId: string, metrics: Metrics, note: (s: string) => void) {
  const kill = target.killPrimaryOf;
  if (options.killPrimaryAt === undefined || !kill) return { settle: async () => undefined };
  let probing: Promise<void> | undefined;
  // a client key of its own, not counted with the buyers; no retries: each 503 is what it looks for
  const probe = new TixlockClient({ baseUrl: target.url, apiKey: target.clientKey, retries: 0, timeoutMs: BUYER_TIMEOUT_MS });
  const statusOf = (call: Promise<unknown>) =>
    call.then(
      () => 200,
      (err: unknown) => (err instanceof TixlockError ? err.status : 0),
    );
  const run = async () => {
    try {
      const port = await kill(performanceId);
      metrics.failoverStarted(port);
      note(`onsale: killed the performance's primary (port ${port}, SIGKILL) at ${metrics.elapsed().toFixed(2)} s`);
      for (const end = Date.now() + 60_000; Date.now() < end; ) {
        const status = await statusOf(probe.searchTickets({ performance_id: performanceId, quantity: 1 }));
        if (status !== 503 && status !== 0) {
          metrics.failoverEnded();
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (err) {
      note(`onsale: --kill-primary-at failed: ${(err as Error).message}`);
    }
  };
  const timer = setTimeout(() => (probing = run()), options.killPrimaryAt * 1000);
  return {
    settle: async () => {
      clearTimeout(timer);
      await probing;
    },
  };
}

/** The on-sale's performance (tools/common/venue.ts: the graded layout the options describe), loaded through the API. */
async function createPerformance(admin: TixlockClient, performanceId: string, options: OnsaleOptions) {
  const tickets = venueTickets(performanceId, options.tickets, gradedLayout(options));
  const settings = {
    name: `On-sale harness ${performanceId}`,
    hold_seconds: options.holdSeconds,
    max_tickets_per_transaction: Math.max(10, options.quantity.max),
  };
  await loadPerformance(admin, performanceId, tickets, settings).catch((err: unknown) => {
    const why = err instanceof TixlockError ? `${err.status || 'no answer'} ${err.code} ${err.message}` : String(err);
    throw new Error(`creating the performance failed: PUT /performances/${performanceId} → ${why}`);
  });
  return tickets;
}

/** Polls the live counts (admin) every SAMPLE_MS into the metrics' timeline and the progress display. */
function startSampler(admin: TixlockClient, performanceId: string, metrics: Metrics, onSample: (s: Sample) => void) {
  let busy = false;
  const take = async () => {
    if (busy) return;
    busy = true;
    try {
      // a sample is now or never: no retries; one that fails is skipped
      const counts = await admin.getPerformance(performanceId, { retries: 0 }).then(
        (p) => p.counts,
        () => undefined,
      );
      if (counts) {
        const sample: Sample = {
          t: metrics.elapsed(),
          sold: counts.sold,
          locked: counts.locked,
          available: counts.available,
          requests: metrics.requests,
          errors: metrics.errors,
        };
        metrics.timeline.push(sample);
        onSample(sample);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void take(), SAMPLE_MS);
  void take();
  return {
    /** stops polling and takes one last sample */
    stop: async () => {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 10));
      await take();
    },
  };
}

/** Runs the on-sale with parsed options; prints progress and notes on io.stderr; returns the results. */
export async function onsale(options: OnsaleOptions, io: OnsaleIo): Promise<OnsaleResult> {
  const progress = new Progress(io.stderr, !options.quiet);
  const target: Target = options.url ? remoteTarget(options) : await startEmbedded(options);
  const admin = new TixlockClient({ baseUrl: target.url, apiKey: target.adminKey, timeoutMs: ADMIN_TIMEOUT_MS, retries: 4 });
  try {
    const performanceId = options.performanceId ?? `onsale-${randomUUID().slice(0, 8)}`;
    const startedAt = new Date().toISOString();
    progress.note(`onsale: ${target.mode} tixlock at ${target.url}; performance ${performanceId}, ${options.tickets} tickets, ${options.buyers} buyers, ${options.concurrency} at a time`);
    const inventory = await createPerformance(admin, performanceId, options);
    const sale = await runSale(target, admin, performanceId, options, sectionsOf(inventory), progress);
    const checks = await checkSale(target, admin, performanceId, options, inventory.length, sale.ledger, progress);
    return resultOf(target, performanceId, options, startedAt, inventory.length, sale, checks);
  } finally {
    await target.stop();
  }
}

/** --url: a running tixlock, reached with the keys given. */
function remoteTarget(options: OnsaleOptions): Target {
  return {
    mode: 'remote',
    url: options.url as string,
    adminKey: options.adminKey as string,
    clientKey: options.clientKey as string,
    stop: async () => undefined,
  };
}

/** What the sale left: its metrics, the buyers' ledger and outcomes, and how long it took (s). */
interface Sale {
  metrics: Metrics;
  ledger: Ledger;
  outcomes: Record<Outcome, number>;
  duration: number;
}

/**
 * The sale: the buyers, `concurrency` at a time, while the live counts are sampled into the progress display (and
 * --kill-primary-at kills the performance's primary). Ends when every buyer is done and the shard answers again.
 */
async function runSale(target: Target, admin: TixlockClient, performanceId: string, options: OnsaleOptions, sections: string[], progress: Progress): Promise<Sale> {
  const metrics = new Metrics();
  const ledger: Ledger = newLedger();
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  let done = 0;
  let prev: Sample | undefined;
  const state = (sample: Sample): ProgressState => {
    const rate = prev && sample.t > prev.t ? (sample.requests - prev.requests) / (sample.t - prev.t) : 0;
    return { sample, rate, buyersDone: done, buyers: options.buyers };
  };
  const sampler = startSampler(admin, performanceId, metrics, (sample) => {
    progress.update(state(sample));
    prev = sample;
  });
  const killer = scheduleKill(target, options, performanceId, metrics, (s) => progress.note(s));
  let next = 0;
  const ctx = {
    api: buyersClient(target, metrics),
    performanceId,
    metrics,
    ledger,
    thinkMs: options.thinkMs,
    retries: options.retries,
  };
  const worker = async () => {
    for (let i = next++; i < options.buyers; i = next++) {
      const outcome = await runBuyer(ctx, planBuyer(i, options, sections));
      outcomes[outcome]++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.buyers) }, worker));
  const duration = metrics.elapsed();
  await killer.settle(); // the shard answers again before the checks read the performance
  await sampler.stop();
  const last = metrics.timeline[metrics.timeline.length - 1];
  if (last) progress.finish(state(last));
  return { metrics, ledger, outcomes, duration };
}

/** The buyers' client (a client key): no retries and no Idempotency-Key, every answer recorded in the metrics. */
function buyersClient(target: Target, metrics: Metrics): TixlockClient {
  return new TixlockClient({
    baseUrl: target.url,
    apiKey: target.clientKey,
    timeoutMs: BUYER_TIMEOUT_MS,
    retries: 0,
    idempotencyKeys: false,
    onAttempt: (attempt) => metrics.record(endpointOf(attempt.operation), attempt),
  });
}

/**
 * The checks: waits for the order writer to drain (and, with a short hold, for the last holds to end), gathers the
 * facts through the API (and the document store, embedded), then checks the invariants.
 */
async function checkSale(
  target: Target,
  admin: TixlockClient,
  performanceId: string,
  options: OnsaleOptions,
  expectedTotal: number,
  ledger: Ledger,
  progress: Progress,
): Promise<{ invariants: InvariantResult; drainedMs: number }> {
  const lastLockAt = ledger.lastLockAt > 0 ? ledger.lastLockAt : performance.now();
  const holdsEnd = options.holdSeconds <= LOCK_WAIT_LIMIT_S ? lastLockAt + options.holdSeconds * 1000 + 1000 : undefined;
  const waitS = Math.max(0, ((holdsEnd ?? 0) - performance.now()) / 1000);
  progress.note(
    `onsale: waiting for the order writer${holdsEnd !== undefined && waitS > 0 ? ` and for the last holds to end (${waitS.toFixed(1)} s)` : ''}, then checking the invariants`,
  );
  const { facts, drainedMs } = await gatherFacts(admin, ledger, {
    performanceId,
    expectedTotal,
    drainMs: options.drainSeconds * 1000,
    locksEndAt: holdsEnd,
  });
  if (target.readStore) Object.assign(facts, await target.readStore(performanceId));
  return { invariants: checkInvariants(facts), drainedMs };
}

/** The results, as the summary table, the JSON and the HTML report show them. */
function resultOf(
  target: Target,
  performanceId: string,
  options: OnsaleOptions,
  startedAt: string,
  tickets: number,
  { metrics, ledger, outcomes, duration }: Sale,
  { invariants, drainedMs }: { invariants: InvariantResult; drainedMs: number },
): OnsaleResult {
  const holds = ledger.holds.size;
  const completes = ledger.completions.length;
  const soldOut = metrics.sales.find((s) => s.sold >= tickets);
  const { adminKey: _a, clientKey: _c, ...shownOptions } = options;
  return {
    target: { mode: target.mode, url: target.url },
    performance_id: performanceId,
    options: shownOptions,
    tickets,
    started_at: startedAt,
    duration_s: duration,
    buyers: outcomes,
    failover: metrics.failover ?? null,
    requests: metrics.requests,
    requests_per_s: duration > 0 ? metrics.requests / duration : 0,
    errors: metrics.errors,
    error_samples: metrics.errorSamples,
    conflicts: { total: metrics.conflictCount, by_endpoint_and_code: Object.fromEntries(metrics.conflicts) },
    holds,
    holds_per_s: duration > 0 ? holds / duration : 0,
    completes,
    completes_per_s: duration > 0 ? completes / duration : 0,
    sold_out_s: soldOut ? soldOut.t : null,
    all_taken_s: metrics.timeline.find((s) => s.available === 0)?.t ?? null,
    last_sale_s: metrics.sales[metrics.sales.length - 1]?.t ?? null,
    endpoints: metrics.summaries().sort((a, b) => flowRank(a.endpoint) - flowRank(b.endpoint)),
    histogram: histogram(metrics.latencies()),
    timeline: metrics.timeline,
    drain_s: drainedMs / 1000,
    invariants,
  };
}

/** The `tixlock onsale` command: returns the exit code (0 invariants OK, 1 violation or failure, 2 bad arguments). */
export async function runOnsale(argv: readonly string[], io: OnsaleIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: OnsaleOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`tixlock onsale: ${err.message}\n(see tixlock onsale --help)\n`);
      return 2;
    }
    throw err;
  }
  if (options === 'help') {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  let result: OnsaleResult;
  try {
    result = await onsale(options, io);
  } catch (err) {
    io.stderr.write(`tixlock onsale: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`${summaryTable(result)}\n`);
  if (options.json) {
    fs.writeFileSync(options.json, toJson(result));
    io.stderr.write(`onsale: results written to ${options.json}\n`);
  }
  if (options.html) {
    fs.writeFileSync(options.html, toHtml(result));
    io.stderr.write(`onsale: report written to ${options.html}\n`);
  }
  return result.invariants.ok ? 0 : 1;
}
