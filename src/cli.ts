#!/usr/bin/env node
// The tixlock command. The only place that wires concrete adapters (Redis, HTTP) to the use cases.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Redis } from 'ioredis';
import Redlock from 'redlock';
import { ConfigError, loadConfig, type Config } from './config';
import { NoKeysInProduction, resolveKeys } from './credentials';
import type { DocumentStore } from './domain/documents';
import { InventoryService } from './domain/inventory';
import { OrderService } from './domain/orders';
import { rehydrate } from './domain/rehydrate';
import { TransactionService } from './domain/transactions';
import type { DomainSettings } from './domain/types';
import { KeyRing } from './http/auth';
import { createApp } from './http/app';
import { createLogger, type Logger } from './logger';
import { connectRedis } from './redis/connection';
import { RedisServerMissing, startRedisServer, type EmbeddedRedis } from './redis/embedded';
import { RedisLockStore } from './redis/lock-store';
import { defaultSqliteFile, openDocumentStore } from './store';
import { DeadLetters } from './writer/dead-letters';
import { OrderWriter } from './writer/order-writer';
import { AppError } from './errors';

const USAGE = `usage: tixlock <command>

commands:
  all                      the API and the order writer in one process (the default of npm start)
  api                      the HTTP API
  order-writer             persist completed sales from Redis to the document store
  rehydrate [perf_id...]   rebuild Redis state (inventory, sold tickets, order numbers) from the document store
  dead-letters [perf_id]   list sales the order writer gave up on
  replay-dead-letters [perf_id]
                           put dead-lettered sales back on their outbox for the writer to try again
  help                     this text

Configuration comes from environment variables; see the README's configuration table.`;

export function domainSettings(config: Config): DomainSettings {
  return {
    lockTtlSeconds: config.lockTtlSeconds,
    minHoldSeconds: config.minHoldSeconds,
    maxHoldSeconds: config.maxHoldSeconds,
    maxTicketsPerTransaction: config.maxTicketsPerTransaction,
    recordRetentionSeconds: config.recordRetentionSeconds,
  };
}

/** Where a private redis-server writes its URL, so maintenance commands can reach it while it runs. */
const embeddedUrlFile = (config: Config) => path.join(config.dataDir, 'redis', 'url');

