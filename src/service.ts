// Assembles a running tixlock from configuration: Redis (or a private redis-server), the document store, the API
// and/or the order writer. The one place concrete adapters are wired to the use cases (used by the CLI and by the
// on-sale harness's embedded mode).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Redlock from 'redlock';
import { Cluster } from 'ioredis';
import type { Config } from './config';
import { resolveKeys, type KeySet } from './credentials';
import type { DocumentStore } from './domain/documents';
import { InventoryService } from './domain/inventory';
import { OrderService } from './domain/orders';
import { TransactionService } from './domain/transactions';
import { KeyRing } from './http/auth';
import { createApp } from './http/app';
import type { Logger } from './logger';
import { closeRedis, connectDuplicate, connectRedis, connectTopology, onPrimaryChange, type RedisClient } from './redis/connection';
import { OrderNumberFence } from './domain/order-fence';
import { startRedisServer, type EmbeddedRedis } from './redis/embedded';
import { describeRedis, REDIS_SETTINGS_HINT, RedisUnreachable } from './redis/where';
import { RedisDeadlines } from './redis/clock';
import { readRedisInfo } from './redis/info';
import { RedisHoldRateLimiter } from './redis/hold-rate-limiter';
import { RedisIdempotencyStore } from './redis/idempotency-store';
import { RedisLockStore, type ReplicationWait } from './redis/lock-store';
import { StartupError } from './startup-error';
import { openDocumentStore } from './store';
import { OrderWriter } from './writer/order-writer';
import { ArchiveJob } from './writer/archive-job';
import { Archiver } from './domain/archive';
import { ArchivedPerformances } from './domain/lifecycle';
import { RedisArchiveStore } from './redis/archive-store';
import { createMetrics, type Metrics } from './metrics';
import { startMetricsServer, stopMetricsServer } from './http/metrics-server';

/** The API over a Redis connection and a document store: the adapters wired to the use cases and to HTTP. */
export function createApi(
  config: Config,
  redis: RedisClient,
  documents: DocumentStore,
  logger: Logger,
  keys: KeyRing,
  replication?: ReplicationWait,
  metrics: Metrics = createMetrics(),
) {
  const settings = config.domain;
  readRedisInfoForMetrics(config, redis, metrics);
  const deadlines = new RedisDeadlines(config.redis.commandTimeoutMs); // one Redis clock for every script caller
  const store = new RedisLockStore(redis, settings, deadlines, replication, metrics.scriptDuration);
  const fence = new OrderNumberFence(documents, (err) =>
    logger.warn('order numbers: the document store did not answer; this complete is not checked against it', {
      error: (err as Error).message,
    }),
  );
  onPrimaryChange(redis, () => {
    fence.invalidate();
    store.forgetOutboxMarks(); // the active-outboxes set may have lost them too
  });
  const { holdRateLimit, holdRateWindowSeconds, idempotencyTtlSeconds } = config.limits;
  const holdRate = holdRateLimit > 0 ? new RedisHoldRateLimiter(redis, holdRateLimit, holdRateWindowSeconds) : undefined;
  const app = createApp({
    transactions: new TransactionService(store, settings, holdRate, fence, new ArchivedPerformances(documents)),
    inventory: new InventoryService(store, documents, settings),
    orders: new OrderService(documents),
    keys,
    logger,
    readinessChecks: { redis: () => store.ping(), document_store: () => documents.ping() },
    trustProxy: config.server.trustProxy,
    corsOrigins: config.server.corsOrigins,
    idempotency: {
      store: new RedisIdempotencyStore(redis, deadlines),
      ttlSeconds: idempotencyTtlSeconds,
      // a request's Redis work fits in a few command timeouts; a claim left by a replica that died goes soon after
      leaseMs: Math.min(10_000, Math.max(1_000, 4 * config.redis.commandTimeoutMs)),
    },
    metrics,
    metricsRoute: config.server.metricsPort === undefined,
  });
  return { app, store };
}

/** REDIS_WAIT_REPLICAS > 0: the replicas a sale must reach, over a connection of its own (see ReplicationWait). */
export async function openReplicationWait(config: Config, redis: RedisClient): Promise<ReplicationWait | undefined> {
  if (config.redis.waitReplicas === 0) return undefined;
  return {
    replicas: config.redis.waitReplicas,
    timeoutMs: config.redis.waitTimeoutMs,
    connection: await connectDuplicate(redis, config.redis.waitTimeoutMs + config.redis.commandTimeoutMs),
  };
}

/** Where a private redis-server writes its URL, so maintenance commands can reach it while it runs. */
const embeddedUrlFile = (config: Config) => path.join(config.store.dataDir, 'redis', 'url');

