// What an idle order writer costs Redis, by how many performances have been created: N performances, each loaded
// with a few tickets and with one completed sale (performances that once sold), the writer persists every sale and
// goes idle, then the Redis commands it sends per second are counted over a window of whole sweeps (INFO
// commandstats deltas on a redis-server of its own; commands scripts run count too), minus the same window with no
// writer. Commands are counted, not timed: the count is
// nearly deterministic (the Redis time, usec, is reported beside it).
//
// Used by test/writer-idle-cost.test.ts (through test/support/writer-idle-cost.ts) and by the benchmark's season
// row (tools/bench/bench.ts); standalone (prints JSON):
//   node -r ./test/support/swc-register.js tools/bench/idle-writer.ts [N ...] [--sweeps 2]
// e.g. `... idle-writer.ts 10 1000` (built: node dist/tools/bench/idle-writer.js 10 1000).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redlock from 'redlock';
import { loadConfig, type WriterConfig } from '../../src/config';
import { KeyRing } from '../../src/http/auth';
import { createLogger } from '../../src/logger';
import { closeRedis, connectRedis } from '../../src/redis/connection';
import { startRedisServer } from '../../src/redis/embedded';
import { activeOutboxesKey } from '../../src/redis/keys';
import { RedisLockStore } from '../../src/redis/lock-store';
import { createApi } from '../../src/service';
import { openDocumentStore } from '../../src/store';
import { OrderWriter } from '../../src/writer/order-writer';

export interface IdleCost {
  performances: number;
  /** the window: from the end of one sweep to the end of `sweeps` more (2 sweeps: about 10 s) */
  windowMs: number;
  /** Redis commands per second with the idle writer running, minus those of the same window without it */
  commandsPerSecond: number;
  /** Redis time (commandstats usec) per second, likewise */
  redisMicrosPerSecond: number;
  /** the window's commands by name, with the writer (the baseline's are subtracted) */
  byCommand: Record<string, number>;
  /** the window's commands without a writer (what the measuring itself sends is left out of both) */
  baselineCommands: number;
  /** how long loading, selling and persisting took (ms) */
  setupMs: number;
}

const ADMIN = 'admin-key-idle-cost';
const CLIENT = 'client-key-idle-cost';
/** the measuring connection's own commands, left out of every count */
const OWN = new Set(['info', 'config|resetstat', 'config', 'zcard', 'ping', 'client|setinfo', 'hello']);

