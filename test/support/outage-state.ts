// The state after an outage of test/redis-failure.test.ts, checked three ways:
// - the on-sale harness's invariants (tools/onsale/invariants.ts) over what the API lists and what the buyers were
//   told: the counts add up, every ticket listed once, no ticket sold twice, every sold ticket sold by a completion
//   a buyer was answered OK, to that order number, and no completed transaction's ticket unsold (no order writer
//   runs here, so the document store's orders are not read);
// - Redis itself, where the API cannot see: every ticket exactly one of sold / locked / available, the index and
//   the available count agree, the counts agree with Redis, every transaction record has all of its locks or none
//   (no half-done transaction), every lock and sale belongs to a record that lists the ticket, and the outbox sells
//   each ticket, transaction and order number once, as the sold hash has it;
// - every transaction a buyer was told about, through the API: readable, in the status its last answer gave, its
//   tickets locked by it (open, checkout), sold to it (complete) or not locked by it (released).
// Each check has a name (OUTAGE_CHECKS); outageProblems returns what they found, checkOutageState fails the test on
// any of it. test/outage-state-controls.test.ts shows each check reporting a known-bad state.
import type { Redis } from 'ioredis';
import request from 'supertest';
import { TixlockClient } from '../../src/client';
import { performanceCodeOf } from '../../src/domain/transaction-id';
import { availableChunkKey, availableCountKey, availableSlotOf, performanceCodeKey, performanceKeys } from '../../src/redis/keys';
import { checkInvariants, readTickets, type Counts, type InvariantFacts } from '../../tools/onsale/invariants';
import { as, KEYS } from './app';
import type { KnownTx } from './outage-traffic';

export interface OutagePerformance {
  id: string;
  ticketIds: string[];
}

/** What the checks need of the traffic: every transaction a buyer was told about. */
export interface ToldTraffic {
  known: ReadonlyMap<string, KnownTx>;
}

/** The checks, by name (test/outage-state-controls.test.ts gives each a known-bad state that it must report). */
export const OUTAGE_CHECKS = {
  invariants: "the on-sale harness's invariants over the listing",
  records: "the ticket records are the performance's tickets",
  oneState: 'every ticket is exactly one of sold, locked, available',
  holdsIndex: 'a ticket is locked exactly when it is in the holds index',
  availableCount: 'the available count is the available tickets',
  counts: "the API's counts are Redis's",
  recordTickets: 'a transaction record lists its tickets',
  recordCode: "a transaction's id leads to its performance",
  recordLocks: 'a live transaction has all of its locks, an ended one none',
  recordSales: 'a complete transaction sold all of its tickets to its order number, no other sold any',
  lockOwner: 'every lock belongs to a record that lists the ticket',
  saleOwner: 'every sale belongs to a record that lists the ticket',
  outbox: 'the outbox sells each ticket, transaction and order number once, as the sold hash has it',
  asTold: 'every transaction reads as its buyer was last told',
} as const;

export interface OutageProblem {
  check: string;
  message: string;
}

/** What the checks found. */
class Problems {
  readonly list: OutageProblem[] = [];

  add(check: string, message: string): void {
    this.list.push({ check, message });
  }
}

/** Checks the state of a performance after an outage under `traffic` (see above); fails the test on a violation. */
export async function checkOutageState(redis: Redis, base: string, perf: OutagePerformance, traffic: ToldTraffic) {
  const { problems, state } = await outageProblems(redis, base, perf, traffic);
  expect(problems.slice(0, 20)).toEqual([]);
  return state;
}

/** Every check above over the state of a performance: what they found, and what Redis holds. */
export async function outageProblems(redis: Redis, base: string, perf: OutagePerformance, traffic: ToldTraffic) {
  const facts = await factsOf(base, perf, traffic);
  const problems = new Problems();
  for (const v of checkInvariants(facts).violations) problems.add(OUTAGE_CHECKS.invariants, `${v.check}: ${v.message}`);
  const state = await checkRedisState(redis, perf, facts.counts, traffic, problems);
  await checkTransactionsAsTold(base, traffic, problems);
  return { problems: problems.list, state };
}

