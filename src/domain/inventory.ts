// Inventory use cases: load performances and their tickets, counts, close, ticket lookup and search.
import { AppError, InvalidRequest, performanceClosed, performanceNotFound } from '../errors';
import type { DocumentStore, PerformanceDoc, TicketDoc } from './documents';
import { endOf, lifecycleOf } from './lifecycle';
import { assignRelativeOrds } from './seat-order';
import type {
  BestAvailableQuery,
  Caller,
  DomainSettings,
  InventoryTicket,
  LockStore,
  PerformanceInfo,
  PerformanceSettings,
  TicketStateFilter,
} from './types';
import {
  archivedPerformanceView,
  performanceView,
  ticketView,
  type PerformanceUpsertView,
  type PerformanceView,
  type TicketPageView,
  type TicketView,
} from './views';

/** Tickets per load script call: each call is atomic and short enough not to stall Redis. */
const LOAD_CHUNK = 2000;

export class InventoryService {
  constructor(
    private readonly store: LockStore,
    private readonly documents: DocumentStore,
    private readonly settings: DomainSettings,
  ) {}

  /**
   * Creates a performance or adds to it; unsold tickets are updated, sold ones never change. Redis first (it
   * assigns seat order), then the document store; a retry after a failure in between is harmless (upsert). A closed
   * or archived performance takes nothing (409 PERFORMANCE_CLOSED); a ticket id the document store has under another
   * performance (an archived one's: Redis forgot those) is a TICKET_CONFLICT like one Redis knows.
   */
  async upsertPerformance(
    performanceId: string,
    settings: PerformanceSettings,
    tickets: readonly InventoryTicket[],
  ): Promise<PerformanceUpsertView> {
    this.checkSettings(settings);
    const seen = new Set<string>();
    const duplicates = tickets.filter((t) => seen.size === seen.add(t.id).size).map((t) => t.id);
    if (duplicates.length > 0) {
      throw new InvalidRequest([{ path: 'tickets', message: `duplicate ticket ids: ${duplicates.slice(0, 10).join(', ')}` }]);
    }
    const existing = await this.store.performanceInfo(performanceId);
    // a closed performance takes no inventory (the load script refuses it too, should it close meanwhile); an
    // archived one is gone from Redis: the store says so
    if (existing ? lifecycleOf(existing) !== 'open' : (await this.documents.getPerformance(performanceId))?.archive) throw performanceClosed();
    const merged = { starts_at: settings.starts_at ?? existing?.starts_at, ends_at: settings.ends_at ?? existing?.ends_at };
    if (merged.starts_at !== undefined && merged.ends_at !== undefined && Date.parse(merged.ends_at) < Date.parse(merged.starts_at)) {
      throw new InvalidRequest([{ path: settings.ends_at !== undefined ? 'ends_at' : 'starts_at', message: 'ends_at must not be before starts_at' }]);
    }
    const ids = tickets.map((t) => t.id);
    // the store first: a ticket of an archived performance is no longer in Redis's index, and must not be claimed
    const storedOwners = await this.documents.ticketPerformances(ids);
    const elsewhere = ids.filter((id) => (storedOwners.get(id) ?? performanceId) !== performanceId);
    const foreign = elsewhere.length > 0 ? elsewhere : await this.store.claimTickets(performanceId, ids);
    if (foreign.length > 0) {
      throw new AppError('TICKET_CONFLICT', 'Some ticket ids belong to another performance.', { tickets: foreign });
    }
    const code = existing?.code ?? (await this.store.nextPerformanceCode());
    const endsMs = endOf(merged, this.settings.endGraceSeconds);
    const totals = { added: 0, updated: 0, skipped_sold: 0 };
    const stored: TicketDoc[] = [];
    // seat order over the whole request, then chunks of it: a request in any order loads in seat order
    const ordered = assignRelativeOrds(tickets);
    const chunks = ordered.length === 0 ? [[]] : loadChunks(ordered);
    for (const [i, part] of chunks.entries()) {
      // settings ride along with the first chunk; later chunks only add tickets
      const first = { ...settings, code, ...(endsMs === undefined ? {} : { ends_ms: endsMs }) };
      const result = await this.store.loadInventory(performanceId, i === 0 ? first : { code }, part);
      totals.added += result.added;
      totals.updated += result.updated;
      totals.skipped_sold += result.skippedSold;
      stored.push(...result.tickets);
    }
    const info = await this.store.performanceInfo(performanceId);
    if (!info) throw performanceNotFound();
    await this.documents.upsertInventory(performanceDocOf(info, code), stored);
    return { ...performanceView(info), ...totals };
  }

