#!/usr/bin/env node
// The tixlock command: parses the command line and runs a service (src/service.ts wires it), API workers
// (src/workers.ts), a maintenance command or the on-sale harness; a start-up failure is said in one line.
import { printBanner } from './banner';
import { commandHelp, overview } from './cli-help';
import { API_WORKERS_RULE, loadConfig, parseApiWorkers, type Config } from './config';
import { rehydrate } from './domain/rehydrate';
import { AppError } from './errors';
import { createLogger, type Logger } from './logger';
import { closeRedis } from './redis/connection';
import { RedisLockStore } from './redis/lock-store';
import Redlock from 'redlock';
import type { ArchiveOutcome } from './domain/archive';
import { attachRedis, createArchiver, openDocuments, startService, type RunningService } from './service';
import { underArchiveLock } from './writer/archive-job';
import { StartupError } from './startup-error';
import { DeadLetters } from './writer/dead-letters';
import { isWorker, runPrimary, runWorker, stopOnSignals, type Roles } from './workers';

/** Runs a service in this one process until SIGINT/SIGTERM. */
async function runService(config: Config, logger: Logger, roles: Roles): Promise<void> {
  const running: { service?: RunningService } = {};
  // listening from the start: a signal during start-up exits at once, and a private redis-server already started
  // goes with the process (src/redis/embedded.ts)
  stopOnSignals(logger, async () => running.service?.stop());
  const service = await startService(config, logger, roles);
  running.service = service;
  if (service.keys) {
    const { port, address, embedded, keys, metricsPort } = service;
    printBanner(config, { port, address: address as string, embedded, keys, writer: service.withWriter ? 'in-process' : undefined, metricsPort });
  } else process.stdout.write(`tixlock order writer running (consumer ${config.writer.consumer})\n`);
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
  process.stderr.write(`tixlock: ${message}\n\n${overview()}\n`);
  process.exit(2);
}

/** How long a one-shot command tries to reach Redis before it says it cannot (a Sentinel client tries forever). */
const ONE_SHOT_CONNECT_MS = 10_000;

/** Maintenance commands: connect, do one thing, print JSON, exit. */
async function runOnce(config: Config, logger: Logger, command: string, args: string[]): Promise<void> {
  const redis = await attachRedis(config, Math.max(ONE_SHOT_CONNECT_MS, 2 * config.redis.commandTimeoutMs));
  try {
    if (command === 'archive') {
      const documents = await openDocuments(config, logger);
      try {
        const archiver = createArchiver(config, redis, documents);
        // waits for a run of the automatic archive to end (up to about a minute), then holds the lock itself
        const redlock = new Redlock([redis], { retryCount: 120, retryDelay: 500 });
        const results = await underArchiveLock(redlock, async () =>
          args.length === 0 ? archiver.archiveReady() : archiver.archiveEach(args),
        );
        const ok = archiveSucceeded(results, args.length > 0);
        process.stdout.write(`${JSON.stringify({ status: ok ? 'OK' : 'INCOMPLETE', results }, null, 2)}\n`);
        if (!ok) process.exitCode = 1;
      } finally {
        await documents.close();
      }
    } else if (command === 'rehydrate') {
      const documents = await openDocuments(config, logger);
      try {
        const store = new RedisLockStore(redis, config.domain);
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
    await closeRedis(redis);
  }
}

const SERVICES: Record<string, Roles> = {
  all: { api: true, writer: true },
  api: { api: true, writer: false },
  'order-writer': { api: false, writer: true },
};
const ONE_SHOT = new Set(['archive', 'rehydrate', 'dead-letters', 'replay-dead-letters']);

/**
 * `tixlock archive` succeeded: no mismatch and no failure; with performances named, each is archived (now or before).
 * Without, performances that are not ready yet are no failure.
 */
function archiveSucceeded(results: readonly ArchiveOutcome[], named: boolean): boolean {
  return results.every((r) => r.outcome === 'archived' || r.outcome === 'already_archived' || (!named && r.outcome === 'waiting'));
}
/**
 * Commands that take their settings from arguments, not from the environment, and print their own help: the tools
 * outside src/ (tools/onsale), loaded only when one of them runs, so the service never loads them.
 */
const TOOLS: Record<string, (args: string[]) => Promise<number>> = {
  onsale: async (args) => (await import('../tools/onsale/onsale')).runOnsale(args),
};
const toolOf = (name: string | undefined) => (name !== undefined && Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined);

/** Runs a tool to its end and exits with its code. */
async function runTool(tool: (args: string[]) => Promise<number>, args: string[]): Promise<void> {
  const code = await tool(args);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 5000).unref(); // should anything linger
}

export async function main(argv: string[]): Promise<void> {
  const [command = 'all', ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = args[0] === '--help' || args[0] === '-h' ? 'help' : args[0];
    const tool = toolOf(topic);
    if (tool) return runTool(tool, ['--help']);
    const text = topic === undefined ? overview() : commandHelp(topic);
    if (text === undefined) usageError(`no command '${topic}'`);
    process.stdout.write(`${text}\n`);
    return;
  }
  const tool = toolOf(command);
  if (tool) return runTool(tool, args.includes('--help') || args.includes('-h') ? ['--help'] : args);
  if (args.includes('--help') || args.includes('-h')) {
    const text = commandHelp(command);
    if (text === undefined) usageError(`unknown command '${command}'`);
    process.stdout.write(`${text}\n`);
    return;
  }
  if (!SERVICES[command] && !ONE_SHOT.has(command)) usageError(`unknown command '${command}'`);
  const workersGiven = workersFlag(command, args);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    return failed(err);
  }
  const logger = createLogger(config.logging.level);
  try {
    const roles = SERVICES[command];
    const apiWorkers = workersGiven ?? config.server.apiWorkers;
    if (roles && isWorker()) await runWorker(config, logger, roles); // forked by runPrimary
    else if (roles?.api && apiWorkers > 1) await runPrimary(config, logger, { apiWorkers, writer: roles.writer });
    else if (roles) await runService(config, logger, roles);
    else await runOnce(config, logger, command, args);
  } catch (err) {
    failed(err, logger, command);
  }
}

/**
 * Exits 1. A StartupError (cannot start as configured) or a refusal of a one-shot command by the domain (AppError)
 * is said in its one line; anything else is unexpected and logged with its stack.
 */
function failed(err: unknown, logger?: Logger, command?: string): never {
  if (err instanceof StartupError || err instanceof AppError) process.stderr.write(`tixlock: ${err.message}\n`);
  else if (logger) logger.error('tixlock failed', { command, error: (err as Error).message, stack: (err as Error).stack });
  else process.stderr.write(`tixlock failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}

if (require.main === module) void main(process.argv.slice(2));
