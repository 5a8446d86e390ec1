// The season row: does Redis give back what a season took? tixlock with its order writer (one process, as
// `tixlock all`, on a private redis-server and a SQLite store in the run's temp dir) sells a season of performances,
// closes them, lets the writer persist and archive them, waits for the transaction records and Idempotency-Key
// answers to expire, and reads INFO used_memory at each step against a baseline.
//
// - Baseline: after a warm-up performance was sold (keyed and unkeyed), released, closed and archived, so the
//   script cache, the global keys (tix:perf-seq, the ticket index's dict) and the writer's connections are counted
//   in it; the warm-up's records and answers are then deleted by the benchmark (what their expiry does a minute
//   later) so the baseline holds none.
// - The season: N performances of T tickets (the small venue's layout), sold in pairs: 60% of the pairs completed
//   (hold, checkout, complete; a third of them with Idempotency-Keys, each keyed hold and complete sent twice, the
//   second a replay), 15% held and released, 10% held and left to lapse, 15% never touched.
// - After the sales; after every performance was closed (POST /performances/{id}/close), persisted and archived
//   (ARCHIVE_LOCK_MARGIN_SECONDS=0, a sweep every 500 ms, ARCHIVE_INTERVAL_SECONDS=1); after the records and
//   answers expired (RECORD_RETENTION_SECONDS and IDEMPOTENCY_TTL_SECONDS at their minimum, 60 s: the run waits).
// Memory is read on a quiet Redis (settledMemory), the writer idle between readings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { TixlockClient } from '../../src/client';
import { performanceKeys } from '../../src/redis/keys';
import { venueTickets } from '../common/venue';
import { keyBytes, keyspace, settledMemory } from './memory';
import { ServerProcess, tixlockEnv } from './server';
import { forEachConcurrently, loadBenchPerformance, setupClient, ticketPairs } from './setup';

const CLIENT_KEY = 'season-client-key-0001';
const ADMIN_KEY = 'season-admin-key-0001';
/** the shortest retention the settings allow (src/config-table.ts: min 60 for both) */
const RETENTION_SECONDS = 60;
const LOCK_SECONDS = 10;

/** tixlock's settings for the season: short holds, archive at once, records and answers kept the minimum */
export const SEASON_ENV: Record<string, string> = {
  LOCK_TTL_SECONDS: String(LOCK_SECONDS),
  MAX_HOLD_SECONDS: String(LOCK_SECONDS),
  RECORD_RETENTION_SECONDS: String(RETENTION_SECONDS),
  IDEMPOTENCY_TTL_SECONDS: String(RETENTION_SECONDS),
  ARCHIVE_AUTO: '1',
  ARCHIVE_INTERVAL_SECONDS: '1',
  ARCHIVE_LOCK_MARGIN_SECONDS: '0',
  WRITER_SWEEP_INTERVAL_MS: '500',
};

export interface SeasonSize {
  performances: number;
  ticketsPerPerformance: number;
}

/** used_memory and the keyspace at one step */
export interface SeasonReading {
  used_memory: number;
  /** the slow log's entries, and the bytes it and the per-command statistics held, emptied before the reading */
  command_stats: { slowlog_entries: number; bytes: number };
  keys: number;
  expires: number;
  /** MEMORY STATS parts that explain a difference without keys: the keyspace's hash tables, clients, the script cache */
  parts: { main_hashtable: number; expires_hashtable: number; clients_normal: number; scripts: number; dataset: number };
}

export interface SeasonResult {
  performances: number;
  tickets_per_performance: number;
  settings: Record<string, string>;
  /** what the season did */
  sales: { completed: number; tickets_sold: number; keyed_sales: number; keyed_replays: number; released: number; lapsed: number; untouched_pairs: number };
  baseline: SeasonReading;
  after_sales: SeasonReading;
  after_archive: SeasonReading;
  after_expiry: SeasonReading;
  /** MEMORY USAGE after the sales, summed over the performances: bytes by kind of key */
  after_sales_bytes: { tickets: number; sold: number; outboxes: number; transaction_records: number };
  /** after_archive / baseline and after_expiry / baseline */
  ratio_after_archive: number;
  ratio_after_expiry: number;
  /** (after_archive − baseline) / completed sales: the records and answers still waiting to expire, per sale */
  bytes_per_sale_after_archive: number;
  /** (after_expiry − baseline) / completed sales */
  bytes_per_sale_after_expiry: number;
  /** keys present after expiry that were not in the baseline (at most 20 named) with their MEMORY USAGE */
  leftover_keys: { count: number; sample: { key: string; bytes: number }[] };
  seconds: { sales: number; archive: number; expiry: number };
}