  /**
   * Closes a performance: no new holds and no inventory from now on; transactions whose lock is live may still be
   * checked out and completed until it lapses (see lifecycle.ts). Closing again answers the same; an archived
   * performance is closed already. The store keeps the close, so a rehydrate restores it.
   */
  async closePerformance(performanceId: string): Promise<PerformanceView> {
    const closed = await this.store.closePerformance(performanceId);
    const info = closed === undefined ? undefined : await this.store.performanceInfo(performanceId);
    if (!info) return this.storedPerformance(performanceId);
    // a sealed performance's document belongs to its archive (the store never lets an archived one's change anyway)
    if (info.sealed_at_ms === undefined && info.code !== undefined) await this.documents.upsertInventory(performanceDocOf(info, info.code), []);
    return performanceView(info);
  }

  private checkSettings(s: PerformanceSettings) {
    const { minHoldSeconds, maxHoldSeconds } = this.settings;
    if (s.hold_seconds !== undefined && (s.hold_seconds < minHoldSeconds || s.hold_seconds > maxHoldSeconds)) {
      throw new InvalidRequest([
        { path: 'hold_seconds', message: `must be between ${minHoldSeconds} and ${maxHoldSeconds}` },
      ]);
    }
  }

  /** From Redis while it has the performance, else (archived) from the document store. */
  async getPerformance(performanceId: string): Promise<PerformanceView> {
    const info = await this.store.performanceInfo(performanceId);
    return info ? performanceView(info) : this.storedPerformance(performanceId);
  }

  /** An archived performance, from the document store; any other one Redis does not have does not exist. */
  private async storedPerformance(performanceId: string): Promise<PerformanceView> {
    const doc = await this.documents.getPerformance(performanceId);
    if (!doc?.archive) throw performanceNotFound();
    return archivedPerformanceView({ ...doc, archive: doc.archive });
  }

  /** A page of a performance's tickets, live from Redis; an archived performance's are no longer listed (404). */
  async listTickets(caller: Caller, performanceId: string, state: TicketStateFilter, limit: number, cursor: string): Promise<TicketPageView> {
    const page = await this.store.listTickets(performanceId, state, limit, cursor).catch(async (err: unknown) => {
      if (err instanceof AppError && err.code === 'PERFORMANCE_NOT_FOUND' && (await this.documents.getPerformance(performanceId))?.archive) {
        throw new AppError('PERFORMANCE_NOT_FOUND', 'This performance is archived: its tickets are no longer listed (its orders are, GET /orders/{n}).');
      }
      throw err;
    });
    return { tickets: page.tickets.map((t) => ticketView(t, caller)), next_cursor: page.nextCursor ?? null };
  }

  /** The best available tickets; locks nothing. */
  async search(caller: Caller, performanceId: string, query: BestAvailableQuery): Promise<TicketView[]> {
    const tickets = await this.store.search(performanceId, query);
    return tickets.map((t) => ticketView(t, caller));
  }

  async getTicket(caller: Caller, ticketId: string): Promise<TicketView> {
    const performanceId = (await this.store.ticketPerformances([ticketId])).get(ticketId);
    const state = performanceId === undefined ? undefined : await this.store.readTicket(performanceId, ticketId);
    if (!state) throw new AppError('TICKET_NOT_FOUND', 'No such ticket.', { tickets: [ticketId] });
    return ticketView(state, caller);
  }
}

/** The store's document of a performance Redis has: its settings, its end and its close. */
export function performanceDocOf(info: PerformanceInfo, code: number): PerformanceDoc {
  return {
    id: info.id,
    code,
    name: info.name,
    starts_at: info.starts_at,
    ends_at: info.ends_at,
    ends_ms: info.ends_ms,
    hold_seconds: info.hold_seconds,
    max_tickets_per_transaction: info.max_tickets_per_transaction,
    closed_at: info.closed_at_ms === undefined ? undefined : new Date(info.closed_at_ms).toISOString(),
  };
}

/**
 * The request's tickets in script calls of about LOAD_CHUNK: each call spends ords on its own and leaves a gap
 * after them, so a cut goes where seat order has a gap anyway (never between two neighbours of a row); a row
 * longer than LOAD_CHUNK is cut where it must be.
 */
export function loadChunks<T extends { relativeOrd: number }>(ordered: readonly T[]): T[][] {
  const out: T[][] = [];
  let from = 0;
  while (from < ordered.length) {
    let to = Math.min(from + LOAD_CHUNK, ordered.length);
    const limit = Math.min(from + 2 * LOAD_CHUNK, ordered.length);
    while (to < limit && (ordered[to] as T).relativeOrd - (ordered[to - 1] as T).relativeOrd === 1) to++;
    out.push(ordered.slice(from, to));
    from = to;
  }
  return out;
}
