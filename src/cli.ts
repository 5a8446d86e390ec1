#!/usr/bin/env node
// The tixlock command. The only place that wires concrete adapters (Redis, HTTP) to the use cases.
import http from 'node:http';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ConfigError, loadConfig, type Config } from './config';
import { NoKeysInProduction, resolveKeys } from './credentials';
import { InventoryService } from './domain/inventory';
import { TransactionService } from './domain/transactions';
import type { DomainSettings } from './domain/types';
import { KeyRing } from './http/auth';
import { createApp } from './http/app';
import { createLogger, type Logger } from './logger';
import { connectRedis } from './redis/connection';
import { RedisServerMissing, startRedisServer, type EmbeddedRedis } from './redis/embedded';
import { RedisLockStore } from './redis/lock-store';

const USAGE = `usage: tixlock <command>

commands:
  api      run the HTTP API
  all      run every process of tixlock in this one (the default of npm start)
  help     show this text

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

/** Redis from REDIS_URL, or a private redis-server child with its AOF under DATA_DIR. */
async function openRedis(config: Config): Promise<{ redis: Redis; embedded?: EmbeddedRedis }> {
  if (config.redisUrl) return { redis: await connectRedis(config.redisUrl, { commandTimeoutMs: config.redisCommandTimeoutMs }) };
  const embedded = await startRedisServer(config.redisServerBin, path.join(config.dataDir, 'redis'));
  try {
    return { redis: await connectRedis(embedded.url, { commandTimeoutMs: config.redisCommandTimeoutMs }), embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

async function runApi(config: Config, logger: Logger): Promise<void> {
  const keys = resolveKeys(config);
  const { redis, embedded } = await openRedis(config);
  const store = new RedisLockStore(redis, domainSettings(config));
  const app = createApp({
    transactions: new TransactionService(store, domainSettings(config)),
    inventory: new InventoryService(store, domainSettings(config)),
    keys: new KeyRing(keys.clients, keys.admins),
    logger,
    readinessChecks: { redis: () => store.ping() },
    trustProxy: config.trustProxy,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as { port: number };
  printBanner(config, port, embedded, keys);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // stop accepting, let in-flight requests finish (idle keep-alive sockets are closed), then close Redis
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    await closed;
    clearTimeout(force);
    await redis.quit().catch(() => redis.disconnect());
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function printBanner(config: Config, port: number, embedded: EmbeddedRedis | undefined, keys: ReturnType<typeof resolveKeys>) {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const lines = [
    `tixlock api listening on http://${host}:${port}`,
    `  data directory: ${path.resolve(config.dataDir)}`,
    embedded
      ? `  redis: private redis-server on ${embedded.url} (AOF in ${path.resolve(embedded.dir)})`
      : '  redis: REDIS_URL',
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

export async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'all';
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== 'api' && command !== 'all') {
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
    await runApi(config, logger);
  } catch (err) {
    if (err instanceof RedisServerMissing || err instanceof NoKeysInProduction) {
      process.stderr.write(`tixlock: ${err.message}\n`);
      process.exit(1);
    }
    logger.error('start-up failed', { error: (err as Error).message, stack: (err as Error).stack });
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv.slice(2));
