#!/usr/bin/env node
// The tixlock command. The only place that wires concrete adapters (Redis, HTTP) to the use cases.
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { NoKeysInProduction, type KeySet } from './credentials';
import { rehydrate } from './domain/rehydrate';
import { AppError } from './errors';
import { runOnsale } from './harness/onsale';
import { createLogger, type Logger } from './logger';
import { RedisServerMissing, type EmbeddedRedis } from './redis/embedded';
import { RedisLockStore } from './redis/lock-store';
import { attachRedis, domainSettings, openDocuments, startService, UsageError } from './service';
import { defaultSqliteFile } from './store';
import { DeadLetters } from './writer/dead-letters';

const USAGE = `usage: tixlock <command>

commands:
  all                      the API and the order writer in one process (the default of npm start)
  api                      the HTTP API
  order-writer             persist completed sales from Redis to the document store
  rehydrate [perf_id...]   rebuild Redis state (inventory, sold tickets, order numbers) from the document store
  dead-letters [perf_id]   list sales the order writer gave up on
  replay-dead-letters [perf_id]
                           put dead-lettered sales back on their outbox for the writer to try again
  onsale [options]         load harness: simulated buyers against an embedded tixlock (or --url), then the
                           invariant checks; tixlock onsale --help for its options
  help                     this text

Configuration comes from environment variables; see the README's configuration table.`;

/** Runs a service until SIGINT/SIGTERM. */
async function runService(config: Config, logger: Logger, roles: { api: boolean; writer: boolean }): Promise<void> {
  const service = await startService(config, logger, roles);
  if (service.keys) printBanner(config, service.port, service.embedded, service.keys, service.withWriter);
  else process.stdout.write(`tixlock order writer running (consumer ${config.writer.consumer})\n`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await service.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function printBanner(
  config: Config,
  port: number,
  embedded: EmbeddedRedis | undefined,
  keys: KeySet,
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
/** Commands that take their settings from arguments, not from the environment. */
const HARNESSES: Record<string, (args: string[]) => Promise<number>> = {
  onsale: (args) => runOnsale(args),
};

export async function main(argv: string[]): Promise<void> {
  const [command = 'all', ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const harness = HARNESSES[command];
  if (harness) {
    const code = await harness(args);
    process.exitCode = code;
    setTimeout(() => process.exit(code), 5000).unref(); // should anything linger
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