/**
 * A private redis-server child with its AOF under DATA_DIR; its URL is written where attachRedis finds it, and
 * removed again when it stops (so a maintenance command run later says nothing runs instead of trying a dead port).
 */
export async function startEmbeddedRedis(config: Config): Promise<EmbeddedRedis> {
  const embedded = await startRedisServer(config.redis.serverBin, path.join(config.store.dataDir, 'redis'));
  const file = embeddedUrlFile(config);
  try {
    fs.writeFileSync(file, embedded.url);
  } catch (err) {
    await embedded.stop();
    throw err;
  }
  return {
    ...embedded,
    stop: async () => {
      await embedded.stop();
      // only our own URL: another tixlock on this DATA_DIR may have written its own since
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === embedded.url) fs.rmSync(file, { force: true });
    },
  };
}

/** Redis where the configuration says (one node, a Cluster, Sentinel), or a private redis-server child with its AOF under DATA_DIR. */
async function openRedis(config: Config): Promise<{ redis: RedisClient; embedded?: EmbeddedRedis }> {
  const options = { commandTimeoutMs: config.redis.commandTimeoutMs, autoPipelining: true };
  const { topology } = config.redis;
  if (topology.mode !== 'embedded') return { redis: await reach(describeRedis(topology), () => connectTopology(topology, options)) };
  const embedded = await startEmbeddedRedis(config);
  try {
    return { redis: await connectRedis(embedded.url, options), embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/**
 * For commands run beside a service: the configured Redis, else the running private redis-server of `tixlock all`
 * (found by the URL it wrote under DATA_DIR). Nothing answering is a RedisUnreachable naming where it looked.
 */
export async function attachRedis(config: Config, giveUpAfterMs?: number): Promise<RedisClient> {
  const options = { commandTimeoutMs: config.redis.commandTimeoutMs, giveUpAfterMs };
  const { topology } = config.redis;
  if (topology.mode !== 'embedded') return reach(describeRedis(topology), () => connectTopology(topology, options));
  const file = embeddedUrlFile(config);
  const url = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
  if (!url) {
    throw new StartupError(
      `no Redis to use: no tixlock with a private redis-server runs on DATA_DIR=${config.store.dataDir} (no ${file}); start one (npm start), or ${REDIS_SETTINGS_HINT}`,
    );
  }
  const where = `${url} (the private redis-server of the tixlock on DATA_DIR=${config.store.dataDir}, read from ${file}: is it still running?)`;
  return reach(where, () => connectRedis(url, options));
}

/** A connection attempt whose failure is reported as RedisUnreachable at `where`. */
async function reach<T>(where: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    throw new RedisUnreachable(where, err);
  }
}

export function openDocuments(config: Config, logger: Logger): Promise<DocumentStore> {
  return openDocumentStore(config.store.url, config.store.dataDir, {
    postgres: { onIdleError: (err) => logger.warn('document store: idle connection error', { error: err.message }) },
  });
}

/**
 * The order writer's connection for blocking reads: one node only (a Cluster's outboxes lie on many shards, which
 * no one read can span). Its errors surface as failed reads, which back off.
 */
export function openWriterReads(redis: RedisClient, blockMs: number, commandTimeoutMs: number): Promise<RedisClient | undefined> {
  return redis instanceof Cluster ? Promise.resolve(undefined) : connectDuplicate(redis, blockMs + commandTimeoutMs);
}

/** The archiver over a Redis connection and a document store (the automatic archive's and `tixlock archive`'s). */
export function createArchiver(config: Config, redis: RedisClient, documents: DocumentStore): Archiver {
  return new Archiver(new RedisArchiveStore(redis), documents, {
    endGraceSeconds: config.domain.endGraceSeconds,
    lockMarginSeconds: config.writer.archiveLockMarginSeconds,
  });
}

/** A writer electing its sweeper with redlock on the command connection; with ARCHIVE_AUTO, its sweep archives too. */
async function startWriter(config: Config, logger: Logger, redis: RedisClient, documents: DocumentStore, metrics: Metrics): Promise<OrderWriter> {
  const blocking = await openWriterReads(redis, config.writer.blockMs, config.redis.commandTimeoutMs);
  const redlock = new Redlock([redis], { retryCount: 0 });
  const writerLogger = logger.child({ process: 'order-writer' });
  const archive = config.writer.archiveAuto
    ? new ArchiveJob({
        archiver: createArchiver(config, redis, documents),
        redlock,
        logger: writerLogger,
        intervalMs: config.writer.archiveIntervalSeconds * 1000,
        metrics,
        onArchived: (id) => writer.forgetOutbox(id), // called once the writer below runs
      })
    : undefined;
  const writer = new OrderWriter({
    redis,
    blocking,
    store: documents,
    redlock,
    logger: writerLogger,
    config: config.writer,
    locks: new RedisLockStore(redis, config.domain),
    metrics,
    archive,
  });
  metrics.readOutboxLagFrom(() => writer.outboxLag());
  readRedisInfoForMetrics(config, redis, metrics);
  writer.start();
  return writer;
}

/** The Redis gauges of /metrics read INFO of every node at each scrape, each node bounded by this wait (ms). */
const REDIS_INFO_TIMEOUT_MS = 1000;

/** The process's metrics read the Redis gauges from this connection (the API's and the writer's are the same one). */
function readRedisInfoForMetrics(config: Config, redis: RedisClient, metrics: Metrics): void {
  const timeoutMs = Math.min(REDIS_INFO_TIMEOUT_MS, config.redis.commandTimeoutMs);
  metrics.readRedisInfoFrom(() => readRedisInfo(redis, timeoutMs));
}

/** Runs the API, the order writer or both on one Redis and one document store, until SIGINT/SIGTERM. */
export interface RunningService {
  /** the API's port (0 when only the writer runs) */
  port: number;
  /** METRICS_PORT's server's port, when this process serves one */
  metricsPort: number | undefined;
  /** the address the API is bound to, as the server reports it (undefined when only the writer runs) */
  address: string | undefined;
  keys: KeySet | undefined;
  embedded: EmbeddedRedis | undefined;
  withWriter: boolean;
  /** stop accepting, finish in-flight requests, stop the writer, close the stores, stop a private Redis */
  stop(): Promise<void>;
}

/** Starts the API, the order writer or both on one Redis and one document store. */
export async function startService(
  config: Config,
  logger: Logger,
  roles: { api: boolean; writer: boolean },
  /** a cluster worker's metrics, which its primary serves on METRICS_PORT (see workers.ts) */
  workerMetrics?: Metrics,
): Promise<RunningService> {
  const metrics = workerMetrics ?? createMetrics();
  const keys = roles.api ? resolveKeys(config) : undefined;
  // what to undo, in the order it was done: stop() undoes it backwards, and so does a start-up that fails half-way
  // (a private redis-server must not outlive a start that failed at the document store)
  const undo: { what: string; step: () => Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const { what, step } of undo.reverse()) {
        await step().catch((err: Error) => logger.warn(`stop: ${what} failed`, { error: err.message }));
      }
    })());
  try {
    const metricsServer =
      config.server.metricsPort !== undefined && !workerMetrics
        ? await startMetricsServer(config.server.host, config.server.metricsPort, {
            contentType: metrics.registry.contentType,
            render: () => metrics.registry.metrics(),
          })
        : undefined;
    if (metricsServer) undo.push({ what: 'the metrics server', step: () => stopMetricsServer(metricsServer) });
    const { redis, embedded } = roles.api ? await openRedis(config) : { redis: await attachRedis(config), embedded: undefined };
    if (embedded) undo.push({ what: 'the private redis-server', step: () => embedded.stop() });
    undo.push({ what: 'the Redis connection', step: async () => closeRedis(redis) });
    const documents = await openDocuments(config, logger);
    undo.push({ what: 'the document store', step: () => documents.close() });
    const writer = roles.writer ? await startWriter(config, logger, redis, documents, metrics) : undefined;
    if (writer) undo.push({ what: 'the order writer', step: () => writer.stop() });
    const replication = roles.api ? await openReplicationWait(config, redis) : undefined;
    if (replication) undo.push({ what: 'the replication connection', step: async () => closeRedis(replication.connection) });
    let server: http.Server | undefined;
    if (roles.api && keys) {
      const { app } = createApi(config, redis, documents, logger, new KeyRing(keys.clients, keys.admins), replication, metrics);
      const listening = http.createServer(app);
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(config.server.port, config.server.host, resolve);
      });
      server = listening;
      undo.push({ what: 'the HTTP server', step: () => closeServer(listening) });
    }
    const address = server ? (server.address() as AddressInfo) : undefined;
    return {
      port: address?.port ?? 0,
      address: address?.address,
      metricsPort: metricsServer ? (metricsServer.address() as AddressInfo).port : undefined,
      keys,
      embedded,
      withWriter: Boolean(writer),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Stop accepting, let in-flight requests finish (idle keep-alive sockets are closed; the rest after 10 s). */
async function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 10_000);
  await closed;
  clearTimeout(force);
}
