// Rebuilds Redis state (inventory, sold tickets, order sequences) from the document store after Redis lost its
// data. Holds are not restored: a lost hold simply ends, as if it had expired. Archived performances are left
// out (their Redis state was removed on purpose, see archive.ts): named, they are refused.
import { AppError } from '../errors';
import type { DocumentStore, PerformanceDoc } from './documents';
import { decodeOrderNumber } from './order-number';
import type { LockStore } from './types';

const CHUNK = 2000;

export interface RehydrateResult {
  performance_id: string;
  tickets: number;
  sold: number;
}

export async function rehydrate(
  documents: DocumentStore,
  locks: LockStore,
  performanceIds: readonly string[] = [],
): Promise<RehydrateResult[]> {
  const all = await documents.listPerformances();
  const wanted = performanceIds.length ? new Set(performanceIds) : undefined;
  const missing = performanceIds.filter((id) => !all.some((p) => p.id === id));
  if (missing.length) throw new AppError('PERFORMANCE_NOT_FOUND', `Not in the document store: ${missing.join(', ')}`);
  const archived = performanceIds.filter((id) => all.some((p) => p.id === id && p.archive));
  if (archived.length) throw new AppError('PERFORMANCE_CLOSED', `Archived (nothing of them belongs in Redis again): ${archived.join(', ')}`);
  const results: RehydrateResult[] = [];
  for (const performance of all.filter((p) => (!wanted || wanted.has(p.id)) && !p.archive)) {
    results.push(await rehydratePerformance(documents, locks, performance));
  }
  return results;
}

async function rehydratePerformance(documents: DocumentStore, locks: LockStore, performance: PerformanceDoc) {
  const tickets = await documents.listTickets(performance.id);
  const soldTickets = await documents.listSoldTickets(performance.id);
  const sold = new Map(soldTickets.map((s) => [s.ticket_id, `${s.order_number}|${s.transaction_id}`]));
  const orderSeq = soldTickets.reduce((max, s) => Math.max(max, decodeOrderNumber(s.order_number).sequence), 0);
  const nextOrd = tickets.reduce((max, t) => Math.max(max, t.ord + 2), 0);

  const foreign = await locks.claimTickets(performance.id, tickets.map((t) => t.id));
  if (foreign.length) {
    throw new AppError('TICKET_CONFLICT', `Tickets of ${performance.id} belong to another performance in Redis.`, {
      tickets: foreign.slice(0, 20),
    });
  }
  for (let i = 0; i < Math.max(tickets.length, 1); i += CHUNK) {
    const part = tickets.slice(i, i + CHUNK).map((t) => ({ ...t, sold: sold.get(t.id) }));
    const closedAtMs = performance.closed_at === undefined ? undefined : Date.parse(performance.closed_at);
    await locks.restoreInventory({ ...performance, next_ord: nextOrd, order_seq: orderSeq, closed_at_ms: closedAtMs }, part);
  }
  return { performance_id: performance.id, tickets: tickets.length, sold: sold.size };
}
