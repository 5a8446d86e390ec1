#!/usr/bin/env node
// The tixlock command. The only place that wires concrete adapters (Redis, HTTP) to the use cases.
import { printBanner } from './banner';
import { API_WORKERS_RULE, ConfigError, loadConfig, parseApiWorkers, type Config } from './config';
import { NoKeysInProduction } from './credentials';
import { rehydrate } from './domain/rehydrate';
import { AppError } from './errors';
import { runOnsale } from './harness/onsale';
import { createLogger, type Logger } from './logger';
import { RedisServerMissing } from './redis/embedded';
import { RedisLockStore } from './redis/lock-store';
import { attachRedis, domainSettings, openDocuments, startService, UsageError } from './service';
import { DeadLetters } from './writer/dead-letters';
import { ClusterStartFailed, isWorker, runPrimary, runWorker, stopOnSignals, type Roles } from './workers';

const USAGE = `usage: tixlock <command>

commands:
  all [--workers N]        the API and the order writer in one process (the default of npm start); with
                           --workers N (or API_WORKERS) N API processes and one order-writer process
  api [--workers N]        the HTTP API; --workers N (or API_WORKERS): N processes sharing the port, auto = one
                           per core
  order-writer             persist completed sales from Redis to the document store
  rehydrate [perf_id...]   rebuild Redis state (inventory, sold tickets, order numbers) from the document store
  dead-letters [perf_id]   list sales the order writer gave up on
  replay-dead-letters [perf_id]
                           put dead-lettered sales back on their outbox for the writer to try again
  onsale [options]         load harness: simulated buyers against an embedded tixlock (or --url), then the
                           invariant checks; tixlock onsale --help for its options
  help                     this text

Configuration comes from environment variables; see the README's configuration table.`;

/** Runs a service in this one process until SIGINT/SIGTERM. */
async function runService(config: Config, logger: Logger, roles: Roles): Promise<void> {
  const service = await startService(config, logger, roles);
  if (service.keys) {
    const { port, embedded, keys } = service;
    printBanner(config, { port, embedded, keys, writer: service.withWriter ? 'in-process' : undefined });
  } else process.stdout.write(`tixlock order writer running (consumer ${config.writer.consumer})\n`);
  stopOnSignals(logger, () => service.stop());
}

/** `--workers N` / `--workers=N` of `api` and `all` (overrides API_WORKERS); undefined when not given. */
function workersFlag(command: string, args: string[]): number | undefined {
  if (command !== 'api' && command !== 'all') return undefined;
  let raw: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--workers') raw = args[++i] ?? '';
    else if (arg.startsWith('--workers=')) raw = arg.slice('--workers='.length);
    else usageError(`unknown argument '${arg}' for ${command}`);
  }
  if (raw === undefined) return undefined;
  const n = parseApiWorkers(raw);
  if (n === undefined) usageError(`--workers ${API_WORKERS_RULE}`);
  return n;
}

function usageError(message: string): never {
  process.stderr.write(`tixlock: ${message}\n\n${USAGE}\n`);
  process.exit(2);
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

const SERVICES: Record<string, Roles> = {
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
  if (!SERVICES[command] && !ONE_SHOT.has(command)) usageError(`unknown command '${command}'`);
  const workersGiven = workersFlag(command, args);
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
    const apiWorkers = workersGiven ?? config.apiWorkers;
    if (roles && isWorker()) await runWorker(config, logger, roles); // forked by runPrimary
    else if (roles?.api && apiWorkers > 1) await runPrimary(config, logger, { apiWorkers, writer: roles.writer });
    else if (roles) await runService(config, logger, roles);
    else await runOnce(config, logger, command, args);
  } catch (err) {
    if (
      err instanceof RedisServerMissing ||
      err instanceof NoKeysInProduction ||
      err instanceof UsageError ||
      err instanceof AppError ||
      err instanceof ClusterStartFailed
    ) {
      process.stderr.write(`tixlock: ${err.message}\n`);
      process.exit(1);
    }
    logger.error('tixlock failed', { command, error: (err as Error).message, stack: (err as Error).stack });
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv.slice(2));
