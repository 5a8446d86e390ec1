// What both document store adapters share: document builders and the person-merge rule, so SQLite and PostgreSQL
// write the very same documents.
import type { OrderDoc, PersonDoc, Sale, SaleConflict, SaleTicket, TicketDoc } from '../domain/documents';

/** The key of the PEOPLE collection: the trimmed, lower-cased email; null for no usable email. */
export function personIdOf(email: string | undefined | null): string | null {
  const id = (email ?? '').trim().toLowerCase();
  return id === '' ? null : id;
}

export function orderDocOf(sale: Sale, now: string): OrderDoc {
  return {
    order_number: sale.order_number,
    transaction_id: sale.transaction_id,
    performance_id: sale.performance_id,
    tickets: sale.tickets,
    total: sale.total,
    customer: sale.customer ?? null,
    person_id: personIdOf(sale.customer?.email),
    payment_reference: sale.payment_reference ?? null,
    client: sale.client,
    ip: sale.ip,
    completed_at: sale.completed_at,
    created_at: now,
  };
}

/**
 * The PEOPLE row: the person's own fields, of a fixed size. Its orders are not in it: the person_orders relation
 * (person_id, order_number, in the order they were recorded) holds them, one row added per sale in the sale's own
 * document-store transaction, so a person with many orders is never rewritten whole (schema step
 * PERSON_ORDERS_SCHEMA_STEP moved the order lists of earlier stores there).
 */
export type PersonRow = Omit<PersonDoc, 'order_numbers'>;

/** The schema step (src/store/sqlite.ts, postgres.ts) that made person_orders and emptied the people rows' lists. */
export const PERSON_ORDERS_SCHEMA_STEP = 3;

/** A new PEOPLE row for the sale's customer (who must have an email). */
export function newPersonRow(sale: Sale, personId: string, now: string): PersonRow {
  const c = sale.customer;
  return {
    person_id: personId,
    email: (c?.email ?? personId).trim(),
    first_name: c?.first_name ?? null,
    last_name: c?.last_name ?? null,
    phone: c?.phone ?? null,
    created_at: now,
    updated_at: now,
  };
}

/** The existing person with this sale merged in: names and phone when given; updated_at now. */
export function mergePersonRow(existing: PersonRow, sale: Sale, now: string): PersonRow {
  const c = sale.customer;
  return {
    person_id: existing.person_id,
    email: existing.email,
    first_name: c?.first_name ?? existing.first_name,
    last_name: c?.last_name ?? existing.last_name,
    phone: c?.phone ?? existing.phone,
    created_at: existing.created_at,
    updated_at: now,
  };
}

/** The PEOPLE document callers see (GET /people): the row's fields and its order numbers, in the schema's order. */
export function personDocOf(row: PersonRow, orderNumbers: string[]): PersonDoc {
  return {
    person_id: row.person_id,
    email: row.email,
    first_name: row.first_name ?? null,
    last_name: row.last_name ?? null,
    phone: row.phone ?? null,
    order_numbers: orderNumbers,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Who a ticket is sold to in the store: the order and its transaction. */
export interface SoldTo {
  order_number: string;
  transaction_id: string;
}

export type SaleJudgement = { kind: 'new' } | { kind: 'duplicate' } | { kind: 'conflict'; conflict: SaleConflict };

/**
 * Compares a sale with what the store holds, as a whole, never by order number alone:
 * - a ticket already sold to another sale (another order, or the same number under another transaction), or
 * - the order number already taken by another transaction (Redis rolled back and numbered a sale again)
 * is a conflict; the same order of the same transaction is a duplicate (a redelivery); else the sale is new.
 */
export function judgeSale(sale: Sale, sold: ReadonlyMap<string, SoldTo>, orderTakenBy: string | undefined, now: string): SaleJudgement {
  const mine = (s: SoldTo) => s.order_number === sale.order_number && s.transaction_id === sale.transaction_id;
  const tickets: SaleConflict['tickets'] = [];
  for (const id of new Set(sale.tickets.map((t) => t.id))) {
    const other = sold.get(id);
    if (other !== undefined && !mine(other)) tickets.push({ id, sold_to_order: other.order_number }); // in the sale's order
  }
  const numberTaken = orderTakenBy !== undefined && orderTakenBy !== sale.transaction_id;
  if (tickets.length > 0 || numberTaken) {
    const conflict: SaleConflict = {
      order_number: sale.order_number,
      transaction_id: sale.transaction_id,
      performance_id: sale.performance_id,
      tickets,
      sale,
      recorded_at: now,
    };
    if (numberTaken) conflict.order_number_taken_by = orderTakenBy;
    return { kind: 'conflict', conflict };
  }
  return orderTakenBy === undefined ? { kind: 'new' } : { kind: 'duplicate' };
}

/** The sale's ticket ids, distinct, sorted (a fixed lock order keeps concurrent PostgreSQL writers deadlock-free). */
export function saleTicketIds(sale: Sale): string[] {
  return [...new Set(sale.tickets.map((t) => t.id))].sort();
}

/** The last occurrence of each ticket id wins (one statement may not touch a row twice). */
export function distinctTickets(tickets: readonly TicketDoc[]): TicketDoc[] {
  const byId = new Map<string, TicketDoc>();
  for (const t of tickets) byId.set(t.id, t);
  return byId.size === tickets.length ? [...tickets] : [...byId.values()];
}

/** JSON of a document without undefined members (what JSONB and a re-parse would give back). */
export const toJson = (doc: unknown): string => JSON.stringify(doc);

/** The document of one SALES row: the sold ticket as it was sold. */
export function saleDocOf(sale: Sale, ticketId: string, ticket: SaleTicket | undefined, soldAt: string) {
  return {
    ticket_id: ticketId,
    performance_id: sale.performance_id,
    order_number: sale.order_number,
    transaction_id: sale.transaction_id,
    ticket: ticket ?? null,
    completed_at: sale.completed_at,
    recorded_at: soldAt,
  };
}