/**
 * One reading, after emptying what Redis keeps about commands rather than data: the slow log (at most
 * slowlog-max-len entries) and, with CONFIG RESETSTAT, the per-command statistics and latency histograms
 * (latency-tracking, on by default since Redis 7: one histogram per command name that ran, some KB each). Both are
 * bounded by configuration and by the command table, not by the season; left in, they made the last reading
 * look 2-10 % above a baseline taken before the season's commands first ran. What they held is reported.
 */
const reading = async (redis: Redis): Promise<SeasonReading> => {
  const before = await settledMemory(redis);
  const slowlogEntries = Number(await redis.call('SLOWLOG', 'LEN'));
  await redis.call('SLOWLOG', 'RESET');
  await redis.call('CONFIG', 'RESETSTAT');
  const m = await settledMemory(redis);
  const commandStats = { slowlog_entries: slowlogEntries, bytes: (before.used_memory ?? 0) - (m.used_memory ?? 0) };
  const flat = (await redis.call('MEMORY', 'STATS')) as unknown[];
  const stats = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) stats.set(String(flat[i]), flat[i + 1]);
  const db0 = (stats.get('db.0') as unknown[] | undefined) ?? [];
  const inDb = (name: string) => Number(db0[db0.indexOf(name) + 1] ?? 0);
  return {
    used_memory: m.used_memory ?? 0,
    command_stats: commandStats,
    ...(await keyspace(redis)),
    parts: {
      main_hashtable: inDb('overhead.hashtable.main'),
      expires_hashtable: inDb('overhead.hashtable.expires'),
      clients_normal: Number(stats.get('clients.normal') ?? 0),
      scripts: Number(m.used_memory_scripts ?? m.used_memory_lua ?? 0),
      dataset: Number(stats.get('dataset.bytes') ?? 0),
    },
  };
};

async function allKeys(redis: Redis): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

/** keys with a TTL, except the redlock keys (tix:lock:*: the writer's sweep and the archive, taken and let go) */
async function expiringKeys(redis: Redis): Promise<string[]> {
  const keys = (await allKeys(redis)).filter((k) => !k.startsWith('tix:lock:'));
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const k of keys.slice(i, i + 1000)) pipeline.pttl(k);
    const ttls = (await pipeline.exec()) ?? [];
    keys.slice(i, i + 1000).forEach((k, j) => {
      if (Number(ttls[j]?.[1] ?? -2) > 0) out.push(k);
    });
  }
  return out;
}

