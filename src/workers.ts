// API processes per machine (`tixlock api|all --workers N`, API_WORKERS) with node:cluster. For N > 1 the process
// becomes a primary: it makes the dev keys and the document-store schema once, starts the one private
// redis-server (when no Redis is configured), then forks N API workers that share one port (and that Redis: the
// configured one, or REDIS_URL of the primary's redis-server) and, for `all`, ONE order-writer worker (never one per API worker). It prints the banner once all
// are up, restarts a worker that dies, and on SIGINT/SIGTERM stops every worker (each as `service.stop()` does)
// before the redis-server. A worker is the single-process service of its role; it tells the primary when it is up.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { printBanner } from './banner';
import type { Config } from './config';
import { resolveKeys } from './credentials';
import type { Logger } from './logger';
import { startMetricsServer, stopMetricsServer } from './http/metrics-server';
import { createMetrics } from './metrics';
import { openDocuments, startEmbeddedRedis, startService } from './service';
import { StartupError } from './startup-error';

export interface Roles {
  api: boolean;
  writer: boolean;
}

/** A worker's role: the command it runs (its only argument). */
type Role = 'api' | 'order-writer';

/** The message a worker sends once it serves. */
interface Ready {
  type: 'tixlock:ready';
  port: number;
  /** the address it is bound to (server.address()) */
  address: string | undefined;
}
const isReady = (m: unknown): m is Ready => (m as Ready | null)?.type === 'tixlock:ready';

/** How long workers get to stop (their own stop waits up to 10 s for in-flight requests) before SIGKILL. */
const STOP_GRACE_MS = 20_000;
/** A worker that dies within this time of its start is restarted after RESTART_DELAY_MS, not at once. */
const QUICK_DEATH_MS = 10_000;
const RESTART_DELAY_MS = 1_000;

/** On the first SIGINT or SIGTERM: log, stop, exit 0. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** True in a process forked by runPrimary. */
export const isWorker = () => cluster.isWorker;

/** A cluster worker: its role's service, stopped on SIGINT/SIGTERM; tells the primary once it serves. */
export async function runWorker(config: Config, logger: Logger, roles: Roles): Promise<void> {
  // the primary serves every worker's metrics on METRICS_PORT (prom-client asks each worker over IPC); the worker
  // label keeps each one's series apart (a main-port /metrics shows the one worker that answered)
  const metrics = createMetrics();
  metrics.registry.setDefaultLabels({ worker: String(cluster.worker?.id ?? process.pid) });
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry(); // prom-client answers the primary's requests only once one was made in this process
  const service = await startService(config, logger, roles, metrics);
  stopOnSignals(logger, () => service.stop());
  const ready: Ready = { type: 'tixlock:ready', port: service.port, address: service.address };
  process.send?.(ready);
}

/** The cluster primary of `apiWorkers` (> 1) API workers, plus one order-writer worker when `writer`. */
export async function runPrimary(config: Config, logger: Logger, opts: { apiWorkers: number; writer: boolean }): Promise<void> {
  if (config.store.url?.trim() === 'sqlite::memory:') {
    throw new StartupError('DOCUMENT_STORE_URL=sqlite::memory: is private to one process: use a file or PostgreSQL with several workers');
  }
  // listening from the start: a signal before the workers are forked exits at once (a private redis-server already
  // started goes with the process, src/redis/embedded.ts); after that, it stops them all
  const stopping: { stopAll?: () => Promise<void> } = {};
  stopOnSignals(logger, async () => stopping.stopAll?.());
  const shared = await prepareShared(config, logger);
  const pool = new WorkerPool(logger, {
    // what every fork gets on top of this process's environment: the one private Redis (else the configured one)
    env: shared.embedded ? { REDIS_URL: shared.embedded.url } : {},
    expected: opts.apiWorkers + (opts.writer ? 1 : 0),
    address: config.server.host,
    afterWorkers: async () => {
      await stopMetricsServer(shared.metricsServer);
      await shared.embedded?.stop();
    },
  });
  stopping.stopAll = () => pool.stopAll();
  for (let i = 0; i < opts.apiWorkers; i++) pool.fork('api');
  if (opts.writer) pool.fork('order-writer');
  await pool.whenAllServe();
  printBanner(config, {
    address: pool.address,
    port: pool.port,
    embedded: shared.embedded,
    keys: shared.keys,
    writer: opts.writer ? 'own-process' : undefined,
    workers: { api: pool.pids('api'), writer: opts.writer ? pool.pids('order-writer')[0] : undefined },
    metricsPort: (shared.metricsServer?.address() as AddressInfo | null)?.port,
  });
}

