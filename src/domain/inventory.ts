// Inventory use cases: load performances and their tickets, counts, ticket lookup and search.
import { AppError, InvalidRequest, performanceNotFound } from '../errors';
import type { DocumentStore, TicketDoc } from './documents';
import { assignRelativeOrds } from './seat-order';
import type {
  BestAvailableQuery,
  Caller,
  DomainSettings,
  InventoryTicket,
  LockStore,
  PerformanceSettings,
  TicketStateFilter,
} from './types';
import { performanceView, ticketView, type PerformanceUpsertView, type PerformanceView, type TicketPageView, type TicketView } from './views';

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
   * assigns seat order), then the document store; a retry after a failure in between is harmless (upsert).
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
    const foreign = await this.store.claimTickets(performanceId, tickets.map((t) => t.id));
    if (foreign.length > 0) {
      throw new AppError('TICKET_CONFLICT', 'Some ticket ids belong to another performance.', { tickets: foreign });
    }
    const existing = await this.store.performanceInfo(performanceId);
    const code = existing?.code ?? (await this.store.nextPerformanceCode());
    const totals = { added: 0, updated: 0, skipped_sold: 0 };
    const stored: TicketDoc[] = [];
    // seat order over the whole request, then chunks of it: a request in any order loads in seat order
    const ordered = assignRelativeOrds(tickets);
    const chunks = ordered.length === 0 ? [[]] : loadChunks(ordered);
    for (const [i, part] of chunks.entries()) {
      // settings ride along with the first chunk; later chunks only add tickets
      const result = await this.store.loadInventory(performanceId, i === 0 ? { ...settings, code } : { code }, part);
      totals.added += result.added;
      totals.updated += result.updated;
      totals.skipped_sold += result.skippedSold;
      stored.push(...result.tickets);
    }
    const info = await this.store.performanceInfo(performanceId);
    if (!info) throw performanceNotFound();
    await this.documents.upsertInventory(
      {
        id: performanceId,
        code,
        name: info.name,
        starts_at: info.starts_at,
        hold_seconds: info.hold_seconds,
        max_tickets_per_transaction: info.max_tickets_per_transaction,
      },
      stored,
    );
    return { ...performanceView(info), ...totals };
  }

  private checkSettings(s: PerformanceSettings) {
    const { minHoldSeconds, maxHoldSeconds } = this.settings;
    if (s.hold_seconds !== undefined && (s.hold_seconds < minHoldSeconds || s.hold_seconds > maxHoldSeconds)) {
      throw new InvalidRequest([
        { path: 'hold_seconds', message: `must be between ${minHoldSeconds} and ${maxHoldSeconds}` },
      ]);
    }
  }

  async getPerformance(performanceId: string): Promise<PerformanceView> {
    const info = await this.store.performanceInfo(performanceId);
    if (!info) throw performanceNotFound();
    return performanceView(info);
  }

  async listTickets(caller: Caller, performanceId: string, state: TicketStateFilter, limit: number, cursor: string): Promise<TicketPageView> {
    const page = await this.store.listTickets(performanceId, state, limit, cursor);
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
