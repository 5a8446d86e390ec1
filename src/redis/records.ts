// Parsing of what the scripts return: ticket records and transaction replies (see lua/includes/record.lua and tx.lua).
import type { TicketDoc } from '../domain/documents';
import type { TicketAttributes, TicketState, TransactionState, TransactionStatus } from '../domain/types';
import type { ScriptReply } from './script-bindings';

/** Record "ord|price|section|row|seat|price_level" -> the ticket as the document store keeps it. */
export function parseTicketDoc(performanceId: string, id: string, rec: string): TicketDoc {
  const [ord = '0'] = rec.split('|');
  return { id, performance_id: performanceId, ord: Number(ord), ...parseRecord(rec) };
}

/** Ticket -> record "ord|price|section|row|seat|price_level". */
export const formatRecord = (t: TicketDoc) => [t.ord, t.price, t.section, t.row, t.seat, t.price_level].join('|');

/** Record "ord|price|section|row|seat|price_level" -> attributes. */
export function parseRecord(rec: string): TicketAttributes {
  const [, price = '0', section = '', row = '', seat = '', price_level = ''] = rec.split('|');
  return { section, row, seat, price: Number(price), price_level };
}

/** Five reply values per ticket: id, record, sold ("order|tx" or ''), holder tx or '', lock expiry ms or 0. */
export function parseTicketStates(performanceId: string, flat: ScriptReply): TicketState[] {
  const out: TicketState[] = [];
  for (let i = 0; i + 4 < flat.length; i += 5) {
    const [order, soldTx] = String(flat[i + 2] ?? '').split('|');
    const holder = String(flat[i + 3] ?? '');
    out.push({
      id: String(flat[i]),
      performance_id: performanceId,
      ...parseRecord(String(flat[i + 1] ?? '')),
      order_number: order || undefined,
      sold_by_transaction: soldTx || undefined,
      holder: holder || undefined,
      lock_expires_ms: holder ? Number(flat[i + 4]) : undefined,
    });
  }
  return out;
}

/** {1, now, status, client, ip, created_at, lock_expires, hold_seconds, order_number, performance_id, tickets...} */
export function parseTransaction(transactionId: string, reply: ScriptReply): TransactionState {
  const performanceId = String(reply[9]);
  return {
    id: transactionId,
    now_ms: Number(reply[1]),
    status: String(reply[2]) as TransactionStatus,
    client: String(reply[3]),
    ip: String(reply[4]),
    created_at_ms: Number(reply[5]),
    lock_expires_ms: Number(reply[6]),
    hold_seconds: Number(reply[7]),
    order_number: reply[8] ? String(reply[8]) : undefined,
    performance_id: performanceId,
    tickets: parseTicketStates(performanceId, reply.slice(10)),
  };
}
