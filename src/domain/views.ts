// What callers see of tickets and transactions: wire-ready objects, with who-holds-it only for its holder
// and admins.
import type { Caller, TicketState, TransactionState, TransactionStatus } from './types';

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = (s: string) => (s === '' ? null : s);

export interface TicketView {
  id: string;
  performance_id: string;
  section: string | null;
  row: string | null;
  seat: string | null;
  price: number;
  price_level: string | null;
  state: 'available' | 'locked' | 'sold';
  sold: boolean;
  lock_expires?: string;
  transaction_id?: string;
  order_number?: string;
  locked_by?: string;
  locked_ip?: string;
}

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

export interface TransactionView {
  transaction_id: string;
  transaction_status: TransactionStatus;
  performance_id: string;
  tickets: TicketView[];
  created_at: string;
  hold_seconds: number;
  lock_expires?: string;
  order_number?: string;
  locked_by: string;
  locked_ip: string;
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
