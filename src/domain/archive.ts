// Archiving a performance (lifecycle.ts): once it is closed or ended, every sale of it persisted and no lock left, its
// Redis state is removed and the document store answers for it. Nothing is removed unless the store holds every sold
// ticket and every order exactly as Redis has them; a mismatch stops the archive and is reported, never deleted.
//
// The steps, each safe to run again (a run that stopped half-way is finished by the next one):
//  1. read the performance's state in Redis in one step (ArchiveStore.state) and decide whether it is ready: closed or
//     ended, not recovering, its last lock lapsed at least the margin ago (a closed performance sells only under a live
//     lock, so from then on no sale can happen), every outbox entry delivered to the order writers and acknowledged;
//  2. read its sold tickets and compare them, and the orders they make, with the document store's: whole sets, both
//     ways; dead letters count as a mismatch (sales the writer gave up on are not in the store);
//  3. seal it (one script on its slot): the same checks again, and nothing changed since step 1 (order sequence,
//     ticket and sale counts, the outbox's last id); a sealed performance never changes again;
//  4. write the archive to the store: its tickets as Redis has them, then its document with the archive record
//     (settings, counts, when it closed and was archived), which from then on never changes (reconcile and rehydrate
//     leave it alone: Redis forgot it on purpose);
//  5. remove its Redis keys (ArchiveStore.remove).
// Kept elsewhere: transaction records and Idempotency-Key answers expire on their own (RECORD_RETENTION_SECONDS,
// IDEMPOTENCY_TTL_SECONDS).
import type { DocumentStore, OrderSummary, PerformanceDoc, SoldTicket, TicketDoc } from './documents';
import { closedAt, endOf } from './lifecycle';

/** Who a ticket is sold to: its order and transaction. */
export interface SoldTo {
  order_number: string;
  transaction_id: string;
}

/** What archiving a performance looks at in Redis, read in one step (lua/archive_state.lua). */
export interface ArchiveState {
  performanceId: string;
  /** the Redis clock when it was read */
  nowMs: number;
  /** its settings as the perf hash has them (code, name, starts_at, ends_at, hold, max tickets) */
  settings: PerformanceDoc;
  createdAtMs: number | undefined;
  updatedAtMs: number | undefined;
  /** its end as the lock store enforces it; undefined for a performance loaded before ends were kept */
  endsMs: number | undefined;
  closedAtMs: number | undefined;
  recovering: string | undefined;
  orderSeq: number;
  tickets: number;
  sold: number;
  /** the latest lock expiry in its holds (ms; 0 = none) */
  lastHoldExpiryMs: number;
  /** lastId: the outbox's last-generated id ('0-0' = no sale ever); the order writers' group, its pending entries and last delivered id */
  outbox: { lastId: string; group: boolean; pending: number; lastDeliveredId: string };
  deadLetters: number;
  /** set once sealed: when, and the counts verified then */
  sealed: { atMs: number; tickets: number; sold: number; orders: number } | undefined;
}

/** What the seal checks again: the counts verified, and the end of a performance whose hash has none. */
export interface SealRequest {
  endsMs: number | undefined;
  marginMs: number;
  orderSeq: number;
  tickets: number;
  sold: number;
  outboxLastId: string;
  orders: number;
}

export type SealResult = { sealed: true; atMs: number; before: boolean } | { sealed: false; reason: string };

/** The Redis side of an archive (src/redis/archive-store.ts). */
export interface ArchiveStore {
  /** every performance Redis has (the order writers' list) */
  performances(): Promise<string[]>;
  state(performanceId: string): Promise<ArchiveState | undefined>;
  soldTickets(performanceId: string): Promise<Map<string, SoldTo>>;
  tickets(performanceId: string): Promise<TicketDoc[]>;
  seal(performanceId: string, request: SealRequest): Promise<SealResult>;
  /** Removes every key of a sealed performance (the global ones of its code and tickets too); how many went. */
  remove(performanceId: string, code: number, ticketIds: readonly string[]): Promise<number>;
}

export interface ArchiveSettings {
  /** PERFORMANCE_END_GRACE_SECONDS: the end of a performance without ends_at whose hash has no end yet */
  endGraceSeconds: number;
  /** ARCHIVE_LOCK_MARGIN_SECONDS */
  lockMarginSeconds: number;
}

