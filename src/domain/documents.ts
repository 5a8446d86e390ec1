// The document store port: where completed sales, orders, people and inventory are persisted.
// Two adapters pass one contract suite: SQLite (embedded default) and PostgreSQL (src/store/). The documents
// callers read (orders, people) are zod schemas: their types and the OpenAPI document come from them.
import { z } from 'zod';
import { wireTime } from './views';

export const SaleTicket = z.object({
  id: z.string(),
  price: z.number().int().min(0).describe('cents'),
  section: z.string().describe("'' when not set"),
  row: z.string(),
  seat: z.string(),
  price_level: z.string(),
});
export type SaleTicket = z.output<typeof SaleTicket>;

export const Customer = z.object({
  email: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  phone: z.string().optional(),
});
export type Customer = z.output<typeof Customer>;

/** One completed sale, as the complete script appends it to the performance's outbox stream. */
export interface Sale {
  order_number: string;
  transaction_id: string;
  performance_id: string;
  client: string;
  ip: string;
  completed_at: string; // ISO-8601
  tickets: SaleTicket[];
  total: number; // cents
  customer: Customer | undefined;
  payment_reference: string | undefined;
}

/** The ORDER document, as the order writer persisted it (callers see it as it is). */
export const OrderDoc = z.object({
  order_number: z.string(),
  transaction_id: z.string(),
  performance_id: z.string(),
  tickets: z.array(SaleTicket),
  total: z.number().int().min(0).describe('cents'),
  customer: Customer.nullable(),
  person_id: z.string().nullable().describe("the customer's lower-cased email"),
  payment_reference: z.string().nullable(),
  client: z.string().describe('client name of the key that completed it'),
  ip: z.string(),
  completed_at: wireTime.describe('when the sale was made'),
  created_at: wireTime.describe('when the document store first recorded it'),
});
export type OrderDoc = z.output<typeof OrderDoc>;

/**
 * The PEOPLE document, keyed by lower-cased email. Stores keep the person's own fields in one row and its orders in
 * a relation, one row per order (src/store/common.ts); order_numbers is read from there, in the order recorded.
 */
export const PersonDoc = z.object({
  person_id: z.string().describe('the lower-cased email'),
  email: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  phone: z.string().nullable(),
  order_numbers: z.array(z.string()),
  created_at: wireTime,
  updated_at: wireTime,
});
export type PersonDoc = z.output<typeof PersonDoc>;

/**
 * A performance as the store keeps it: its settings, written by every PUT (and by a close), and once archived what
 * it was when its Redis state went (see archive.ts): the store then answers for it.
 */
export interface PerformanceDoc {
  id: string;
  code: number; // the performance's number (prefix of its order numbers)
  name?: string;
  starts_at?: string;
  ends_at?: string;
  /** its end (ms) as the lock store enforced it: ends_at, else starts_at + the end grace at the last PUT */
  ends_ms?: number;
  hold_seconds?: number;
  max_tickets_per_transaction?: number;
  /** when an admin closed it */
  closed_at?: string;
  /** set once it is archived */
  archive?: PerformanceArchive;
}

/** What an archived performance was when its Redis state was removed. */
export interface PerformanceArchive {
  /** when it was sealed for its archive (nothing changed after) */
  archived_at: string;
  /** when it closed: closed by an admin, or ended */
  closed_at: string;
  created_at?: string;
  updated_at?: string;
  counts: { total: number; sold: number };
  orders: number;
}

/** An order as the archive compares it with Redis's sold tickets. */
export interface OrderSummary {
  order_number: string;
  transaction_id: string;
  performance_id: string;
  ticket_ids: string[];
}

export interface TicketDoc {
  id: string;
  performance_id: string;
  section: string;
  row: string;
  seat: string;
  price: number;
  price_level: string;
  /** place in seat order within the performance (keeps best-available order across a rehydrate) */
  ord: number;
}

/**
 * A sale refused because a ticket was already sold to another sale (a lost Redis lock would show so), or because
 * its order number already belongs to another transaction (Redis rolled back and numbered a sale again).
 */
export interface SaleConflict {
  order_number: string;
  transaction_id: string;
  performance_id: string;
  tickets: { id: string; sold_to_order: string }[];
  /** set when the order number is another transaction's: that transaction's id */
  order_number_taken_by?: string;
  sale: Sale;
  recorded_at: string;
}

export type RecordOutcome =
  | { outcome: 'written' } // order, person and sales written now
  | { outcome: 'duplicate' } // this order was already recorded: nothing changed
  | { outcome: 'conflict'; conflict: SaleConflict }; // refused; recorded in the conflicts collection (once per order number and transaction)

export interface SoldTicket {
  ticket_id: string;
  performance_id: string;
  order_number: string;
  transaction_id: string;
}

export interface DocumentStore {
  /** Creates or migrates the schema. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Upserts a performance (its document as given, replacing the stored one, except that an archived performance's
   * document never changes again) and its tickets (ticket attributes of sold tickets are left as they are).
   */
  upsertInventory(performance: PerformanceDoc, tickets: readonly TicketDoc[]): Promise<void>;
  getPerformance(performanceId: string): Promise<PerformanceDoc | undefined>;
  /** The performance of each ticket id the store knows (unknown ids are absent). */
  ticketPerformances(ticketIds: readonly string[]): Promise<Map<string, string>>;
  /** The orders of a performance (those with sold tickets of it), for the archive's comparison; in no set order. */
  listPerformanceOrders(performanceId: string): Promise<OrderSummary[]>;

  /**
   * In one document-store transaction: if any ticket is already sold to a different order, record a conflict and
   * write nothing else; else upsert the order (by order number), upsert the person (by lower-cased email: its own
   * fields only, never a growing list), link the order to the person once, and insert one sale per ticket.
   * Idempotent: a redelivered sale changes nothing.
   */
  recordSale(sale: Sale): Promise<RecordOutcome>;

  getOrder(orderNumber: string): Promise<OrderDoc | undefined>;
  getPerson(email: string): Promise<PersonDoc | undefined>;
  listConflicts(limit: number): Promise<SaleConflict[]>;

  /** For rehydrate: every performance, its tickets and its sold tickets. */
  listPerformances(): Promise<PerformanceDoc[]>;
  listTickets(performanceId: string): Promise<TicketDoc[]>;
  listSoldTickets(performanceId: string): Promise<SoldTicket[]>;
  /**
   * The highest order number the store holds for a performance (the longest, then the greatest: order numbers
   * of one performance share their 5-character prefix, and the alphabet is in ascending order); undefined = none.
   */
  lastOrderNumber(performanceId: string): Promise<string | undefined>;
}
