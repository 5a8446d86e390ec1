// A completed sale as the complete script appends it to an outbox stream (field/value pairs) -> Sale.
import type { Customer, Sale, SaleTicket } from '../domain/documents';

export class MalformedSale extends Error {}

/**
 * The outbox entry's format, declared once: its fields in the order lua/complete.lua's XADD writes them, each
 * required (present and non-empty) or optional. test/sale-entry.test.ts checks complete.lua against this list.
 */
export const SALE_ENTRY_FIELDS = {
  order_number: 'required',
  transaction_id: 'required',
  performance_id: 'required',
  client: 'required', // the client name that held the tickets
  ip: 'optional', // the buyer's address as the API saw it at the hold
  completed_at: 'required', // Unix time in ms (Redis TIME)
  tickets: 'required', // JSON: [{id, price, section, row, seat, price_level}]
  total: 'required', // the sum of the tickets' prices
  customer: 'optional', // JSON: the customer given at complete
  payment_reference: 'optional',
} as const satisfies Record<string, 'required' | 'optional'>;

export type SaleEntryField = keyof typeof SALE_ENTRY_FIELDS;

export function parseSaleEntry(fields: readonly string[]): Sale {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  const need = (name: SaleEntryField) => {
    const v = f.get(name);
    if (v === undefined || v === '') throw new MalformedSale(`sale entry lacks ${name}`);
    return v;
  };
  const may = (name: SaleEntryField) => f.get(name) || undefined;
  const ticketsJson = need('tickets');
  const customerJson = may('customer');
  let tickets: SaleTicket[];
  let customer: Customer | undefined;
  try {
    tickets = JSON.parse(ticketsJson) as SaleTicket[];
    customer = customerJson ? (JSON.parse(customerJson) as Customer) : undefined;
  } catch (err) {
    throw new MalformedSale(`sale entry has invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(tickets) || tickets.length === 0) throw new MalformedSale('sale entry has no tickets');
  const completedMs = Number(need('completed_at'));
  if (!Number.isFinite(completedMs)) throw new MalformedSale('sale entry has a bad completed_at');
  return {
    order_number: need('order_number'),
    transaction_id: need('transaction_id'),
    performance_id: need('performance_id'),
    client: need('client'),
    ip: may('ip') ?? '',
    completed_at: new Date(completedMs).toISOString(),
    tickets: tickets.map((t) => ({ ...t, price: Number(t.price) })),
    total: Number(need('total')),
    customer,
    payment_reference: may('payment_reference'),
  };
}