/** Redis from REDIS_URL, or a private redis-server child with its AOF under DATA_DIR. */
async function openRedis(config: Config): Promise<{ redis: Redis; embedded?: EmbeddedRedis }> {
  if (config.redisUrl) return { redis: await connectRedis(config.redisUrl, { commandTimeoutMs: config.redisCommandTimeoutMs }) };
  const embedded = await startRedisServer(config.redisServerBin, path.join(config.dataDir, 'redis'));
  try {
    fs.writeFileSync(embeddedUrlFile(config), embedded.url);
    return { redis: await connectRedis(embedded.url, { commandTimeoutMs: config.redisCommandTimeoutMs }), embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/** For commands run beside a service: REDIS_URL, else the running private redis-server of `tixlock all`. */
async function attachRedis(config: Config): Promise<Redis> {
  const file = embeddedUrlFile(config);
  const url = config.redisUrl ?? (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined);
  if (!url) throw new UsageError('set REDIS_URL (or start tixlock, whose private redis-server this command then uses)');
  return connectRedis(url, { commandTimeoutMs: config.redisCommandTimeoutMs });
}

class UsageError extends Error {}

function openDocuments(config: Config, logger: Logger): Promise<DocumentStore> {
  return openDocumentStore(config.documentStoreUrl, config.dataDir, {
    postgres: { onIdleError: (err) => logger.warn('document store: idle connection error', { error: err.message }) },
  });
}

/** A writer over its own blocking connection, electing its sweeper with redlock on the command connection. */
async function startWriter(config: Config, logger: Logger, redis: Redis, documents: DocumentStore): Promise<OrderWriter> {
  const blocking = redis.duplicate({ commandTimeout: config.writer.blockMs + config.redisCommandTimeoutMs });
  blocking.on('error', () => undefined); // surfaces as failed reads, which back off and retry
  await blocking.connect();
  const writer = new OrderWriter({
    redis,
    blocking,
    store: documents,
    redlock: new Redlock([redis], { retryCount: 0 }),
    logger: logger.child({ process: 'order-writer' }),
    config: config.writer,
  });
  writer.start();
  return writer;
}

/** Runs the API, the order writer or both on one Redis and one document store, until SIGINT/SIGTERM. */
async function runService(config: Config, logger: Logger, roles: { api: boolean; writer: boolean }): Promise<void> {
  const keys = roles.api ? resolveKeys(config) : undefined;
  const { redis, embedded } = roles.api ? await openRedis(config) : { redis: await attachRedis(config), embedded: undefined };
  const documents = await openDocuments(config, logger);
  const writer = roles.writer ? await startWriter(config, logger, redis, documents) : undefined;
  let server: http.Server | undefined;
  if (roles.api && keys) {
    const store = new RedisLockStore(redis, domainSettings(config));
    const app = createApp({
      transactions: new TransactionService(store, domainSettings(config)),
      inventory: new InventoryService(store, documents, domainSettings(config)),
      orders: new OrderService(documents),
      keys: new KeyRing(keys.clients, keys.admins),
      logger,
      readinessChecks: { redis: () => store.ping(), document_store: () => documents.ping() },
      trustProxy: config.trustProxy,
    });
    const listening = http.createServer(app);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, resolve);
    });
    const { port } = listening.address() as { port: number };
    printBanner(config, port, embedded, keys, Boolean(writer));
  } else {
    process.stdout.write(`tixlock order writer running (consumer ${config.writer.consumer})\n`);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    if (server) {
      // stop accepting, let in-flight requests finish (idle keep-alive sockets are closed)
      const closed = new Promise((resolve) => server?.close(resolve));
      server.closeIdleConnections();
      const force = setTimeout(() => server?.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
    }
    await writer?.stop();
    await documents.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function printBanner(
  config: Config,
  port: number,
  embedded: EmbeddedRedis | undefined,
  keys: ReturnType<typeof resolveKeys>,
  withWriter: boolean,
) {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const lines = [
    `tixlock api listening on http://${host}:${port}${withWriter ? ' (with the order writer)' : ''}`,
    `  data directory: ${path.resolve(config.dataDir)}`,
    embedded
      ? `  redis: private redis-server on ${embedded.url} (AOF in ${path.resolve(embedded.dir)})`
      : '  redis: REDIS_URL',
    `  document store: ${config.documentStoreUrl ? config.documentStoreUrl.replace(/:\/\/[^@/]*@/, '://***@') : `SQLite ${path.resolve(defaultSqliteFile(config.dataDir))}`}`,
  ];
  if (keys.devKeysFile) {
    lines.push(
      `  dev keys (kept in ${path.resolve(keys.devKeysFile)}; set TIXLOCK_API_KEYS / TIXLOCK_ADMIN_KEYS to use your own):`,
      ...keys.clients.map((k) => `    client key (${k.name}): ${k.key}`),
      ...keys.admins.map((k) => `    admin key  (${k.name}): ${k.key}`),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Maintenance commands: connect, do one thing, print JSON, exit. */
async function runOnce(config: Config, logger: Logger, command: string, args: string[]): Promise<void> {
  const redis = await attachRedis(config);
  try {
    if (command === 'rehydrate') {
      const documents = await openDocuments(config, logger);
      try {
        const store = new RedisLockStore(redis, domainSettings(config));
        const results = await rehydrate(documents, store, args);
        process.stdout.write(`${JSON.stringify({ status: 'OK', rehydrated: results }, null, 2)}\n`);
      } finally {
        await documents.close();
      }
    } else {
      const letters = new DeadLetters(redis);
      const result = command === 'dead-letters' ? await letters.list(args[0]) : await letters.replay(args[0]);
      process.stdout.write(`${JSON.stringify({ status: 'OK', ...result }, null, 2)}\n`);
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

const SERVICES: Record<string, { api: boolean; writer: boolean }> = {
  all: { api: true, writer: true },
  api: { api: true, writer: false },
  'order-writer': { api: false, writer: true },
};
const ONE_SHOT = new Set(['rehydrate', 'dead-letters', 'replay-dead-letters']);

export async function main(argv: string[]): Promise<void> {
  const [command = 'all', ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!SERVICES[command] && !ONE_SHOT.has(command)) {
    process.stderr.write(`tixlock: unknown command '${command}'\n\n${USAGE}\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tixlock: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  try {
    const roles = SERVICES[command];
    if (roles) await runService(config, logger, roles);
    else await runOnce(config, logger, command, args);
  } catch (err) {
    if (err instanceof RedisServerMissing || err instanceof NoKeysInProduction || err instanceof UsageError || err instanceof AppError) {
      process.stderr.write(`tixlock: ${err.message}\n`);
      process.exit(1);
    }
    logger.error('tixlock failed', { command, error: (err as Error).message, stack: (err as Error).stack });
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv.slice(2));
