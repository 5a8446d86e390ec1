// Domain objects and the ports (interfaces) the use cases run over. No HTTP, no Redis, no process.env here.
import type { PerformanceDoc, TicketDoc } from './documents';

export type Role = 'client' | 'admin';

/** Who is asking: the client name from the API key, its role and its IP. */
export interface Caller {
  name: string;
  role: Role;
  ip: string;
}

export interface TicketAttributes {
  section: string; // '' = not set
  row: string;
  seat: string;
  price: number; // cents
  price_level: string;
}

/** One ticket as an inventory request gives it; absent attributes keep their current value. */
export interface InventoryTicket {
  id: string;
  section?: string;
  row?: string;
  seat?: string;
  price?: number;
  price_level?: string;
}

export interface PerformanceSettings {
  name?: string;
  starts_at?: string;
  /** when the performance ends (else starts_at + the end grace; see lifecycle.ts) */
  ends_at?: string;
  hold_seconds?: number;
  max_tickets_per_transaction?: number;
}

export interface PerformanceInfo extends PerformanceSettings {
  id: string;
  code: number | undefined;
  created_at_ms: number | undefined;
  updated_at_ms: number | undefined;
  counts: { total: number; available: number; locked: number; sold: number };
  /** its end as the lock store enforces it (ends_at, else starts_at + grace, as of the last PUT); undefined = none */
  ends_ms: number | undefined;
  /** when an admin closed it */
  closed_at_ms: number | undefined;
  /** when it was sealed for its archive (see archive.ts): it never changes again, and its keys go next */
  sealed_at_ms: number | undefined;
  /** the lock store's clock when this was read */
  now_ms: number;
}

/** Live state of one ticket as the lock store sees it. */
export interface TicketState extends TicketAttributes {
  id: string;
  performance_id: string;
  order_number: string | undefined; // set when sold
  sold_by_transaction: string | undefined;
  holder: string | undefined; // transaction id holding the lock
  lock_expires_ms: number | undefined;
  holder_client?: string; // only when the store was asked who holds it
  holder_ip?: string;
}

export const TRANSACTION_STATUSES = ['open', 'checkout', 'complete', 'released', 'expired'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** A transaction record and its tickets' live state. */
export interface TransactionState {
  id: string;
  performance_id: string;
  status: TransactionStatus; // as stored; an open/checkout one whose lock lapsed is shown as expired
  client: string;
  ip: string;
  created_at_ms: number;
  lock_expires_ms: number;
  hold_seconds: number;
  order_number: string | undefined;
  now_ms: number; // the Redis clock when this was read
  tickets: TicketState[];
}

export interface BestAvailableQuery {
  quantity: number;
  section?: string;
  price_level?: string;
  max_price?: number;
}

/** What a new hold needs besides the tickets. */
export interface HoldOptions {
  transactionId: string;
  performanceId: string;
  caller: Caller;
  holdSeconds: number | undefined; // undefined = the performance's or the configured default
  /** who buys, for the per-buyer limit (id, else email); undefined = no buyer given */
  buyer?: Buyer | undefined;
}

export interface Buyer {
  id?: string | undefined;
  email?: string | undefined;
}

/** Rate of holds per client key: consume() throws RateLimited when the client is over its limit. */
export interface HoldRateLimiter {
  consume(client: string): Promise<void>;
}

export interface Access {
  caller: Caller;
  transactionId: string;
  performanceId: string;
}

export interface Completion {
  customer: Record<string, string> | undefined;
  paymentReference: string | undefined;
  /** number the sale above this order sequence, and refuse (RECOVERING) when Redis's is below it; 0 = no check */
  minSequence?: number;
}

/** What a ticket is to callers: its answers show it, the ticket page filters by it. */
export const TICKET_STATES = ['available', 'locked', 'sold'] as const;
export type TicketStateFilter = (typeof TICKET_STATES)[number] | undefined;

/** The lock store: ticket state in Redis, one atomic script per operation. Failures are AppErrors. */
export interface LockStore {
  /** Performance of each known ticket id (unknown ids are absent). */
  ticketPerformances(ticketIds: readonly string[]): Promise<Map<string, string>>;
  /** Records that the tickets belong to the performance; returns ids that belong to another one. */
  claimTickets(performanceId: string, ticketIds: readonly string[]): Promise<string[]>;
  /** the performance a transaction id belongs to (its code, see transaction-id.ts); undefined = none */
  transactionPerformance(transactionId: string): Promise<string | undefined>;
  /** the performance's code (the prefix of its order numbers and transaction ids); undefined = no such performance */
  performanceCode(performanceId: string): Promise<number | undefined>;
  nextPerformanceCode(): Promise<number>;
  /** What Redis holds of a performance's sales (see recovery.ts); exists = false when Redis has none of it. */
  salesState(performanceId: string): Promise<{ exists: boolean; orderSeq: number; recovering: string | undefined }>;
  /** Marks a performance recovering (holds and sales answer RECOVERING) with the reason, or clears the mark. */
  markRecovering(performanceId: string, reason: string): Promise<void>;
  clearRecovering(performanceId: string): Promise<void>;
  loadInventory(
    performanceId: string,
    /** ends_ms: the performance's end as the lock store enforces it (see lifecycle.ts) */
    settings: PerformanceSettings & { code?: number; ends_ms?: number },
    /** in seat order, relative ords ascending (see seat-order.ts) */
    tickets: readonly (InventoryTicket & { relativeOrd: number })[],
  ): Promise<{ added: number; updated: number; skippedSold: number; tickets: TicketDoc[] }>;
  /**
   * Rebuilds a performance's state from the document store (see rehydrate.ts), the global ticket index included;
   * keeps live holds and sales.
   */
  restoreInventory(
    performance: PerformanceDoc & { next_ord: number; order_seq: number; closed_at_ms?: number },
    tickets: readonly (TicketDoc & { sold: string | undefined })[],
  ): Promise<void>;
  performanceInfo(performanceId: string): Promise<PerformanceInfo | undefined>;
  /** Closes a performance (see lifecycle.ts); the close's time (the first close's when closed before), undefined = no such performance. */
  closePerformance(performanceId: string): Promise<number | undefined>;
  search(performanceId: string, query: BestAvailableQuery): Promise<TicketState[]>;
  listTickets(
    performanceId: string,
    state: TicketStateFilter,
    limit: number,
    cursor: string,
  ): Promise<{ tickets: TicketState[]; nextCursor: string | undefined }>;
  readTicket(performanceId: string, ticketId: string): Promise<TicketState | undefined>;
  hold(options: HoldOptions, ticketIds: readonly string[]): Promise<TransactionState>;
  holdBest(options: HoldOptions, query: BestAvailableQuery): Promise<TransactionState>;
  extend(access: Access, ticketIds: readonly string[] | undefined): Promise<TransactionState>;
  complete(access: Access, ticketIds: readonly string[] | undefined, completion: Completion): Promise<TransactionState>;
  release(access: Access): Promise<TransactionState>;
  readTransaction(access: Access): Promise<TransactionState>;
  ping(): Promise<void>;
}

/** Settings the use cases need, handed in by whoever wires the service: the configuration's domain group is exactly this. */
export interface DomainSettings {
  lockTtlSeconds: number;
  minHoldSeconds: number;
  maxHoldSeconds: number;
  maxTicketsPerTransaction: number;
  recordRetentionSeconds: number;
  /** tickets one buyer may have locked at once per performance; 0 = no limit */
  buyerMaxTickets: number;
  /** a performance without ends_at ends this long after its starts_at (see lifecycle.ts) */
  endGraceSeconds: number;
}