/** The facts the on-sale's checks take: the listing and counts through the API, the buyers' holds and completions. */
async function factsOf(base: string, perf: OutagePerformance, traffic: ToldTraffic): Promise<InvariantFacts> {
  const admin = new TixlockClient({ baseUrl: base, apiKey: KEYS.admin, retries: 0 });
  const { counts, tickets } = await readTickets(admin, perf.id);
  const known = [...traffic.known.values()];
  return {
    expectedTotal: perf.ticketIds.length,
    counts,
    tickets,
    holds: new Map(known.map((tx) => [tx.id, tx.tickets])),
    completions: known
      .filter((tx) => tx.status === 'complete')
      .map((tx) => ({ transactionId: tx.id, orderNumber: tx.orderNumber ?? '(none answered)', tickets: tx.tickets })),
    // every update that answered 503 was retried to a clear answer (retryUnsure), so no sale is uncertain; the holds
    // are long, so none has lapsed
    uncertain: [],
    locksLapsed: false,
  };
}

/**
 * Redis itself: the tickets' states, the index and counts, the transaction records, the locks and sales, the
 * outbox. Adds what it finds to `problems`; returns what it counted.
 */
async function checkRedisState(redis: Redis, perf: OutagePerformance, counts: Counts, traffic: ToldTraffic, problems: Problems) {
  const k = performanceKeys(perf.id);
  const now = Number((await redis.time())[0]) * 1000;
  const records = await redis.hgetall(k.tickets);
  const ids = Object.keys(records);
  const missing = perf.ticketIds.filter((id) => records[id] === undefined);
  const extra = ids.filter((id) => !perf.ticketIds.includes(id));
  if (missing.length + extra.length > 0) problems.add(OUTAGE_CHECKS.records, `ticket records missing [${missing}], not the performance's [${extra}]`);
  const sold = await redis.hgetall(k.sold);
  const { holder, available } = await ticketStates(redis, perf.id, records, sold, problems);
  const availableCount = Number(await redis.get(availableCountKey(perf.id)));
  if (availableCount !== available) problems.add(OUTAGE_CHECKS.availableCount, `the available count is ${availableCount}, ${available} tickets are available`);
  const redisCounts = { total: ids.length, available, locked: holder.size, sold: Object.keys(sold).length };
  if (JSON.stringify(counts) !== JSON.stringify(redisCounts)) problems.add(OUTAGE_CHECKS.counts, `the API counts ${JSON.stringify(counts)}, Redis ${JSON.stringify(redisCounts)}`);

  const txRecords = await transactionRecords(redis, perf.id);
  const unknownToBuyers = [...txRecords.keys()].filter((id) => !traffic.known.has(id));
  for (const [id, rec] of txRecords) await checkTransactionRecord(redis, perf.id, id, rec, { holder, sold, now }, problems);
  // every lock and every sale belongs to a record that lists the ticket
  const lists = (id: string, ticket: string) => (txRecords.get(id)?.tickets ?? '').split(',').includes(ticket);
  for (const [ticket, id] of holder) if (!lists(id, ticket)) problems.add(OUTAGE_CHECKS.lockOwner, `lock on ${ticket} by ${id}: no such record`);
  for (const [ticket, value] of Object.entries(sold)) {
    const id = value.split('|')[1] as string;
    if (!lists(id, ticket)) problems.add(OUTAGE_CHECKS.saleOwner, `sale of ${ticket} to ${id}: no such record`);
  }
  await checkOutbox(redis, perf.id, sold, problems);
  return { transactions: txRecords.size, unknownToBuyers: unknownToBuyers.length, sold: Object.keys(sold).length, locked: holder.size };
}

