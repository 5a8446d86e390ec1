// The order writer: reads completed sales from the outbox streams of the active performances (those with pending
// or recent sales, see src/redis/active-outboxes.ts) with a consumer group, records each in the document store
// (idempotent), then XACKs it. At-least-once delivery + idempotent writes = every sale persisted exactly once. The
// sweep trims what every group has acknowledged from those outboxes and retires the drained, idle ones, so an idle
// writer's Redis work does not grow with the performances ever created.
import type { RedisClient } from '../redis/connection';
import type Redlock from 'redlock';
import type { WriterConfig } from '../config';
import type { DocumentStore, PerformanceDoc } from '../domain/documents';
import { Unavailable } from '../errors';
import type { Logger } from '../logger';
import { activeOutboxes, markOutbox, retireOutbox, trimOutbox } from '../redis/active-outboxes';
import { outboxGroup, performanceKeys, performanceOfStream, performanceSetKey, writerSweepLockKey } from '../redis/keys';
import { MalformedSale, parseSaleEntry } from './sale-entry';
import { reconcile, rehydrateMarked, type ReconcileResult } from '../domain/recovery';
import type { LockStore } from '../domain/types';
import type { Metrics, OutboxLag } from '../metrics';
import type { ArchiveJob } from './archive-job';

type StreamEntry = [id: string, fields: string[]];
type ReadReply = [key: string, entries: StreamEntry[]][] | null;