type Stats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: Awaited<ReturnType<typeof connectRedis>>): Promise<Stats> {
  const text = String(await redis.info('commandstats'));
  const out: Stats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Runs a job at one edge of a counting window; resolves once the job ran. */
type Edge = (job: () => Promise<void>) => Promise<void>;

/**
 * Commands sent between the `start` and `end` edges (the measuring connection's own left out), by name, their Redis
 * time, and the window's length.
 */
async function countWindow(redis: Awaited<ReturnType<typeof connectRedis>>, start: Edge, end: Edge) {
  let from = 0;
  await start(async () => {
    await redis.config('RESETSTAT');
    from = Date.now();
  });
  let stats: Stats = new Map();
  let ms = 0;
  await end(async () => {
    stats = await commandStats(redis);
    ms = Date.now() - from;
  });
  const byCommand: Record<string, number> = {};
  let calls = 0;
  let usec = 0;
  for (const [name, s] of stats) {
    if (OWN.has(name)) continue;
    byCommand[name] = s.calls;
    calls += s.calls;
    usec += s.usec;
  }
  return { calls, usec, byCommand, ms };
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function call(base: string, method: string, url: string, key: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitUntil(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`writer-idle-cost: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Measures one N. The writer runs with the shipped settings (blocking reads of 500 ms, a sweep every 5 s,
 * WRITER_SCAN_BATCH 10) except retireAfterMs, shortened so that it reaches its idle state soon after the sales.
 */
export async function measureIdleWriter(
  performances: number,
  options: { sweeps?: number; serverBin?: string; writer?: Partial<WriterConfig> } = {},
): Promise<IdleCost> {
  const sweeps = options.sweeps ?? 2;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-idle-cost-'));
  const server = await startRedisServer(options.serverBin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server', dir);
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: server.url,
    TIXLOCK_API_KEYS: `buyer:${CLIENT}`,
    TIXLOCK_ADMIN_KEYS: `root:${ADMIN}`,
  });
  const logger = createLogger('silent');
  const redis = await connectRedis(server.url, { commandTimeoutMs: 5000 });
  const probe = await connectRedis(server.url, { commandTimeoutMs: 5000 });
  const documents = await openDocumentStore('sqlite::memory:', config.store.dataDir);
  const { app } = createApi(config, redis, documents, logger, new KeyRing(config.keys.clients, config.keys.admins));
  const listening = http.createServer(app);
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  let writer: OrderWriter | undefined;
  try {
    const started = Date.now();
    const ids = Array.from({ length: performances }, (_, i) => `idle-${i}`);
    const orders: string[] = [];
    await pool(ids, 16, async (id) => {
      const tickets = Array.from({ length: 4 }, (_, s) => ({ id: `${id}-A${s + 1}`, section: 'ORCH', row: 'A', seat: s + 1, price: 5000 }));
      await call(base, 'PUT', `/performances/${id}`, ADMIN, { name: 'Idle cost', tickets });
      const hold = await call(base, 'POST', '/transaction', CLIENT, { tickets: [tickets[0]?.id] });
      const done = await call(base, 'PUT', `/transaction/${String(hold.transaction_id)}`, CLIENT, {
        status: 'complete',
        customer: { email: `${id}@example.com` },
      });
      orders.push(String(done.order_number));
    });

    writer = new OrderWriter({
      redis,
      blocking: await connectRedis(server.url, { commandTimeoutMs: config.writer.blockMs + 5000 }),
      store: documents,
      redlock: new Redlock([redis], { retryCount: 0 }),
      logger,
      config: { ...config.writer, retireAfterMs: 1000, ...options.writer },
      locks: new RedisLockStore(redis, config.domain),
    });
    writer.start();
    await waitUntil('every sale persisted', 120_000, async () => {
      for (const n of orders) if ((await documents.getOrder(n)) === undefined) return false;
      return true;
    });
    // idle: every outbox drained and retired (a writer without the active set has nothing to wait for)
    await waitUntil('the active outboxes retired', 60_000, async () => (await probe.zcard(activeOutboxesKey)) === 0);
    const setupMs = Date.now() - started;

    // the window runs from the end of one sweep to the end of the `sweeps`-th after it: whole sweeps only. Sweeps
    // run one after another, and an edge's reading is taken before the next sweep may start, so no sweep is counted
    // in part however closely they follow each other on a loaded machine
    const atSweepEnd: (() => Promise<void>)[] = [];
    const sweep = writer.sweep.bind(writer);
    let previous: Promise<void> = Promise.resolve();
    writer.sweep = () => {
      previous = previous.then(async () => {
        await sweep();
        for (const job of atSweepEnd.splice(0)) await job();
      });
      return previous;
    };
    const sweepEnd: Edge = (job) => new Promise((resolve, reject) => atSweepEnd.push(() => job().then(resolve, reject)));
    const withWriter = await countWindow(probe, sweepEnd, async (job) => {
      for (let i = 1; i < sweeps; i++) await sweepEnd(async () => undefined);
      await sweepEnd(job);
    });
    await writer.stop();
    writer = undefined;
    const baseline = await countWindow(probe, (job) => job(), async (job) => {
      await new Promise((r) => setTimeout(r, withWriter.ms));
      await job();
    });
    const byCommand = { ...withWriter.byCommand };
    for (const [name, calls] of Object.entries(baseline.byCommand)) byCommand[name] = (byCommand[name] ?? 0) - calls;
    return {
      performances,
      windowMs: withWriter.ms,
      commandsPerSecond: ((withWriter.calls - baseline.calls) * 1000) / withWriter.ms,
      redisMicrosPerSecond: ((withWriter.usec - baseline.usec) * 1000) / withWriter.ms,
      byCommand,
      baselineCommands: baseline.calls,
      setupMs,
    };
  } finally {
    await writer?.stop();
    await new Promise((r) => listening.close(r));
    await documents.close();
    await closeRedis(redis);
    await closeRedis(probe);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--sweeps');
  const sweeps = at >= 0 ? Number(args.splice(at, 2)[1]) : 2;
  const counts = args.length > 0 ? args.map(Number) : [10, 1000];
  void (async () => {
    for (const n of counts) process.stdout.write(`${JSON.stringify(await measureIdleWriter(n, { sweeps }))}\n`);
  })().catch((err: unknown) => {
    process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
    process.exitCode = 1;
  });
}