/** Each ticket: exactly one of sold, locked, available; locked exactly when in the holds index. Who holds what. */
async function ticketStates(redis: Redis, performanceId: string, records: Record<string, string>, sold: Record<string, string>, problems: Problems) {
  const k = performanceKeys(performanceId);
  const ids = Object.keys(records);
  const pipeline = redis.pipeline();
  for (const id of ids) {
    const slot = availableSlotOf(records[id] as string);
    pipeline.get(`${k.lockPrefix}${id}`);
    pipeline.zscore(availableChunkKey(performanceId, slot.partition, slot.chunk), id);
    pipeline.zscore(k.holds, id);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([err, v]) => {
    if (err) throw err;
    return v as string | null;
  });
  const holder = new Map<string, string>();
  let available = 0;
  ids.forEach((id, i) => {
    const [lock, availScore, holdScore] = replies.slice(3 * i, 3 * i + 3);
    if (lock) holder.set(id, lock);
    if (availScore !== null) available++;
    const states = [sold[id] !== undefined, lock !== null, availScore !== null].filter(Boolean).length;
    if (states !== 1) problems.add(OUTAGE_CHECKS.oneState, `ticket ${id}: sold=${sold[id]} lock=${lock} available=${availScore !== null}`);
    if ((holdScore !== null) !== (lock !== null)) problems.add(OUTAGE_CHECKS.holdsIndex, `ticket ${id}: lock=${lock} but holds score ${holdScore}`);
  });
  return { holder, available };
}

/** Every transaction record in Redis, known to a buyer or not (a hold that answered 503 may have happened). */
async function transactionRecords(redis: Redis, performanceId: string): Promise<Map<string, Record<string, string>>> {
  const k = performanceKeys(performanceId);
  const txRecords = new Map<string, Record<string, string>>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${k.transactionPrefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) txRecords.set(key.slice(k.transactionPrefix.length), await redis.hgetall(key));
  } while (cursor !== '0');
  return txRecords;
}

/** One transaction record: tickets listed, its id leads to its performance, all of its locks or none, its sales. */
async function checkTransactionRecord(
  redis: Redis,
  performanceId: string,
  id: string,
  rec: Record<string, string>,
  { holder, sold, now }: { holder: Map<string, string>; sold: Record<string, string>; now: number },
  problems: Problems,
): Promise<void> {
  const tickets = (rec.tickets ?? '').split(',').filter(Boolean);
  if (tickets.length === 0) problems.add(OUTAGE_CHECKS.recordTickets, `transaction ${id}: a record without tickets ${JSON.stringify(rec)}`);
  if ((await redis.get(performanceCodeKey(performanceCodeOf(id) ?? 0))) !== performanceId) problems.add(OUTAGE_CHECKS.recordCode, `transaction ${id}: its id does not lead to its performance`);
  const lockedByIt = tickets.filter((t) => holder.get(t) === id).length;
  const soldToIt = tickets.filter((t) => sold[t]?.endsWith(`|${id}`)).length;
  const live = (rec.status === 'open' || rec.status === 'checkout') && Number(rec.lock_expires) >= now;
  if (live && lockedByIt !== tickets.length) problems.add(OUTAGE_CHECKS.recordLocks, `transaction ${id} (${rec.status}): ${lockedByIt}/${tickets.length} locks`);
  if (!live && lockedByIt !== 0) problems.add(OUTAGE_CHECKS.recordLocks, `transaction ${id} (${rec.status}): still locks ${lockedByIt} tickets`);
  if (rec.status === 'complete') {
    if (!rec.order_number) problems.add(OUTAGE_CHECKS.recordSales, `transaction ${id}: complete without an order number`);
    const mine = tickets.filter((t) => sold[t] === `${rec.order_number}|${id}`).length;
    if (mine !== tickets.length) problems.add(OUTAGE_CHECKS.recordSales, `transaction ${id}: complete but ${mine}/${tickets.length} tickets sold to it`);
  } else if (soldToIt !== 0) {
    problems.add(OUTAGE_CHECKS.recordSales, `transaction ${id} (${rec.status}): ${soldToIt} tickets sold to it`);
  }
}

