// Every Prometheus metric tixlock exports, defined once (name, help, labels), on a registry of its own. Label
// values are bounded: route patterns, error codes, script names, and performance ids of outboxes the writer reads
// (never raw paths, transaction ids or client input). docs/operations.md lists them.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RedisNodeInfo } from './redis/info';

/** Seconds: from a fast Redis round trip to a request that waited out timeouts. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the order writer can tell about one outbox when asked (see OrderWriter.outboxLag). */
export interface OutboxLag {
  performanceId: string;
  /** sales not yet persisted: delivered but unacknowledged, plus not yet delivered */
  entries: number;
  /** age of the oldest of them (0 = none) */
  seconds: number;
}

/**
 * A reading taken at scrape time from a source given later (the order writer, the Redis connection): one read
 * serves every gauge of the scrape; a failed read (or no source) gives undefined, and the gauges keep their values.
 */
function scrapeReading<T>() {
  let source: (() => Promise<T>) | undefined;
  let reading: Promise<T | undefined> | undefined;
  return {
    from(next: () => Promise<T>) {
      source = next;
    },
    read: () =>
      (reading ??= (source?.() ?? Promise.resolve(undefined))
        .catch(() => undefined)
        .finally(() => (reading = undefined))),
  };
}

/**
 * A gauge with one label whose samples are set at each scrape from a list read then: one sample per item that
 * has a value; items gone from the list drop out.
 */
function listGauge<T>(
  registers: Registry[],
  spec: { name: string; help: string; label: string },
  read: () => Promise<readonly T[] | undefined>,
  sample: (item: T) => [label: string, value: number | undefined],
) {
  return new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [spec.label],
    registers,
    async collect() {
      const items = await read();
      if (!items) return;
      this.reset();
      for (const item of items) {
        const [label, value] = sample(item);
        if (value !== undefined) this.set({ [spec.label]: label }, value);
      }
    },
  });
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });
  // the outbox gauges: from the order writer of this process (when it runs one), per outbox it reads
  const lag = scrapeReading<OutboxLag[]>();
  const outboxGauge = (name: string, help: string, pick: (l: OutboxLag) => number) =>
    listGauge(registers, { name, help, label: 'performance' }, lag.read, (l) => [l.performanceId, pick(l)]);
  // the Redis gauges: INFO of every node (when this process has a Redis connection); the source bounds each node's
  // wait and never rejects (src/redis/info.ts). A node that did not answer has no sample but tixlock_redis_up 0.
  const info = scrapeReading<RedisNodeInfo[]>();
  const redisGauge = (name: string, help: string, pick: (node: RedisNodeInfo) => number | undefined) =>
    listGauge(registers, { name, help, label: 'node' }, info.read, (n) => [n.node, pick(n)]);

  return {
    registry,
    /** Where the outbox gauges come from: the order writer of this process. */
    readOutboxLagFrom(source: () => Promise<OutboxLag[]>) {
      lag.from(source);
    },
    /** Where the Redis gauges come from: INFO of this process's Redis, every node (readRedisInfo in src/redis/info.ts). */
    readRedisInfoFrom(source: () => Promise<RedisNodeInfo[]>) {
      info.from(source);
    },
    redisUp: redisGauge('tixlock_redis_up', 'Whether the Redis node answered INFO within the scrape timeout (1) or not (0)', (n) => (n.up ? 1 : 0)),
    redisUsedMemory: redisGauge('tixlock_redis_used_memory_bytes', 'Memory the Redis node uses (INFO used_memory)', (n) => n.usedMemoryBytes),
    redisMaxmemory: redisGauge('tixlock_redis_maxmemory_bytes', 'The Redis node\'s maxmemory (0 = no limit)', (n) => n.maxmemoryBytes),
    redisKeys: redisGauge('tixlock_redis_keys', 'Keys on the Redis node (INFO keyspace, every database)', (n) => n.keys),
    redisExpiringKeys: redisGauge('tixlock_redis_expiring_keys', 'Keys with a time to live on the Redis node (locks, transaction records, idempotency answers, ...)', (n) => n.expiringKeys),
    httpDuration: new Histogram({
      name: 'tixlock_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status, and how long they took',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    holds: counter('tixlock_holds_total', 'Transactions begun (tickets locked), by how the tickets were chosen', ['kind']),
    conflicts: counter('tixlock_conflicts_total', 'Requests refused with 409, by error code', ['reason']),
    bestAvailableMisses: counter('tixlock_best_available_misses_total', 'Best-available holds that found too few tickets'),
    extensions: counter('tixlock_extensions_total', 'Checkouts: locks extended while the buyer pays'),
    completes: counter('tixlock_completes_total', 'Transactions completed (tickets sold, order numbered)'),
    releases: counter('tixlock_releases_total', 'Transactions released by their client'),
    expiriesSeen: counter('tixlock_expiries_seen_total', 'Answers that found a transaction expired (its lock lapsed)'),
    idempotentReplays: counter('tixlock_idempotent_replays_total', 'Answers replayed for a repeated Idempotency-Key'),
    rateLimited: counter('tixlock_rate_limited_total', 'Requests refused with 429, by cause (error code)', ['cause']),
    unavailable: counter('tixlock_unavailable_total', 'Requests answered 503, by cause (error code and backing service)', ['cause']),
    scriptDuration: new Histogram({
      name: 'tixlock_redis_script_duration_seconds',
      help: 'Lua script calls by script (round trip from this process), and how long they took',
      labelNames: ['script'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    salesPersisted: counter('tixlock_writer_sales_persisted_total', 'Sales the order writer wrote to the document store'),
    writerConflicts: counter('tixlock_writer_conflicts_total', 'Sales the document store refused as conflicting (Redis lost data)'),
    deadLetters: counter('tixlock_writer_dead_letters_total', 'Sales the order writer moved to the dead letters'),
    archives: counter(
      'tixlock_archives_total',
      'Performances the automatic archive archived, and those it refused because the document store does not hold what Redis has (outcome archived | mismatch)',
      ['outcome'],
    ),
    outboxLagEntries: outboxGauge(
      'tixlock_outbox_lag_entries',
      'Completed sales not yet persisted, per performance outbox the order writer reads',
      (l) => l.entries,
    ),
    outboxLagSeconds: outboxGauge(
      'tixlock_outbox_lag_seconds',
      'Age of the oldest completed sale not yet persisted, per performance outbox the order writer reads',
      (l) => l.seconds,
    ),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