export type ArchiveOutcome =
  | { performance_id: string; outcome: 'archived'; tickets: number; sold: number; orders: number; keys_removed: number; resumed: boolean }
  /** archived before: the store answers for it */
  | { performance_id: string; outcome: 'already_archived' }
  /** not ready yet (open, a lock live, sales on their way to the store, recovering): tried again later */
  | { performance_id: string; outcome: 'waiting'; reason: string }
  /** the store lacks (or differs from) what Redis has: kept, and reported; a person has to look */
  | { performance_id: string; outcome: 'mismatch'; problems: string[] }
  | { performance_id: string; outcome: 'not_found' }
  /** Redis or the store failed (the archive picks up where it stopped next time) */
  | { performance_id: string; outcome: 'failed'; error: string };

/** The most problems one mismatch lists (then how many more). */
const MAX_PROBLEMS = 50;
/** Tickets per document-store write of the archive. */
const TICKET_CHUNK = 5000;

const iso = (ms: number) => new Date(ms).toISOString();

export class Archiver {
  constructor(
    private readonly redis: ArchiveStore,
    private readonly documents: DocumentStore,
    private readonly settings: ArchiveSettings,
  ) {}

  /** Archives each performance Redis has that is ready (in order of id); `stop` is asked between performances. */
  async archiveReady(stop: () => boolean = () => false): Promise<ArchiveOutcome[]> {
    return this.archiveEach((await this.redis.performances()).sort(), stop);
  }

  /** Archives each of the performances in turn; one that fails does not stop the others. */
  async archiveEach(performanceIds: readonly string[], stop: () => boolean = () => false): Promise<ArchiveOutcome[]> {
    const out: ArchiveOutcome[] = [];
    for (const id of performanceIds) {
      if (stop()) break;
      out.push(await this.archive(id).catch((err: unknown): ArchiveOutcome => ({ performance_id: id, outcome: 'failed', error: (err as Error).message })));
    }
    return out;
  }

  async archive(performanceId: string): Promise<ArchiveOutcome> {
    const state = await this.redis.state(performanceId);
    if (!state) {
      const doc = await this.documents.getPerformance(performanceId);
      return { performance_id: performanceId, outcome: doc?.archive ? 'already_archived' : 'not_found' };
    }
    const derivedEndMs = state.endsMs ?? endOf(state.settings, this.settings.endGraceSeconds);
    let sealed = state.sealed;
    if (!sealed) {
      const waiting = waitingReason(state, derivedEndMs, this.settings.lockMarginSeconds * 1000);
      if (waiting !== undefined) return { performance_id: performanceId, outcome: 'waiting', reason: waiting };
      const sold = await this.redis.soldTickets(performanceId);
      if (sold.size !== state.sold) return { performance_id: performanceId, outcome: 'waiting', reason: 'its sales changed while being read' };
      const [storeSold, storeOrders] = await Promise.all([
        this.documents.listSoldTickets(performanceId),
        this.documents.listPerformanceOrders(performanceId),
      ]);
      const problems = [
        ...(state.deadLetters > 0 ? [`${state.deadLetters} dead letter(s): sales the order writer gave up on (tixlock dead-letters ${performanceId})`] : []),
        ...compareSales(sold, storeSold, storeOrders),
      ];
      if (problems.length > 0) return { performance_id: performanceId, outcome: 'mismatch', problems: capped(problems) };
      const orders = new Set([...sold.values()].map((s) => s.order_number)).size;
      const seal = await this.redis.seal(performanceId, {
        endsMs: state.endsMs === undefined ? derivedEndMs : undefined,
        marginMs: this.settings.lockMarginSeconds * 1000,
        orderSeq: state.orderSeq,
        tickets: state.tickets,
        sold: state.sold,
        outboxLastId: state.outbox.lastId,
        orders,
      });
      if (!seal.sealed) return { performance_id: performanceId, outcome: 'waiting', reason: `not sealed: ${seal.reason}` };
      sealed = { atMs: seal.atMs, tickets: state.tickets, sold: state.sold, orders };
    }
    // sealed: nothing of it changes any more; record it in the store, then remove it from Redis
    const tickets = await this.redis.tickets(performanceId);
    const doc: PerformanceDoc = {
      ...state.settings,
      ends_ms: state.endsMs,
      closed_at: state.closedAtMs === undefined ? undefined : iso(state.closedAtMs),
    };
    for (let i = 0; i < tickets.length; i += TICKET_CHUNK) await this.documents.upsertInventory(doc, tickets.slice(i, i + TICKET_CHUNK));
    const closed = closedAt({ closed_at_ms: state.closedAtMs, ends_ms: derivedEndMs, now_ms: sealed.atMs }) ?? sealed.atMs;
    await this.documents.upsertInventory(
      {
        ...doc,
        archive: {
          archived_at: iso(sealed.atMs),
          closed_at: iso(closed),
          created_at: state.createdAtMs === undefined ? undefined : iso(state.createdAtMs),
          updated_at: state.updatedAtMs === undefined ? undefined : iso(state.updatedAtMs),
          counts: { total: sealed.tickets, sold: sealed.sold },
          orders: sealed.orders,
        },
      },
      [],
    );
    const removed = await this.redis.remove(performanceId, state.settings.code, tickets.map((t) => t.id));
    return {
      performance_id: performanceId,
      outcome: 'archived',
      tickets: sealed.tickets,
      sold: sealed.sold,
      orders: sealed.orders,
      keys_removed: removed,
      resumed: state.sealed !== undefined,
    };
  }
}

