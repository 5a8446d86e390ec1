// Assembles a running tixlock from configuration: Redis (or a private redis-server), the document store, the API
// and/or the order writer. The one place concrete adapters are wired to the use cases (used by the CLI and by the
// on-sale harness's embedded mode).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Redlock from 'redlock';
import { Cluster } from 'ioredis';
import type { Config } from './config';
import { resolveKeys, type KeySet } from './credentials';
import type { DocumentStore } from './domain/documents';
import { InventoryService } from './domain/inventory';
import { OrderService } from './domain/orders';
import { TransactionService } from './domain/transactions';
import type { DomainSettings } from './domain/types';
import { KeyRing } from './http/auth';
import { createApp } from './http/app';
import type { Logger } from './logger';
import { connectDuplicate, connectRedis, connectTopology, onPrimaryChange, type RedisClient } from './redis/connection';
import { OrderNumberFence } from './domain/order-fence';
import { startRedisServer, type EmbeddedRedis } from './redis/embedded';
import { RedisDeadlines } from './redis/clock';
import { RedisHoldRateLimiter } from './redis/hold-rate-limiter';
import { RedisIdempotencyStore } from './redis/idempotency-store';
import { RedisLockStore, type ReplicationWait } from './redis/lock-store';
import { openDocumentStore } from './store';
import { OrderWriter } from './writer/order-writer';
import { createMetrics, type Metrics } from './metrics';
import { startMetricsServer, stopMetricsServer } from './http/metrics-server';

export function domainSettings(config: Config): DomainSettings {
  return {
    lockTtlSeconds: config.lockTtlSeconds,
    minHoldSeconds: config.minHoldSeconds,
    maxHoldSeconds: config.maxHoldSeconds,
    maxTicketsPerTransaction: config.maxTicketsPerTransaction,
    recordRetentionSeconds: config.recordRetentionSeconds,
    buyerMaxTickets: config.limits.buyerMaxTickets,
  };
}

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
  const settings = domainSettings(config);
  const deadlines = new RedisDeadlines(config.redisCommandTimeoutMs); // one Redis clock for every script caller
  const store = new RedisLockStore(redis, settings, deadlines, replication, metrics.scriptDuration);
  const fence = new OrderNumberFence(documents, (err) =>
    logger.warn('order numbers: the document store did not answer; this complete is not checked against it', {
      error: (err as Error).message,
    }),
  );
  onPrimaryChange(redis, () => fence.invalidate());
  const { holdRateLimit, holdRateWindowSeconds, idempotencyTtlSeconds } = config.limits;
  const holdRate = holdRateLimit > 0 ? new RedisHoldRateLimiter(redis, holdRateLimit, holdRateWindowSeconds) : undefined;
  const app = createApp({
    transactions: new TransactionService(store, settings, holdRate, fence),
    inventory: new InventoryService(store, documents, settings),
    orders: new OrderService(documents),
    keys,
    logger,
    readinessChecks: { redis: () => store.ping(), document_store: () => documents.ping() },
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    idempotency: {
      store: new RedisIdempotencyStore(redis, deadlines),
      ttlSeconds: idempotencyTtlSeconds,
      // a request's Redis work fits in a few command timeouts; a claim left by a replica that died goes soon after
      leaseMs: Math.min(10_000, Math.max(1_000, 4 * config.redisCommandTimeoutMs)),
    },
    metrics,
    metricsRoute: config.metricsPort === undefined,
  });
  return { app, store };
}

/** REDIS_WAIT_REPLICAS > 0: the replicas a sale must reach, over a connection of its own (see ReplicationWait). */
export async function openReplicationWait(config: Config, redis: RedisClient): Promise<ReplicationWait | undefined> {
  if (config.redisWaitReplicas === 0) return undefined;
  return {
    replicas: config.redisWaitReplicas,
    timeoutMs: config.redisWaitTimeoutMs,
    connection: await connectDuplicate(redis, config.redisWaitTimeoutMs + config.redisCommandTimeoutMs),
  };
}

/** Where a private redis-server writes its URL, so maintenance commands can reach it while it runs. */
const embeddedUrlFile = (config: Config) => path.join(config.dataDir, 'redis', 'url');

