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

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });

  // the outbox gauges are read at each scrape from the order writer (when this process runs one): one read serves both
  let lagSource: (() => Promise<OutboxLag[]>) | undefined;
  let reading: Promise<OutboxLag[] | undefined> | undefined;
  const readLag = () =>
    (reading ??= (lagSource?.() ?? Promise.resolve(undefined))
      .catch(() => undefined) // Redis down: the gauges keep their last values
      .finally(() => (reading = undefined)));
  async function fill(gauge: Gauge, pick: (lag: OutboxLag) => number) {
    const lags = await readLag();
    if (!lags) return;
    gauge.reset(); // outboxes no longer read drop out
    for (const lag of lags) gauge.set({ performance: lag.performanceId }, pick(lag));
  }

  // the Redis gauges are read at each scrape from INFO of every node (when this process has a Redis connection): one
  // read serves them all; the source bounds each node's wait and never rejects (src/redis/info.ts)
  let infoSource: (() => Promise<RedisNodeInfo[]>) | undefined;
  let infoReading: Promise<RedisNodeInfo[] | undefined> | undefined;
  const readInfo = () =>
    (infoReading ??= (infoSource?.() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .finally(() => (infoReading = undefined)));
  /** One gauge per node; a node that did not answer has no sample (tixlock_redis_up says 0 for it). */
  function redisGauge(name: string, help: string, pick: (node: RedisNodeInfo) => number | undefined) {
    return new Gauge({
      name,
      help,
      labelNames: ['node'],
      registers,
      async collect() {
        const nodes = await readInfo();
        if (!nodes) return;
        this.reset(); // nodes gone from the topology drop out
        for (const node of nodes) {
          const value = pick(node);
          if (value !== undefined) this.set({ node: node.node }, value);
        }
      },
    });
  }

  return {
    registry,
    /** Where the outbox gauges come from: the order writer of this process. */
    readOutboxLagFrom(source: () => Promise<OutboxLag[]>) {
      lagSource = source;
    },
    /** Where the Redis gauges come from: INFO of this process's Redis, every node (readRedisInfo in src/redis/info.ts). */
    readRedisInfoFrom(source: () => Promise<RedisNodeInfo[]>) {
      infoSource = source;
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
    outboxLagEntries: new Gauge({
      name: 'tixlock_outbox_lag_entries',
      help: 'Completed sales not yet persisted, per performance outbox the order writer reads',
      labelNames: ['performance'],
      registers,
      collect() {
        return fill(this, (l) => l.entries);
      },
    }),
    outboxLagSeconds: new Gauge({
      name: 'tixlock_outbox_lag_seconds',
      help: 'Age of the oldest completed sale not yet persisted, per performance outbox the order writer reads',
      labelNames: ['performance'],
      registers,
      collect() {
        return fill(this, (l) => l.seconds);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
