// The wire types of the API, derived from the server's own request schemas and views so that they cannot drift
// apart. Type-only imports: nothing of the server (express, ioredis, zod) is loaded when the client runs.
import type { z } from 'zod';
import type { OrderDoc, PersonDoc } from '../domain/documents';
import type { InventoryService } from '../domain/inventory';
import type { TransactionStatus } from '../domain/types';
import type { PerformanceView, TicketView, TransactionView } from '../domain/views';
import type { beginBody, inventoryBody, searchQuery, ticketPageQuery, updateBody } from '../http/schemas';

export type { ErrorCode } from '../http/errors';
export type { Issue } from '../errors';
export type { TransactionStatus };

export type Ticket = TicketView;
export type Transaction = TransactionView;
/** A completed transaction always carries its order number. */
export type CompletedTransaction = TransactionView & { transaction_status: 'complete'; order_number: string };
export type Performance = PerformanceView;
export type Order = OrderDoc;
export type Person = PersonDoc;

/** PUT /performances/{id}: settings and tickets to add or update. */
export type PerformanceBody = z.input<typeof inventoryBody>;
/** The PUT's answer: the performance with live counts, and what the request changed. */
export type PerformanceUpsert = Awaited<ReturnType<InventoryService['upsertPerformance']>>;

/** GET /performances/{id}/tickets: filters and paging (follow `next_cursor`). */
export type TicketPageQuery = Partial<z.output<typeof ticketPageQuery>>; // limit has a default
export type TicketPage = Awaited<ReturnType<InventoryService['listTickets']>>;

/** GET /tickets: the best available tickets of a performance (locks nothing). */
export type SearchQuery = z.output<typeof searchQuery>;

type BeginBody = z.input<typeof beginBody>;
/** What a hold of given ticket ids may add: its own hold time, the buyer for per-buyer limits. */
export type HoldOptions = Pick<BeginBody, 'hold_seconds' | 'buyer'>;
/** A best-available hold: pick and lock in one atomic step. */
export type HoldBestRequest = Required<Pick<BeginBody, 'performance_id' | 'quantity'>> &
  Pick<BeginBody, 'section' | 'price_level' | 'max_price' | 'hold_seconds' | 'buyer'>;

type UpdateBody = z.input<typeof updateBody>;
/** Checks a checkout may ask for: the transaction's tickets, exactly. */
export type CheckoutOptions = Pick<UpdateBody, 'tickets'>;
/** The customer (creates or updates the PEOPLE record) and payment reference of a sale. */
export type CompleteOptions = Pick<UpdateBody, 'tickets' | 'customer' | 'payment_reference'>;

/** HEAD /transaction/{id}: the transaction's status and lock expiry, from the headers alone. */
export interface TransactionHead {
  transaction_status: TransactionStatus;
  lock_expires?: string;
}

/** GET /readyz: each backing service's check. */
export interface Readiness {
  checks: Record<string, string>;
}