/** Why a performance is not ready to be archived (its state as Redis gave it), or undefined when it is. */
export function waitingReason(state: ArchiveState, endMs: number | undefined, marginMs: number): string | undefined {
  if (closedAt({ closed_at_ms: state.closedAtMs, ends_ms: endMs, now_ms: state.nowMs }) === undefined) {
    return endMs === undefined ? 'open, and it has no end (no ends_at or starts_at): close it first' : `open until it ends at ${iso(endMs)}`;
  }
  if (state.recovering !== undefined) return `recovering: ${state.recovering}`;
  if (state.lastHoldExpiryMs > state.nowMs - marginMs) {
    return `a lock is live or lapsed less than ${marginMs / 1000} s ago (the last lapses at ${iso(state.lastHoldExpiryMs)})`;
  }
  const { lastId, group, pending, lastDeliveredId } = state.outbox;
  if (lastId !== '0-0' && (!group || lastDeliveredId !== lastId)) return 'sales not yet delivered to the order writer';
  if (pending > 0) return `${pending} sale(s) delivered to the order writer and not yet acknowledged`;
  return undefined;
}

/**
 * What differs between the sold tickets Redis has (ticket -> order and transaction) and the store's sold tickets and
 * orders of the performance, both ways: a ticket or order missing on either side, or one with another order,
 * transaction or set of tickets. Empty when they agree.
 */
export function compareSales(redis: ReadonlyMap<string, SoldTo>, storeSold: readonly SoldTicket[], storeOrders: readonly OrderSummary[]): string[] {
  const problems: string[] = [];
  const sale = (s: SoldTo) => `order ${s.order_number} of transaction ${s.transaction_id}`;
  const stored = new Map(storeSold.map((s) => [s.ticket_id, s]));
  for (const [ticket, s] of redis) {
    const other = stored.get(ticket);
    if (!other) problems.push(`ticket ${ticket} is sold in Redis (${sale(s)}) and not in the document store`);
    else if (other.order_number !== s.order_number || other.transaction_id !== s.transaction_id) {
      problems.push(`ticket ${ticket} is sold in Redis to ${sale(s)}, in the document store to ${sale(other)}`);
    }
  }
  for (const s of storeSold) {
    if (!redis.has(s.ticket_id)) problems.push(`ticket ${s.ticket_id} is sold in the document store (${sale(s)}) and not in Redis`);
  }
  // the orders the sold tickets make, against the store's orders
  const orders = new Map<string, { transaction_id: string; tickets: string[] }>();
  for (const [ticket, s] of redis) {
    const o = orders.get(s.order_number) ?? { transaction_id: s.transaction_id, tickets: [] };
    o.tickets.push(ticket);
    orders.set(s.order_number, o);
  }
  const storedOrders = new Map(storeOrders.map((o) => [o.order_number, o]));
  const list = (ids: readonly string[]) => [...ids].sort().join(', ');
  for (const [number, o] of orders) {
    const other = storedOrders.get(number);
    if (!other) problems.push(`order ${number} is not in the document store`);
    else if (other.transaction_id !== o.transaction_id) {
      problems.push(`order ${number} is of transaction ${o.transaction_id} in Redis, ${other.transaction_id} in the document store`);
    } else if (list(other.ticket_ids) !== list(o.tickets)) {
      problems.push(`order ${number} has tickets ${list(o.tickets)} in Redis, ${list(other.ticket_ids)} in the document store`);
    }
  }
  for (const o of storeOrders) if (!orders.has(o.order_number)) problems.push(`order ${o.order_number} is in the document store and not in Redis`);
  return problems;
}

function capped(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`];
}