/**
 * What the primary makes once, before any fork: the dev keys (every worker reads the same file), the document-store
 * schema (created or migrated once, not by N at a time), the private redis-server when no Redis is configured, and
 * the METRICS_PORT server that gathers every worker's metrics.
 */
async function prepareShared(config: Config, logger: Logger) {
  const keys = resolveKeys(config);
  await (await openDocuments(config, logger)).close();
  const embedded = config.redis.topology.mode === 'embedded' ? await startEmbeddedRedis(config) : undefined;
  const aggregator = new AggregatorRegistry();
  const metricsServer =
    config.server.metricsPort === undefined
      ? undefined
      : await startMetricsServer(config.server.host, config.server.metricsPort, { contentType: aggregator.contentType, render: () => aggregator.clusterMetrics() });
  return { keys, embedded, metricsServer };
}

/**
 * The primary's workers: forks them, knows when all serve (and on which port), restarts one that dies while
 * running (after RESTART_DELAY_MS when it died young), and stops them all once.
 */
class WorkerPool {
  private readonly live = new Map<Worker, { role: Role; startedAt: number }>();
  private readonly ready = new Set<Worker>();
  private readonly restarts = new Set<NodeJS.Timeout>();
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private allGone: (() => void) | undefined;
  private startup: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private readonly started = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
  private stopped: Promise<void> | undefined;
  port = 0;
  address: string;

  constructor(
    private readonly logger: Logger,
    private readonly opts: { env: Record<string, string>; expected: number; address: string; afterWorkers: () => Promise<void> },
  ) {
    this.address = opts.address;
    cluster.on('message', (worker, message: unknown) => this.onMessage(worker, message));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
  }

  fork(role: Role): void {
    cluster.setupPrimary({ args: [role] }); // the same script and node options; the worker runs `tixlock <role>`
    const worker = cluster.fork(this.opts.env);
    this.live.set(worker, { role, startedAt: Date.now() });
  }

  /** Resolves once every expected worker serves; a worker exiting first stops the others and rejects. */
  async whenAllServe(): Promise<void> {
    try {
      await this.started;
    } catch (err) {
      await this.stopAll();
      throw err;
    }
    this.phase = 'running';
  }

  pids(role: Role): number[] {
    return [...this.live].filter(([, i]) => i.role === role).map(([w]) => w.process.pid ?? 0);
  }

  /** SIGTERM to every worker, SIGKILL to any left after STOP_GRACE_MS; then afterWorkers. Once. */
  stopAll(): Promise<void> {
    return (this.stopped ??= this.stopWorkers());
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isReady(message) || !this.live.has(worker)) return;
    this.ready.add(worker);
    // with PORT=0 every worker gets the same port: cluster shares one handle per (host, port) as asked for, so a
    // restarted worker asks for port 0 again too
    if (message.port > 0 && this.port === 0) {
      this.port = message.port;
      this.address = message.address ?? this.address;
    }
    if (this.phase === 'running') this.logger.info('worker restarted', { role: this.live.get(worker)?.role, pid: worker.process.pid });
    if (this.phase === 'starting' && this.ready.size === this.opts.expected) this.startup?.resolve();
  }

  private onExit(worker: Worker, code: number, signal: string): void {
    const info = this.live.get(worker);
    this.live.delete(worker);
    this.ready.delete(worker);
    if (!info) return;
    if (this.phase === 'stopping') {
      if (this.live.size === 0) this.allGone?.();
      return;
    }
    const what = `${info.role === 'api' ? 'an API worker' : 'the order-writer worker'} (pid ${worker.process.pid})`;
    if (this.phase === 'starting') {
      this.startup?.reject(new StartupError(`${what} exited during start-up (${signal ?? `code ${code}`})`));
      return;
    }
    const delay = Date.now() - info.startedAt < QUICK_DEATH_MS ? RESTART_DELAY_MS : 0;
    this.logger.warn('worker died; restarting it', { role: info.role, pid: worker.process.pid, code, signal, delay_ms: delay });
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      if (this.phase === 'running') this.fork(info.role);
    }, delay);
    this.restarts.add(timer);
  }

  private async stopWorkers(): Promise<void> {
    this.phase = 'stopping';
    for (const timer of this.restarts) clearTimeout(timer);
    const gone = new Promise<void>((resolve) => (this.live.size === 0 ? resolve() : (this.allGone = resolve)));
    for (const worker of this.live.keys()) worker.process.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const worker of this.live.keys()) worker.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await gone;
    clearTimeout(force);
    await this.opts.afterWorkers();
  }
}