/** The outbox: each ticket sold once, each transaction and order number once, matching the sold hash. */
async function checkOutbox(redis: Redis, performanceId: string, sold: Record<string, string>, problems: Problems): Promise<void> {
  const outbox = await redis.xrange(performanceKeys(performanceId).outbox, '-', '+');
  const soldInOutbox = new Map<string, string>();
  const orders = new Set<string>();
  const transactions = new Set<string>();
  for (const [, fields] of outbox) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    if (orders.has(f.order_number as string)) problems.add(OUTAGE_CHECKS.outbox, `order ${f.order_number} twice in the outbox`);
    if (transactions.has(f.transaction_id as string)) problems.add(OUTAGE_CHECKS.outbox, `transaction ${f.transaction_id} sold twice`);
    orders.add(f.order_number as string);
    transactions.add(f.transaction_id as string);
    for (const t of JSON.parse(f.tickets as string) as { id: string }[]) {
      if (soldInOutbox.has(t.id)) problems.add(OUTAGE_CHECKS.outbox, `ticket ${t.id} sold twice: ${soldInOutbox.get(t.id)} and ${f.order_number}`);
      soldInOutbox.set(t.id, f.order_number as string);
      if (sold[t.id] !== `${f.order_number}|${f.transaction_id}`) problems.add(OUTAGE_CHECKS.outbox, `ticket ${t.id}: outbox and sold hash disagree`);
    }
  }
  const soldCount = Object.keys(sold).length;
  if (soldInOutbox.size !== soldCount) problems.add(OUTAGE_CHECKS.outbox, `the outbox sells ${soldInOutbox.size} tickets, the sold hash has ${soldCount}`);
}

/** Every transaction a buyer was told about, through the API: its status and its tickets' states. */
async function checkTransactionsAsTold(base: string, traffic: ToldTraffic, problems: Problems): Promise<void> {
  for (const tx of traffic.known.values()) {
    const res = await request(base).get(`/transaction/${tx.id}`).set(as(tx.key));
    if (res.status !== 200) {
      problems.add(OUTAGE_CHECKS.asTold, `transaction ${tx.id} (last seen ${tx.status}): GET answered ${res.status} ${res.text}`);
      continue;
    }
    const allowed = new Set([tx.status, ...tx.unsure]);
    const status = res.body.transaction_status as string;
    if (!allowed.has(status)) problems.add(OUTAGE_CHECKS.asTold, `transaction ${tx.id}: ${status}, expected one of ${[...allowed]}`);
    const tickets = res.body.tickets as { id: string; state: string; transaction_id?: string; order_number?: string }[];
    if (tickets.map((t) => t.id).join() !== tx.tickets.map((t) => t.id).join()) problems.add(OUTAGE_CHECKS.asTold, `transaction ${tx.id}: other tickets`);
    for (const t of tickets) {
      const ok =
        status === 'complete'
          ? t.state === 'sold' && t.order_number === res.body.order_number
          : status === 'open' || status === 'checkout'
            ? t.state === 'locked' && t.transaction_id === tx.id
            : !(t.state === 'locked' && t.transaction_id === tx.id);
      if (!ok) problems.add(OUTAGE_CHECKS.asTold, `transaction ${tx.id} (${status}): ticket ${t.id} is ${JSON.stringify(t)}`);
    }
    if (status === 'complete' && tx.orderNumber !== undefined && res.body.order_number !== tx.orderNumber)
      problems.add(OUTAGE_CHECKS.asTold, `transaction ${tx.id}: order ${res.body.order_number}, was answered ${tx.orderNumber}`);
  }
}