const MAX_BACKOFF_MS = 5000;
const DISCOVERY_MS = 500;
/** on a Cluster (no blocking read across shards): the pause after a round of reads that found nothing */
const CLUSTER_POLL_MS = 100;
/** sales of one batch written at once (a PostgreSQL pool has 10 connections by default) */
const CONCURRENT_WRITES = 8;
/** One XINFO entry as a record: a flat [field, value, ...] list (RESP2) or a map (RESP3). */
function fieldsOf(entry: unknown): Record<string, unknown> {
  if (entry instanceof Map) return Object.fromEntries(entry);
  if (!Array.isArray(entry)) return (entry ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < entry.length; i += 2) out[String(entry[i])] = entry[i + 1];
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface OrderWriterDeps {
  /** for commands (XACK, XADD, discovery) */
  redis: RedisClient;
  /**
   * One node: a connection of its own for one blocking XREADGROUP over every outbox. None on a Cluster, where one
   * command may not span slots: each outbox is read on its own shard without blocking, and an empty round pauses.
   */
  blocking: RedisClient | undefined;
  store: DocumentStore;
  redlock: Redlock;
  logger: Logger;
  config: WriterConfig;
  /** for recovery: marking a performance behind the store, and rehydrating it (see domain/recovery.ts) */
  locks: LockStore;
  /** counts of what the writer did (/metrics); none in tests that do not read them */
  metrics?: Pick<Metrics, 'salesPersisted' | 'writerConflicts' | 'deadLetters'>;
  /** the automatic archive (ARCHIVE_AUTO), run by the sweep; none = no automatic archive */
  archive?: ArchiveJob;
}

export class OrderWriter {
  private running = false;
  /** the outboxes this writer reads (it has joined their group): those of the active performances */
  private readonly streams = new Set<string>();
  /** the active performances and their latest marks, as the last discovery read them */
  private active = new Map<string, number>();
  /** where the sweep's scan of every performance (performanceSetKey) goes on, and what it found beyond a batch */
  private scanCursor = '0';
  private scanQueue: string[] = [];
  /** the store's performances the sweep has still to check in this pass (refilled from the store once per pass) */
  private storeQueue: Pick<PerformanceDoc, 'id' | 'archive'>[] = [];
  /** failed attempts per entry id for errors other than "store unavailable" */
  private readonly attempts = new Map<string, number>();
  private backoffMs = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** sweeps under way (stop waits for them: a stopped writer changes nothing afterwards) */
  private readonly sweeps = new Set<Promise<void>>();
  private readPending = true;
  /** the document store failed as unavailable: re-read pending entries only once it answers a ping again */
  private storeDown = false;

  constructor(private readonly deps: OrderWriterDeps) {}

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
    this.sweepTimer = setInterval(() => {
      const sweep = this.sweep();
      this.sweeps.add(sweep);
      void sweep.finally(() => this.sweeps.delete(sweep));
    }, this.deps.config.sweepIntervalMs);
  }

  /**
   * Stops after the entry in hand and the sweep under way (which skips what it has not begun); unacknowledged
   * entries stay pending for the next writer.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.sweepTimer);
    this.deps.blocking?.disconnect(); // ends a blocked XREADGROUP
    await this.loopDone;
    await Promise.all([...this.sweeps]);
    await this.deps.archive?.stop();
  }

  /** An archived performance's outbox is gone: stop reading it (another writer's read meets NOGROUP and rediscovers). */
  forgetOutbox(performanceId: string): void {
    this.active.delete(performanceId);
    this.streams.delete(performanceKeys(performanceId).outbox);
  }

  /**
   * How far each outbox it reads is behind: sales delivered but not acknowledged plus those not yet delivered, and
   * the age of the oldest of them (stream ids start with their append time in ms). For /metrics, at scrape time.
   */
  async outboxLag(): Promise<OutboxLag[]> {
    const redis = this.deps.redis;
    const [seconds, micros] = await redis.time();
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return Promise.all(
      [...this.streams].map(async (key) => {
        const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
        const group = groups.map(fieldsOf).find((g) => g.name === outboxGroup);
        const pending = Number(group?.pending ?? 0);
        const lastDelivered = String(group?.['last-delivered-id'] ?? '0-0');
        // lag is nil when Redis cannot tell (entries deleted from the stream): count what is left to deliver
        const undelivered = group?.lag ?? (await redis.xrange(key, `(${lastDelivered}`, '+')).length;
        const oldestPending = pending > 0 ? String(((await redis.xpending(key, outboxGroup)) as unknown[])[1]) : undefined;
        const firstUndelivered = Number(undelivered) > 0 ? (await redis.xrange(key, `(${lastDelivered}`, '+', 'COUNT', 1))[0]?.[0] : undefined;
        const oldest = oldestPending ?? firstUndelivered;
        return {
          performanceId: performanceOfStream(key) ?? key,
          entries: pending + Number(undelivered),
          seconds: oldest === undefined ? 0 : Math.max(0, nowMs - Number(oldest.split('-')[0])) / 1000,
        };
      }),
    );
  }

  /**
   * Reads the active performances (one ZRANGE, whatever the number of performances ever created): joins the
   * consumer group of each outbox not yet read, and stops reading the outboxes of retired ones.
   */
  async discover(): Promise<void> {
    this.active = await activeOutboxes(this.deps.redis);
    const wanted = new Set([...this.active.keys()].map((id) => performanceKeys(id).outbox));
    for (const key of this.streams) if (!wanted.has(key)) this.streams.delete(key);
    for (const key of wanted) {
      if (this.streams.has(key)) continue;
      // No MKSTREAM: an outbox exists once its first sale is appended, and a group made at id 0 then still reads
      // every entry. Creating a missing stream here would race the archive, which drops the performance from the
      // active set and then deletes its outbox: a discovery between the two would leave an empty outbox forever.
      const joined = await this.deps.redis.xgroup('CREATE', key, outboxGroup, '0').then(
        () => true,
        (err: Error) => {
          if (/BUSYGROUP/.test(err.message)) return true;
          if (/requires the key to exist/.test(err.message)) return false; // no sale yet (or archived): next discovery
          throw err;
        },
      );
      if (joined) this.streams.add(key);
    }
  }

  private async loop(): Promise<void> {
    let lastDiscovery = 0;
    while (this.running) {
      try {
        // a newly active outbox is joined within DISCOVERY_MS + one blocking read
        if (Date.now() - lastDiscovery >= Math.min(this.deps.config.sweepIntervalMs, DISCOVERY_MS)) {
          await this.discover();
          lastDiscovery = Date.now();
        }
        if (this.streams.size === 0) {
          await sleep(this.deps.config.blockMs);
          continue;
        }
        // every re-read of a pending entry counts as a delivery: while the store is down, wait for it instead, so
        // an outage never makes a good sale look like a poison one (see sweep)
        if (this.storeDown) {
          if (!(await this.storeAnswers())) {
            await this.backoff();
            continue;
          }
          this.storeDown = false;
        }
        const handled = await this.readOnce();
        if (handled) this.backoffMs = 0;
      } catch (err) {
        if (!this.running) break;
        if (/NOGROUP/.test((err as Error).message)) this.streams.clear(); // Redis lost its streams: rediscover
        this.deps.logger.warn('order writer: read failed, backing off', { error: (err as Error).message });
        await this.backoff();
      }
    }
  }

  /**
   * One round of reads: this consumer's pending entries first (after a failure or restart), then new ones. With a
   * blocking connection (one node): one XREADGROUP over every outbox, blocking up to blockMs. Without (a Cluster):
   * each outbox read on its own shard (auto-pipelined per node), and an empty round waits CLUSTER_POLL_MS.
   */
  private async readOnce(): Promise<boolean> {
    const keys = [...this.streams];
    const { batchSize, blockMs, consumer } = this.deps.config;
    const id = this.readPending ? '0' : '>';
    // the typed method, not call(): under RESP3 ioredis shapes this map reply as [[key, entries], ...] only here
    const reader = (client: RedisClient) =>
      client.xreadgroup.bind(client) as unknown as (...args: (string | number)[]) => Promise<ReadReply>;
    let reply: NonNullable<ReadReply>;
    const blocking = this.deps.blocking;
    if (!blocking) {
      const read = reader(this.deps.redis);
      const replies = await Promise.all(keys.map((key) => read('GROUP', outboxGroup, consumer, 'COUNT', batchSize, 'STREAMS', key, id)));
      reply = replies.flatMap((r) => r ?? []);
      if (!this.readPending && reply.every(([, entries]) => entries.length === 0)) await sleep(Math.min(blockMs, CLUSTER_POLL_MS));
    } else {
      const block = this.readPending ? [] : ['BLOCK', blockMs];
      reply =
        (await reader(blocking)('GROUP', outboxGroup, consumer, 'COUNT', batchSize, ...block, 'STREAMS', ...keys, ...keys.map(() => id))) ??
        [];
    }
    const batches = reply.filter(([, entries]) => entries.length > 0);
    if (this.readPending && batches.length === 0) {
      this.readPending = false;
      return true;
    }
    for (const [key, entries] of batches) {
      // Sales are independent (idempotent writes; the sales table decides a contested ticket), so a batch is
      // written a few at a time; one that failed stays pending and is read again.
      const handled: boolean[] = [];
      for (let i = 0; i < entries.length; i += CONCURRENT_WRITES) {
        handled.push(...(await Promise.all(entries.slice(i, i + CONCURRENT_WRITES).map((e) => this.handle(key, e)))));
      }
      if (handled.includes(false)) {
        this.readPending = true; // retry from this consumer's pending list
        await this.backoff();
        return false;
      }
    }
    return true;
  }

  /** Records one sale and acknowledges it. Returns false when it should be retried later. */
  async handle(key: string, [id, fields]: StreamEntry): Promise<boolean> {
    const { store, redis, logger, config } = this.deps;
    if (!fields) {
      await redis.xack(key, outboxGroup, id); // the entry is gone from the stream; nothing to write
      return true;
    }
    try {
      const sale = parseSaleEntry(fields);
      const result = await store.recordSale(sale);
      if (result.outcome === 'conflict') {
        // Redis sold what the store has sold to another sale (or numbered a sale again): it lost data. The sale is
        // kept aside, and the performance sells nothing more until rehydrated from the store.
        const { tickets, order_number_taken_by } = result.conflict;
        logger.error('conflicting sale refused by the document store; performance marked recovering', {
          order_number: sale.order_number,
          transaction_id: sale.transaction_id,
          performance_id: sale.performance_id,
          conflicting_tickets: tickets,
          order_number_taken_by,
        });
        this.deps.metrics?.writerConflicts.inc();
        await this.deps.locks.markRecovering(sale.performance_id, `conflicting sale ${sale.order_number} of ${sale.transaction_id}`);
        const why = [
          ...(order_number_taken_by ? [`order number taken by transaction ${order_number_taken_by}`] : []),
          ...(tickets.length ? [`tickets sold to other orders: ${tickets.map((t) => `${t.id}→${t.sold_to_order}`).join(', ')}`] : []),
        ];
        await this.deadLetter(key, id, fields, `conflict: ${why.join('; ')}`);
        this.attempts.delete(id);
        return true;
      }
      await redis.xack(key, outboxGroup, id);
      if (result.outcome === 'written') this.deps.metrics?.salesPersisted.inc();
      this.attempts.delete(id);
      return true;
    } catch (err) {
      if (err instanceof Unavailable) {
        this.storeDown = true;
        logger.warn('order writer: document store unavailable, will retry', { stream: key, id });
        return false;
      }
      const failures = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, failures);
      logger.error('order writer: sale failed', { stream: key, id, failures, error: (err as Error).message });
      if (err instanceof MalformedSale || failures >= config.maxDeliveries) {
        await this.deadLetter(key, id, fields, (err as Error).message);
        this.attempts.delete(id);
        return true;
      }
      return false;
    }
  }

  /** Moves an entry to its performance's dead-letter stream with the error, and acknowledges it, atomically. */
  private async deadLetter(key: string, id: string, fields: string[], error: string): Promise<void> {
    const dead = performanceKeys(performanceOfStream(key) ?? '').deadLetters;
    await this.deps.redis
      .multi()
      .xadd(dead, '*', 'original_id', id, 'error', error, 'failed_at', new Date().toISOString(), ...fields)
      .xack(key, outboxGroup, id)
      .exec();
    this.deps.metrics?.deadLetters.inc();
    this.deps.logger.error('order writer: sale moved to dead letters', { stream: key, id, dead_letters: dead, error });
  }

  private storeAnswers(): Promise<boolean> {
    return this.deps.store.ping().then(
      () => true,
      () => false,
    );
  }

  private async backoff(): Promise<void> {
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
    await sleep(this.backoffMs);
  }

  /**
   * Periodic work, run by one writer replica at a time (redlock), on the active outboxes and a few other
   * performances, never on all of them:
   * - reclaim: entries pending longer than claimIdleMs (their writer died) are claimed with XAUTOCLAIM and written
   *   here. An entry delivered more than maxDeliveries times while the document store answers is a poison entry: it
   *   goes to the dead letters;
   * - trim: what every group has acknowledged leaves each active outbox (a pending entry stays, and all after it);
   *   an outbox found drained retireAfterMs after its latest mark leaves the active set;
   * - scan: scanBatch performances, round robin over every performance, are checked for an outbox with entries
   *   but no mark (marked again), and against the document store (reconcile);
   * - recovery: active performances marked recovering are rehydrated (autoRehydrate).
   */
  async sweep(): Promise<void> {
    if (!this.running) return;
    const { redlock, config, logger } = this.deps;
    let lock: Awaited<ReturnType<Redlock['acquire']>> | undefined;
    try {
      lock = await redlock.acquire([writerSweepLockKey], config.sweepIntervalMs * 2);
    } catch {
      return; // another replica sweeps
    }
    try {
      // claiming counts a delivery; while the store is down nobody could write the entries anyway
      if (!(await this.storeAnswers())) return;
      await this.discover();
      for (const key of [...this.streams]) if (this.running) await this.reclaim(key);
      if (!this.running) return;
      await this.trimActive();
      await this.scanForUnmarked();
      // performances whose Redis state is behind the store (Redis lost data): marked, and rehydrated
      if (!this.running) return;
      const { store, locks } = this.deps;
      const results: ReconcileResult[] = [
        ...(await rehydrateMarked(store, locks, config.autoRehydrate, [...this.active.keys()])),
        ...(await reconcile(store, locks, config.autoRehydrate, await this.nextStorePerformances())),
      ];
      for (const r of results) logger.error('performance behind the document store', { ...r });
      // the automatic archive (src/writer/archive-job.ts): at its own cadence, under its own lock
      await this.deps.archive?.runIfDue();
    } catch (err) {
      logger.warn('order writer: sweep failed', { error: (err as Error).message });
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /** Claims and writes an outbox's stale pending entries (one that fails stays pending for this writer's reads). */
  private async reclaim(key: string): Promise<void> {
    const { redis, config, logger } = this.deps;
    let claimed: StreamEntry[];
    try {
      [, claimed] = (await redis.call(
        'XAUTOCLAIM', key, outboxGroup, config.consumer, config.claimIdleMs, '0-0', 'COUNT', config.batchSize,
      )) as [string, StreamEntry[]];
    } catch (err) {
      // one outbox gone (its performance archived, its shard down) does not stop the sweep of the others
      logger.warn('order writer: reclaim failed', { stream: key, error: (err as Error).message });
      return;
    }
    if (claimed.length === 0) return;
    const pending = (await redis.call('XPENDING', key, outboxGroup, '-', '+', claimed.length * 2, config.consumer)) as [
      string, string, number, number,
    ][];
    const deliveries = new Map(pending.map(([id, , , count]) => [id, Number(count)]));
    for (const entry of claimed) {
      if ((deliveries.get(entry[0]) ?? 0) > config.maxDeliveries) {
        await this.deadLetter(key, entry[0], entry[1] ?? [], `delivered more than ${config.maxDeliveries} times`);
      } else if (!(await this.handle(key, entry))) {
        this.readPending = true;
        break;
      }
    }
    logger.info('order writer: reclaimed stale sales', { stream: key, count: claimed.length });
  }

  /**
   * Trims every active outbox down to what some group still needs (trim_outbox.lua) and retires the performances
   * whose outbox it found drained long enough after their latest mark (see src/redis/active-outboxes.ts).
   */
  private async trimActive(): Promise<void> {
    const { redis, config, logger } = this.deps;
    for (const [id, markedAt] of [...this.active]) {
      try {
        const trim = await trimOutbox(redis, id);
        if (await retireOutbox(redis, id, markedAt, trim, config.retireAfterMs)) {
          this.active.delete(id);
          this.streams.delete(performanceKeys(id).outbox);
        }
      } catch (err) {
        logger.warn('order writer: trim failed', { performance_id: id, error: (err as Error).message });
      }
    }
  }

  /**
   * The backstop of the active set: the next scanBatch performances of a round robin over every performance
   * (SSCAN); one whose outbox holds entries but is not active is marked again, so its sales are read. Finds what a
   * lost mark left (the active set's shard failed over before replicating it) and outboxes of an older tixlock.
   */
  private async scanForUnmarked(): Promise<void> {
    const { redis, config, logger } = this.deps;
    // SSCAN's COUNT is a hint: what it returns beyond a batch waits for the next sweep, so that each sweep checks
    // scanBatch performances (or all, when there are fewer) and costs the same whatever their number. A pass that
    // ends goes on with the next one within the sweep, once: the set is a hash table (Redis 7.0 has no listpack
    // sets), and a pass's last call may return nothing, which left a sweep with nothing to check
    let passStarted = this.scanCursor === '0';
    for (let calls = 0; this.scanQueue.length < config.scanBatch && calls < 4; calls++) {
      const [cursor, found] = await redis.sscan(performanceSetKey, this.scanCursor, 'COUNT', config.scanBatch);
      this.scanCursor = cursor;
      this.scanQueue.push(...found.filter((id) => !this.scanQueue.includes(id)));
      if (cursor !== '0') continue;
      if (passStarted) break; // every performance was seen in this sweep
      passStarted = true;
    }
    const ids = this.scanQueue.splice(0, config.scanBatch);
    const lengths = await Promise.all(ids.map((id) => redis.xlen(performanceKeys(id).outbox)));
    for (const [i, id] of ids.entries()) {
      if ((lengths[i] ?? 0) === 0 || this.active.has(id)) continue;
      const markedAt = await markOutbox(redis, id);
      this.active.set(id, markedAt);
      logger.info('order writer: an outbox with entries had no active mark; marked again', { performance_id: id, entries: lengths[i] });
    }
  }

  /** The next scanBatch performances of the store, round robin (the store is listed once per pass). */
  private async nextStorePerformances(): Promise<{ id: string }[]> {
    if (this.storeQueue.length === 0) this.storeQueue = (await this.deps.store.listPerformances()).map(({ id, archive }) => ({ id, archive }));
    return this.storeQueue.splice(0, this.deps.config.scanBatch);
  }
}