async function waitFor(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > timeoutMs) throw new Error(`season: timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return (Date.now() - started) / 1000;
}

/** every performance's perf hash is gone: archived (archive removes the perf hash last) */
const archived = (redis: Redis, ids: readonly string[]) => async () => {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.exists(performanceKeys(id).performance);
  return ((await pipeline.exec()) ?? []).every(([, n]) => Number(n) === 0);
};

type Kind = 'keyed-sale' | 'sale' | 'release' | 'lapse' | 'untouched';
/** what pair i of a performance gets (out of every 20: 4 keyed sales, 8 sales, 3 releases, 2 lapses, 3 untouched) */
const kindOf = (i: number): Kind => {
  const r = i % 20;
  return r < 4 ? 'keyed-sale' : r < 12 ? 'sale' : r < 15 ? 'release' : r < 17 ? 'lapse' : 'untouched';
};

interface Clients {
  plain: TixlockClient;
  keyed: TixlockClient;
}

/** Sells pairs of a performance as kindOf says; counts what it did into `counts`. */
async function sellPair(c: Clients, pair: [string, string], i: number, key: string, counts: SeasonResult['sales']): Promise<void> {
  const kind = kindOf(i);
  const customer = { email: `fan-${i % 997}@example.com`, first_name: 'Season', last_name: `Fan${i % 997}` };
  if (kind === 'untouched') {
    counts.untouched_pairs++;
    return;
  }
  if (kind === 'keyed-sale') {
    const hold = await c.keyed.holdTickets(pair, {}, { idempotencyKey: `${key}-h` });
    const again = await c.keyed.holdTickets(pair, {}, { idempotencyKey: `${key}-h` });
    if (again.transaction_id !== hold.transaction_id) throw new Error('season: a replayed hold answered another transaction');
    await c.keyed.checkout(hold.transaction_id, {}, { idempotencyKey: `${key}-c` });
    const sale = { customer, payment_reference: `pay-${key}` };
    await c.keyed.complete(hold.transaction_id, sale, { idempotencyKey: `${key}-s` });
    await c.keyed.complete(hold.transaction_id, sale, { idempotencyKey: `${key}-s` });
    counts.keyed_sales++;
    counts.keyed_replays += 2;
    counts.completed++;
    counts.tickets_sold += 2;
    return;
  }
  const hold = await c.plain.holdTickets(pair);
  if (kind === 'sale') {
    await c.plain.checkout(hold.transaction_id);
    await c.plain.complete(hold.transaction_id, { customer, payment_reference: `pay-${key}` });
    counts.completed++;
    counts.tickets_sold += 2;
  } else if (kind === 'release') {
    await c.plain.release(hold.transaction_id);
    counts.released++;
  } else {
    counts.lapsed++;
  }
}

/** Loads and sells performances `ids` (each of `tickets`), 16 pairs at a time. */
async function sellSeason(c: Clients, admin: TixlockClient, ids: readonly string[], tickets: number, counts: SeasonResult['sales']): Promise<void> {
  await forEachConcurrently(ids, 4, async (id) => loadBenchPerformance(admin, id, venueTickets(id, tickets)));
  // interleaved: pair 0 of every performance, then pair 1, ... (a season's performances sell side by side)
  const perPerformance = ids.map((id) => ticketPairs(venueTickets(id, tickets).map((t) => t.id)));
  const work: { pair: [string, string]; i: number; key: string }[] = [];
  const most = Math.max(...perPerformance.map((p) => p.length));
  for (let i = 0; i < most; i++) {
    perPerformance.forEach((pairs, p) => {
      const pair = pairs[i];
      if (pair) work.push({ pair, i, key: `${ids[p]}-${i}` });
    });
  }
  await forEachConcurrently(work, 16, (w) => sellPair(c, w.pair, w.i, w.key, counts));
}

/** Closes performances `ids` by admin request: the automatic archive takes them from there. */
async function closeSeason(admin: TixlockClient, ids: readonly string[]): Promise<void> {
  await forEachConcurrently(ids, 8, async (id) => void (await admin.closePerformance(id)));
}

/** MEMORY USAGE after the sales: tickets hashes, sold hashes, outboxes and transaction records. */
async function seasonBytes(redis: Redis, ids: readonly string[]): Promise<SeasonResult['after_sales_bytes']> {
  const out = { tickets: 0, sold: 0, outboxes: 0, transaction_records: 0 };
  for (const id of ids) {
    const k = performanceKeys(id);
    out.tickets += await keyBytes(redis, k.tickets);
    out.sold += await keyBytes(redis, k.sold);
    out.outboxes += await keyBytes(redis, k.outbox);
  }
  const records = (await allKeys(redis)).filter((key) => key.includes(':tx:'));
  for (const key of records) out.transaction_records += await keyBytes(redis, key);
  return out;
}

/**
 * Runs the season in a tixlock of its own (API and order writer; private redis-server; SQLite in a temp dir).
 * execArgv: node options of the server child (from TypeScript sources: the swc require hook); extraEnv: settings over SEASON_ENV.
 */
export async function runSeason(size: SeasonSize, execArgv: string[], log: (line: string) => void = () => undefined, extraEnv: Record<string, string> = {}): Promise<SeasonResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-season-'));
  const env = tixlockEnv(dataDir, 'season', { client: CLIENT_KEY, admin: ADMIN_KEY }, { ...SEASON_ENV, ...extraEnv });
  let server: ServerProcess | undefined;
  let redis: Redis | undefined;
  try {
    server = await ServerProcess.start({ kind: 'tixlock', env, writer: true }, execArgv);
    if (!server.redisUrl) throw new Error('season: expected a private redis-server');
    redis = new Redis(server.redisUrl);
    const admin = setupClient(server.url, ADMIN_KEY);
    const c: Clients = {
      plain: setupClient(server.url, CLIENT_KEY),
      keyed: new TixlockClient({ baseUrl: server.url, apiKey: CLIENT_KEY, retries: 0, timeoutMs: 300_000 }),
    };
    const counts: SeasonResult['sales'] = { completed: 0, tickets_sold: 0, keyed_sales: 0, keyed_replays: 0, released: 0, lapsed: 0, untouched_pairs: 0 };

    // warm-up: one small performance through every step, archived; then its records and answers deleted
    log('season: warm-up performance (sold, released, closed, archived)');
    const warm = ['season-warm'];
    await sellSeason(c, admin, warm, 40, { ...counts });
    await closeSeason(admin, warm);
    await waitFor('the warm-up performance archived', 120_000, archived(redis, warm));
    const warmExpiring = await expiringKeys(redis);
    if (warmExpiring.length > 0) await redis.del(...warmExpiring);
    const baselineKeys = new Set(await allKeys(redis));
    const baseline = await reading(redis);

    const ids = Array.from({ length: size.performances }, (_, i) => `season-${String(i).padStart(4, '0')}`);
    log(`season: ${ids.length} performances of ${size.ticketsPerPerformance} tickets, sold, then closed`);
    const salesStarted = Date.now();
    await sellSeason(c, admin, ids.slice(), size.ticketsPerPerformance, counts);
    const salesSeconds = (Date.now() - salesStarted) / 1000;
    // read before the closes: a closed performance may be archived at once, so this is the sold season's memory
    const afterSales = await reading(redis);
    const bytes = await seasonBytes(redis, ids);
    await closeSeason(admin, ids);

    log('season: waiting for the writer to persist and archive every performance');
    const archiveSeconds = await waitFor('every performance archived', 600_000, archived(redis, ids));
    const afterArchive = await reading(redis);

    log(`season: waiting for records and Idempotency-Key answers to expire (${RETENTION_SECONDS} s + the hold)`);
    const expirySeconds = await waitFor('the records and answers expired', (RETENTION_SECONDS + LOCK_SECONDS + 120) * 1000, async () => (await expiringKeys(redis as Redis)).length === 0);
    const afterExpiry = await reading(redis);
    const leftover = (await allKeys(redis)).filter((k) => !baselineKeys.has(k) && !k.startsWith('tix:lock:')).sort();
    const sample = [];
    for (const key of leftover.slice(0, 20)) sample.push({ key, bytes: await keyBytes(redis, key) });

    const n = Math.max(counts.completed, 1);
    return {
      performances: ids.length,
      tickets_per_performance: size.ticketsPerPerformance,
      settings: { ...SEASON_ENV },
      sales: counts,
      baseline,
      after_sales: afterSales,
      after_archive: afterArchive,
      after_expiry: afterExpiry,
      after_sales_bytes: bytes,
      ratio_after_archive: afterArchive.used_memory / baseline.used_memory,
      ratio_after_expiry: afterExpiry.used_memory / baseline.used_memory,
      bytes_per_sale_after_archive: (afterArchive.used_memory - baseline.used_memory) / n,
      bytes_per_sale_after_expiry: (afterExpiry.used_memory - baseline.used_memory) / n,
      leftover_keys: { count: leftover.length, sample },
      seconds: { sales: salesSeconds, archive: archiveSeconds, expiry: expirySeconds },
    };
  } finally {
    redis?.disconnect();
    await server?.stop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // standalone: node dist/tools/bench/season.js [performances] [tickets per performance]
  const [n, t] = process.argv.slice(2).map(Number);
  runSeason({ performances: n || 20, ticketsPerPerformance: t || 200 }, process.execArgv, (line) => process.stderr.write(`${line}\n`)).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`season failed: ${String((err as Error)?.stack ?? err)}\n`);
      process.exitCode = 1;
    },
  );
}
