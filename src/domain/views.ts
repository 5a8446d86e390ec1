// What callers see of performances, tickets and transactions: wire-ready objects, with who-holds-it only for its
// holder and admins. Each shape is a zod schema, the one place it is written: the TypeScript types below and the
// OpenAPI document (src/http/openapi.ts) both come from it.
import { z } from 'zod';
import type { PerformanceDoc } from './documents';
import { closedAt, LIFECYCLES, lifecycleOf } from './lifecycle';
import { TICKET_STATES, TRANSACTION_STATUSES, type Caller, type PerformanceInfo, type TicketState, type TransactionState, type TransactionStatus } from './types';

/** A time as callers see it: ISO-8601 UTC with milliseconds. */
export const wireTime = z.iso.datetime({ precision: 3 });

const orNullText = (what: string) => z.string().nullable().describe(`${what}; null when the inventory did not set it`);

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = (s: string) => (s === '' ? null : s);

export const TicketView = z.object({
  id: z.string().describe('the ticket id'),
  performance_id: z.string(),
  section: orNullText('section'),
  row: orNullText('row'),
  seat: orNullText('seat, always a string'),
  price: z.number().int().min(0).describe('price in cents'),
  price_level: orNullText('price level'),
  state: z.enum(TICKET_STATES),
  sold: z.boolean().describe('true when state is sold'),
  lock_expires: wireTime.optional().describe('when the lock lapses; only while locked'),
  transaction_id: z.string().optional().describe('the holding transaction while locked, the buying one when sold'),
  order_number: z.string().optional().describe('only when sold'),
  locked_by: z.string().optional().describe('client name of the holder; only for the holder and admins'),
  locked_ip: z.string().optional().describe("holder's IP address; only for the holder and admins"),
});
export type TicketView = z.output<typeof TicketView>;

/** holderClient/holderIp: who holds the lock, when known; shown only to that client and to admins. */
export function ticketView(t: TicketState, caller: Caller, holderClient = t.holder_client, holderIp = t.holder_ip): TicketView {
  const view: TicketView = {
    id: t.id,
    performance_id: t.performance_id,
    section: orNull(t.section),
    row: orNull(t.row),
    seat: orNull(t.seat),
    price: t.price,
    price_level: orNull(t.price_level),
    state: t.order_number ? 'sold' : t.holder ? 'locked' : 'available',
    sold: Boolean(t.order_number),
  };
  if (view.state === 'sold') {
    view.order_number = t.order_number;
    if (t.sold_by_transaction) view.transaction_id = t.sold_by_transaction;
  } else if (view.state === 'locked') {
    view.transaction_id = t.holder;
    if (t.lock_expires_ms) view.lock_expires = iso(t.lock_expires_ms);
    if (holderClient !== undefined && (caller.role === 'admin' || caller.name === holderClient)) {
      view.locked_by = holderClient;
      view.locked_ip = holderIp;
    }
  }
  return view;
}

export const TransactionView = z.object({
  transaction_id: z.uuid().describe('opaque to clients (a UUID)'),
  transaction_status: z.enum(TRANSACTION_STATUSES).describe('an open or checkout transaction whose lock lapsed reads as expired'),
  performance_id: z.string(),
  tickets: z.array(TicketView).describe('in the order the caller gave them (best available: best first)'),
  created_at: wireTime,
  hold_seconds: z.number().int().positive().describe('the hold each checkout renews'),
  lock_expires: wireTime.optional().describe('while open or checkout (also when that time has passed)'),
  order_number: z.string().optional().describe('once complete'),
  locked_by: z.string().describe('client name of the owner'),
  locked_ip: z.string().describe("owner's IP address"),
});
export type TransactionView = z.output<typeof TransactionView>;

const counts = z
  .object({ total: z.number().int().min(0), available: z.number().int().min(0), locked: z.number().int().min(0), sold: z.number().int().min(0) })
  .describe('live ticket counts (archived: as they were when archived, none available or locked)');

