// A completed sale as the complete script appends it to an outbox stream (field/value pairs) -> Sale.
import type { Customer, Sale, SaleTicket } from '../domain/documents';

export class MalformedSale extends Error {}

export function parseSaleEntry(fields: readonly string[]): Sale {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  const need = (name: string) => {
    const v = f.get(name);
    if (v === undefined || v === '') throw new MalformedSale(`sale entry lacks ${name}`);
    return v;
  };
  let tickets: SaleTicket[];
  let customer: Customer | undefined;
  try {
    tickets = JSON.parse(need('tickets')) as SaleTicket[];
    customer = f.get('customer') ? (JSON.parse(f.get('customer') as string) as Customer) : undefined;
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
    ip: f.get('ip') ?? '',
    completed_at: new Date(completedMs).toISOString(),
    tickets: tickets.map((t) => ({ ...t, price: Number(t.price) })),
    total: Number(need('total')),
    customer,
    payment_reference: f.get('payment_reference') || undefined,
  };
}
