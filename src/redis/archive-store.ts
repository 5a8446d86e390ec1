// The Redis side of archiving a performance (src/domain/archive.ts): its state read in one step, its sold tickets and
// tickets read in pages, the seal (lua/archive_seal.lua), and the removal of every key it has.
import { Cluster } from 'ioredis';
import type { ArchiveState, ArchiveStore, SealRequest, SealResult, SoldTo } from '../domain/archive';
import type { TicketDoc } from '../domain/documents';
import type { RedisClient } from './connection';
import { dropActiveOutbox } from './active-outboxes';
import { guarded } from './failures';
import { availableIndexKeys, availablePartitionKey, performanceCodeKey, performanceKeys, performanceSetKey, ticketIndexKey } from './keys';
import { parseTicketDoc } from './records';
import { runBound, SCRIPT_BINDINGS } from './script-bindings';

/** entries per HSCAN page of the tickets and sold hashes */
const SCAN_PAGE = 1000;
/** keys per UNLINK (all of one performance's slot), and index commands sent together */
const REMOVE_BATCH = 1000;

export class RedisArchiveStore implements ArchiveStore {
  constructor(private readonly redis: RedisClient) {}

  performances(): Promise<string[]> {
    return guarded(() => this.redis.smembers(performanceSetKey));
  }

  private keys(performanceId: string) {
    const k = performanceKeys(performanceId);
    return { performance: k.performance, tickets: k.tickets, holds: k.holds, sold: k.sold, outbox: k.outbox, dead_letters: k.deadLetters };
  }

  state(performanceId: string): Promise<ArchiveState | undefined> {
    return guarded(async () =>
      SCRIPT_BINDINGS.archive_state.decode(await runBound(this.redis, 'archive_state', { keys: this.keys(performanceId), args: {} }), performanceId),
    );
  }

  seal(performanceId: string, r: SealRequest): Promise<SealResult> {
    return guarded(async () =>
      SCRIPT_BINDINGS.archive_seal.decode(
        await runBound(this.redis, 'archive_seal', {
          keys: this.keys(performanceId),
          args: {
            ends_ms: r.endsMs ?? '',
            margin_ms: r.marginMs,
            order_seq: r.orderSeq,
            tickets: r.tickets,
            sold: r.sold,
            outbox_last: r.outboxLastId,
            orders: r.orders,
          },
        }),
      ),
    );
  }

  /** A hash's entries, page by page (HSCAN may give an entry twice: the map keeps it once). */
  private async scanHash(key: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', SCAN_PAGE);
      for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, flat[i + 1] as string);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  soldTickets(performanceId: string): Promise<Map<string, SoldTo>> {
    return guarded(async () => {
      const out = new Map<string, SoldTo>();
      for (const [ticket, value] of await this.scanHash(performanceKeys(performanceId).sold)) {
        const [order_number = '', transaction_id = ''] = value.split('|');
        out.set(ticket, { order_number, transaction_id });
      }
      return out;
    });
  }

  tickets(performanceId: string): Promise<TicketDoc[]> {
    return guarded(async () =>
      [...(await this.scanHash(performanceKeys(performanceId).tickets))].map(([id, rec]) => parseTicketDoc(performanceId, id, rec)),
    );
  }

  /**
   * Removes a sealed performance: its tickets' entries in the global ticket index, its code key, its place in the
   * order writers' list, then every key of its slot, the perf hash last (a removal that stopped half-way is found
   * sealed and finished by the next run). Transaction records and buyer zsets are left to expire on their own (lock
   * keys, buyer zsets: at the last lock's expiry; records: RECORD_RETENTION_SECONDS).
   */
  remove(performanceId: string, code: number, ticketIds: readonly string[]): Promise<number> {
    return guarded(async () => {
      let removed = await this.forgetTickets(ticketIds);
      if ((await this.redis.get(performanceCodeKey(code))) === performanceId) removed += await this.redis.del(performanceCodeKey(code));
      await this.forgetPerformance(performanceId);
      const k = performanceKeys(performanceId);
      const partitions = await this.redis.smembers(k.available);
      const index = await Promise.all(
        partitions.map(async (partition) => ({
          partition,
          chunks: (await this.redis.zrange(availablePartitionKey(performanceId, partition), '0', '-1')).map(Number),
        })),
      );
      const keys = [...availableIndexKeys(performanceId, index), k.tickets, k.sold, k.holds, k.outbox, k.deadLetters];
      for (let i = 0; i < keys.length; i += REMOVE_BATCH) removed += await this.redis.unlink(...keys.slice(i, i + REMOVE_BATCH));
      removed += await this.redis.unlink(k.performance);
      return removed;
    });
  }

  /**
   * Leaves the lists that name the performance: the performance list and the order writers' active outboxes (before
   * its keys go, so no writer creates its outbox again). The one place the archive forgets a performance.
   */
  private async forgetPerformance(performanceId: string): Promise<void> {
    await dropActiveOutbox(this.redis, performanceId);
    await this.redis.srem(performanceSetKey, performanceId);
  }

  /**
   * Removes the tickets' entries of the global ticket -> performance index (buckets in many slots: one node, one
   * pipeline per batch; a Cluster, one HDEL per bucket, which ioredis auto-pipelines per node). A ticket id belongs to
   * one performance (claimTickets), so its entry is this performance's. Returns the entries removed.
   */
  private async forgetTickets(ticketIds: readonly string[]): Promise<number> {
    const byBucket = new Map<string, string[]>();
    for (const id of ticketIds) {
      const bucket = ticketIndexKey(id);
      const ids = byBucket.get(bucket);
      if (ids) ids.push(id);
      else byBucket.set(bucket, [id]);
    }
    const buckets = [...byBucket];
    let removed = 0;
    for (let i = 0; i < buckets.length; i += REMOVE_BATCH) {
      const batch = buckets.slice(i, i + REMOVE_BATCH);
      const redis = this.redis;
      if (redis instanceof Cluster) {
        removed += (await Promise.all(batch.map(([bucket, ids]) => redis.hdel(bucket, ...ids)))).reduce((a, b) => a + b, 0);
      } else {
        const pipeline = redis.pipeline();
        for (const [bucket, ids] of batch) pipeline.hdel(bucket, ...ids);
        for (const [err, n] of (await pipeline.exec()) ?? []) {
          if (err) throw err;
          removed += Number(n);
        }
      }
    }
    return removed;
  }
}