export const PerformanceView = z.object({
  id: z.string(),
  name: z.string().optional(),
  starts_at: z.iso.datetime({ offset: true }).optional().describe('as given in the PUT'),
  ends_at: z.iso.datetime({ offset: true }).optional().describe('as given in the PUT; without it the performance ends PERFORMANCE_END_GRACE_SECONDS after starts_at'),
  hold_seconds: z.number().int().positive().optional().describe("the performance's default hold"),
  max_tickets_per_transaction: z.number().int().min(1).optional(),
  created_at: wireTime.optional(),
  updated_at: wireTime.optional(),
  lifecycle: z
    .enum(LIFECYCLES)
    .describe('open: it sells; closed: closed by an admin or ended (no new holds); archived: its sales are all persisted and the document store answers for it'),
  closed_at: wireTime.optional().describe('when it closed (an admin close, or its end); only once closed'),
  archived_at: wireTime.optional().describe('when it was archived; only once archived'),
  counts,
});
export type PerformanceView = z.output<typeof PerformanceView>;

/** A PUT's answer: the performance and what the PUT did to its tickets. */
export const PerformanceUpsertView = PerformanceView.extend({
  added: z.number().int().min(0).describe('new tickets'),
  updated: z.number().int().min(0).describe('unsold tickets whose attributes were set again'),
  skipped_sold: z.number().int().min(0).describe('sold tickets, left as they are'),
});
export type PerformanceUpsertView = z.output<typeof PerformanceUpsertView>;

export const TicketPageView = z.object({
  tickets: z.array(TicketView),
  next_cursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
});
export type TicketPageView = z.output<typeof TicketPageView>;

const isoOrUndefined = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** What a performance's answer repeats of its settings, live or archived. */
const settingsOf = (p: Pick<PerformanceView, 'id' | 'name' | 'starts_at' | 'ends_at' | 'hold_seconds' | 'max_tickets_per_transaction'>) => ({
  id: p.id,
  name: p.name,
  starts_at: p.starts_at,
  ends_at: p.ends_at,
  hold_seconds: p.hold_seconds,
  max_tickets_per_transaction: p.max_tickets_per_transaction,
});

export function performanceView(p: PerformanceInfo): PerformanceView {
  return {
    ...settingsOf(p),
    created_at: isoOrUndefined(p.created_at_ms),
    updated_at: isoOrUndefined(p.updated_at_ms),
    lifecycle: lifecycleOf(p),
    closed_at: isoOrUndefined(closedAt(p)),
    archived_at: isoOrUndefined(p.sealed_at_ms),
    counts: p.counts,
  };
}

/** An archived performance, as the document store keeps it (see archive.ts). */
export function archivedPerformanceView(p: PerformanceDoc & { archive: NonNullable<PerformanceDoc['archive']> }): PerformanceView {
  const a = p.archive;
  return {
    ...settingsOf(p),
    created_at: a.created_at,
    updated_at: a.updated_at,
    lifecycle: 'archived',
    closed_at: a.closed_at,
    archived_at: a.archived_at,
    counts: { total: a.counts.total, available: 0, locked: 0, sold: a.counts.sold },
  };
}

/** An open or checkout transaction whose lock lapsed (Redis keeps a key alive while now <= expiry) is expired. */
export function effectiveStatus(tx: TransactionState): TransactionStatus {
  const live = tx.status === 'open' || tx.status === 'checkout';
  return live && tx.now_ms > tx.lock_expires_ms ? 'expired' : tx.status;
}

export function transactionView(tx: TransactionState, caller: Caller): TransactionView {
  const status = effectiveStatus(tx);
  const view: TransactionView = {
    transaction_id: tx.id,
    transaction_status: status,
    performance_id: tx.performance_id,
    tickets: tx.tickets.map((t) =>
      t.holder === tx.id ? ticketView(t, caller, tx.client, tx.ip) : ticketView(t, caller),
    ),
    created_at: iso(tx.created_at_ms),
    hold_seconds: tx.hold_seconds,
    locked_by: tx.client,
    locked_ip: tx.ip,
  };
  if (tx.status === 'open' || tx.status === 'checkout') view.lock_expires = iso(tx.lock_expires_ms);
  if (tx.order_number) view.order_number = tx.order_number;
  return view;
}