/** A private redis-server child with its AOF under DATA_DIR; its URL is written where attachRedis finds it. */
export async function startEmbeddedRedis(config: Config): Promise<EmbeddedRedis> {
  const embedded = await startRedisServer(config.redisServerBin, path.join(config.dataDir, 'redis'));
  try {
    fs.writeFileSync(embeddedUrlFile(config), embedded.url);
    return embedded;
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/** Redis where the configuration says (one node, a Cluster, Sentinel), or a private redis-server child with its AOF under DATA_DIR. */
async function openRedis(config: Config): Promise<{ redis: RedisClient; embedded?: EmbeddedRedis }> {
  const options = { commandTimeoutMs: config.redisCommandTimeoutMs, autoPipelining: true };
  if (config.redis.mode !== 'embedded') return { redis: await connectTopology(config.redis, options) };
  const embedded = await startEmbeddedRedis(config);
  try {
    return { redis: await connectRedis(embedded.url, options), embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/** For commands run beside a service: the configured Redis, else the running private redis-server of `tixlock all`. */
export async function attachRedis(config: Config): Promise<RedisClient> {
  const options = { commandTimeoutMs: config.redisCommandTimeoutMs };
  if (config.redis.mode !== 'embedded') return connectTopology(config.redis, options);
  const file = embeddedUrlFile(config);
  const url = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
  if (!url) {
    throw new UsageError('set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (or start tixlock, whose private redis-server this command then uses)');
  }
  return connectRedis(url, options);
}

export class UsageError extends Error {}

export function openDocuments(config: Config, logger: Logger): Promise<DocumentStore> {
  return openDocumentStore(config.documentStoreUrl, config.dataDir, {
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

/** A writer electing its sweeper with redlock on the command connection. */
async function startWriter(config: Config, logger: Logger, redis: RedisClient, documents: DocumentStore, metrics: Metrics): Promise<OrderWriter> {
  const blocking = await openWriterReads(redis, config.writer.blockMs, config.redisCommandTimeoutMs);
  const writer = new OrderWriter({
    redis,
    blocking,
    store: documents,
    redlock: new Redlock([redis], { retryCount: 0 }),
    logger: logger.child({ process: 'order-writer' }),
    config: config.writer,
    locks: new RedisLockStore(redis, domainSettings(config)),
    metrics,
  });
  metrics.readOutboxLagFrom(() => writer.outboxLag());
  writer.start();
  return writer;
}

/** Runs the API, the order writer or both on one Redis and one document store, until SIGINT/SIGTERM. */
export interface RunningService {
  /** the API's port (0 when only the writer runs) */
  port: number;
  /** METRICS_PORT's server's port, when this process serves one */
  metricsPort: number | undefined;
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
  const metricsServer =
    config.metricsPort !== undefined && !workerMetrics
      ? await startMetricsServer(config.host, config.metricsPort, {
          contentType: metrics.registry.contentType,
          render: () => metrics.registry.metrics(),
        })
      : undefined;
  const keys = roles.api ? resolveKeys(config) : undefined;
  const { redis, embedded } = roles.api ? await openRedis(config) : { redis: await attachRedis(config), embedded: undefined };
  const documents = await openDocuments(config, logger);
  const writer = roles.writer ? await startWriter(config, logger, redis, documents, metrics) : undefined;
  let server: http.Server | undefined;
  const replication = roles.api ? await openReplicationWait(config, redis) : undefined;
  if (roles.api && keys) {
    const { app } = createApi(config, redis, documents, logger, new KeyRing(keys.clients, keys.admins), replication, metrics);
    const listening = http.createServer(app);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, resolve);
    });
  }
  const port = server ? (server.address() as { port: number }).port : 0;

  const stop = async () => {
    if (server) {
      // stop accepting, let in-flight requests finish (idle keep-alive sockets are closed)
      const closed = new Promise((resolve) => server?.close(resolve));
      server.closeIdleConnections();
      const force = setTimeout(() => server?.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
    }
    await writer?.stop();
    await stopMetricsServer(metricsServer);
    await documents.close().catch(() => undefined);
    // QUIT only when connected: on a dead connection it fails and leaves ioredis's disconnect timer running
    for (const client of [redis, replication?.connection]) {
      if (!client) continue;
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
    await embedded?.stop();
  };
  const metricsPort = metricsServer ? (metricsServer.address() as { port: number }).port : undefined;
  return { port, metricsPort, keys, embedded, withWriter: Boolean(writer), stop };
}

