// The on-sale's invariant checks: a pure function over the collected facts, and a reader that gathers the facts
// through the API (Redis: ticket listing and counts; document store: the orders) after the order writer drained.
// test/redis-failure.test.ts checks the state after its Redis outages with the same function (without orders).
import { TixlockError, type Order, type Performance, type Ticket, type TixlockClient } from '../../src/client';
import type { Completion, HeldTicket, Ledger } from './buyer';

export type TicketStateName = Ticket['state'];

/** What the checks need of a ticket, as the API lists it. */
export type TicketFact = Pick<Ticket, 'id' | 'state' | 'price' | 'order_number' | 'transaction_id'>;

/** What the checks need of an order, as the document store has it. */
export type OrderFact = Pick<Order, 'order_number' | 'transaction_id' | 'total'> & { tickets: Pick<Order['tickets'][number], 'id' | 'price'>[] };

export type Counts = Performance['counts'];

export interface InvariantFacts {
  /** how many tickets the harness put on sale */
  expectedTotal: number;
  counts: Counts;
  /** every ticket as the listing gave it (a ticket may appear more than once; HSCAN may repeat) */
  tickets: TicketFact[];
  /** every transaction a buyer began → the tickets its hold answered with */
  holds: ReadonlyMap<string, readonly HeldTicket[]>;
  /** every completion answered OK */
  completions: readonly Completion[];
  /**
   * order number → the order as the document store has it (undefined: not found); without it (no order writer ran)
   * the orders are not checked
   */
  orders?: ReadonlyMap<string, OrderFact | undefined>;
  /** transactions whose completion had no clear answer: their sales are not counted as violations */
  uncertain?: readonly string[];
  /** true when every hold has ended by now: then nothing may still be locked */
  locksLapsed?: boolean;
  /** the document store's sales (one per sold ticket), when the harness can read it (embedded mode) */
  storeSales?: readonly { ticket_id: string; order_number: string; transaction_id: string }[];
  /** sale conflicts the order writer recorded for this performance (embedded mode) */
  storeConflicts?: number;
}

export interface Violation {
  check: string;
  message: string;
  tickets: string[];
}

export interface InvariantResult {
  ok: boolean;
  violations: Violation[];
  warnings: string[];
  stats: { tickets: number; sold: number; locked: number; available: number; completions: number; orders_found: number };
}

export const CHECKS = {
  counts: 'sold + locked + available = total',
  listing: 'every ticket listed once',
  soldOnce: 'no ticket sold twice',
  orders: 'every OK completion has exactly one order with its tickets and total',
  held: 'no order contains a ticket its transaction did not hold',
  soldCount: 'sold tickets = tickets of OK orders',
  locks: 'every lock ended at its expiry',
  store: 'the document store agrees with Redis',
} as const;

const sum = (xs: readonly { price: number }[]) => xs.reduce((a, t) => a + t.price, 0);

/**
 * Checks the facts; pure. Each violation names its check and the offending tickets. The phases run in this order,
 * each adding its violations (and warnings) to what the ones before found.
 */
export function checkInvariants(f: InvariantFacts): InvariantResult {
  const found = new Findings();
  const uncertain = new Set(f.uncertain ?? []);
  checkCounts(f, found);
  const listed = listingOf(f.tickets, f.counts.total, found);
  const sales = salesOf(f.completions, found);
  const orders = checkOrders(f.orders, sales, found);
  checkHeld(f.orders, f.holds, found);
  const listedSold = checkSoldTickets(listed, sales, orders.orderOf, uncertain, found);
  checkCompletionsSold(listed, sales, found);
  checkSoldCount(f.counts.sold, listed, listedSold, sales, orders, uncertain, found);
  checkLocks(f, listed, found);
  checkStore(f, listed, listedSold, found);
  const { sold, locked, available } = f.counts;
  return {
    ok: found.violations.length === 0,
    violations: found.violations,
    warnings: found.warnings,
    stats: { tickets: listed.size, sold, locked, available, completions: sales.byOrderNumber.size, orders_found: orders.found },
  };
}

/** What the checks found so far. */
class Findings {
  readonly violations: Violation[] = [];
  readonly warnings: string[] = [];

  fail(check: string, message: string, tickets: Iterable<string> = []): void {
    this.violations.push({ check, message, tickets: [...new Set(tickets)].sort() });
  }
}

/** Who sold what, as the buyers were told. */
interface Sales {
  /** ticket → the OK completion that sold it */
  completionOf: Map<string, Completion>;
  /** order number → its OK completion */
  byOrderNumber: Map<string, Completion>;
}

/** What the document store's orders hold, over the OK completions' orders found. */
interface OrdersFound {
  /** ticket → the number of the order that contains it */
  orderOf: Map<string, string>;
  found: number;
  /** tickets over the orders found */
  tickets: number;
}

/** sold + locked + available = total, and the total is what was put on sale. */
function checkCounts(f: InvariantFacts, found: Findings): void {
  const { total, available, locked, sold } = f.counts;
  if (sold + locked + available !== total) {
    found.fail(CHECKS.counts, `sold ${sold} + locked ${locked} + available ${available} = ${sold + locked + available}, not the total ${total}`);
  }
  if (total !== f.expectedTotal) found.fail(CHECKS.counts, `total is ${total}, but ${f.expectedTotal} tickets were put on sale`);
}

/** The listing, one entry per ticket (a sold repeat wins); repeats must agree on a sale, and every ticket is listed. */
function listingOf(tickets: readonly TicketFact[], total: number, found: Findings): Map<string, TicketFact> {
  const listed = new Map<string, TicketFact>();
  for (const t of tickets) {
    const seen = listed.get(t.id);
    if (seen && seen.state === 'sold' && t.state === 'sold' && seen.order_number !== t.order_number) {
      found.fail(CHECKS.soldOnce, `ticket ${t.id} listed as sold to ${seen.order_number} and to ${t.order_number}`, [t.id]);
    }
    if (!seen || t.state === 'sold') listed.set(t.id, t);
  }
  if (listed.size !== total) found.fail(CHECKS.listing, `the listing has ${listed.size} distinct tickets, the counts say ${total}`);
  return listed;
}

/** The OK completions by ticket and by order number: no order number answered twice, no ticket completed twice. */
function salesOf(completions: readonly Completion[], found: Findings): Sales {
  const completionOf = new Map<string, Completion>();
  const byOrderNumber = new Map<string, Completion>();
  for (const c of completions) {
    const other = byOrderNumber.get(c.orderNumber);
    if (other && other.transactionId !== c.transactionId) {
      found.fail(CHECKS.orders, `order number ${c.orderNumber} answered to two transactions (${other.transactionId}, ${c.transactionId})`, [
        ...other.tickets.map((t) => t.id),
        ...c.tickets.map((t) => t.id),
      ]);
    }
    byOrderNumber.set(c.orderNumber, c);
    for (const t of c.tickets) {
      const prior = completionOf.get(t.id);
      if (prior && prior.transactionId !== c.transactionId) {
        found.fail(CHECKS.soldOnce, `ticket ${t.id} completed OK by two transactions (orders ${prior.orderNumber}, ${c.orderNumber})`, [t.id]);
      }
      completionOf.set(t.id, c);
    }
  }
  return { completionOf, byOrderNumber };
}

/** Each OK completion: its order, with exactly its tickets and its total (none when the orders were not read). */
function checkOrders(orders: InvariantFacts['orders'], sales: Sales, found: Findings): OrdersFound {
  const seen: OrdersFound = { orderOf: new Map(), found: 0, tickets: 0 };
  if (!orders) return seen;
  for (const c of sales.byOrderNumber.values()) {
    const order = orders.get(c.orderNumber);
    if (!order) {
      found.fail(CHECKS.orders, `order ${c.orderNumber} (transaction ${c.transactionId}) completed OK but is not in the document store`, c.tickets.map((t) => t.id));
      continue;
    }
    seen.found++;
    seen.tickets += order.tickets.length;
    checkOrder(c, order, found);
    for (const { id } of order.tickets) {
      const prior = seen.orderOf.get(id);
      if (prior !== undefined && prior !== c.orderNumber) found.fail(CHECKS.soldOnce, `ticket ${id} is in orders ${prior} and ${c.orderNumber}`, [id]);
      seen.orderOf.set(id, c.orderNumber);
    }
  }
  return seen;
}

/** One order against the OK completion that made it: its transaction, its tickets, its total. */
function checkOrder(c: Completion, order: OrderFact, found: Findings): void {
  const heldIds = c.tickets.map((t) => t.id);
  if (order.transaction_id !== c.transactionId) {
    found.fail(CHECKS.orders, `order ${c.orderNumber} belongs to transaction ${order.transaction_id}, not ${c.transactionId}`, heldIds);
  }
  const ids = order.tickets.map((t) => t.id);
  const idSet = new Set(ids);
  const held = new Set(heldIds);
  const missing = heldIds.filter((id) => !idSet.has(id));
  const unheldInOrder = ids.filter((id) => !held.has(id));
  if (missing.length > 0 || unheldInOrder.length > 0 || idSet.size !== ids.length) {
    found.fail(
      CHECKS.orders,
      `order ${c.orderNumber} has tickets [${ids.join(', ')}], its transaction held [${heldIds.join(', ')}]`,
      [...missing, ...unheldInOrder, ...ids.filter((id, i) => ids.indexOf(id) !== i)],
    );
  }
  const expected = sum(c.tickets);
  if (order.total !== expected || sum(order.tickets) !== order.total) {
    found.fail(CHECKS.orders, `order ${c.orderNumber} total is ${order.total}, its tickets cost ${expected}`, ids);
  }
}

/** No order holds a ticket its transaction did not hold (every order found, by its own transaction). */
function checkHeld(orders: InvariantFacts['orders'], holds: InvariantFacts['holds'], found: Findings): void {
  for (const order of orders?.values() ?? []) {
    if (!order) continue;
    const held = holds.get(order.transaction_id);
    const stray = order.tickets.map((t) => t.id).filter((id) => !held?.some((h) => h.id === id));
    if (stray.length > 0) {
      found.fail(CHECKS.held, `order ${order.order_number}: transaction ${order.transaction_id} never held ${stray.join(', ')}`, stray);
    }
  }
}

/** Every sold ticket: sold by an OK completion, to the order that contains it. Returns how many the listing sold. */
function checkSoldTickets(
  listed: ReadonlyMap<string, TicketFact>,
  sales: Sales,
  orderOf: ReadonlyMap<string, string>,
  uncertain: ReadonlySet<string>,
  found: Findings,
): number {
  let listedSold = 0;
  for (const t of listed.values()) {
    if (t.state !== 'sold') continue;
    listedSold++;
    const c = sales.completionOf.get(t.id);
    if (!c) {
      if (t.transaction_id && uncertain.has(t.transaction_id)) {
        found.warnings.push(`ticket ${t.id} sold by transaction ${t.transaction_id}, whose completion had no clear answer`);
      } else {
        found.fail(CHECKS.soldOnce, `ticket ${t.id} is sold (order ${t.order_number}) but no OK completion sold it`, [t.id]);
      }
      continue;
    }
    if (t.order_number !== c.orderNumber) {
      found.fail(CHECKS.soldOnce, `ticket ${t.id} is sold to order ${t.order_number}, but completed OK in order ${c.orderNumber}`, [t.id]);
    }
    const inOrder = orderOf.get(t.id);
    if (inOrder !== undefined && inOrder !== t.order_number) {
      found.fail(CHECKS.soldOnce, `ticket ${t.id} is sold to order ${t.order_number} in Redis, but order ${inOrder} contains it`, [t.id]);
    }
  }
  return listedSold;
}

/** The OK completions' tickets are sold (and listed). */
function checkCompletionsSold(listed: ReadonlyMap<string, TicketFact>, sales: Sales, found: Findings): void {
  for (const [id, c] of sales.completionOf) {
    const t = listed.get(id);
    if (t && t.state !== 'sold') found.fail(CHECKS.soldOnce, `ticket ${id} completed OK in order ${c.orderNumber} but is ${t.state}`, [id]);
    if (!t && listed.size > 0) found.fail(CHECKS.listing, `ticket ${id} of order ${c.orderNumber} is not in the listing`, [id]);
  }
}

/** The counts of sold tickets agree: the counts, the listing, the OK completions and the orders found. */
function checkSoldCount(
  sold: number,
  listed: ReadonlyMap<string, TicketFact>,
  listedSold: number,
  sales: Sales,
  orders: OrdersFound,
  uncertain: ReadonlySet<string>,
  found: Findings,
): void {
  const completedTickets = [...sales.byOrderNumber.values()].reduce((a, c) => a + c.tickets.length, 0);
  const uncertainSold = [...listed.values()].filter(
    (t) => t.state === 'sold' && !sales.completionOf.has(t.id) && t.transaction_id !== undefined && uncertain.has(t.transaction_id),
  ).length;
  if (sold !== listedSold) found.fail(CHECKS.soldCount, `the counts say ${sold} sold, the listing has ${listedSold}`);
  if (listedSold - uncertainSold !== completedTickets) {
    found.fail(CHECKS.soldCount, `${listedSold} tickets are sold, the OK completions hold ${completedTickets}`);
  }
  if (orders.found === sales.byOrderNumber.size && orders.tickets !== completedTickets) {
    found.fail(CHECKS.soldCount, `the orders contain ${orders.tickets} tickets, the OK completions hold ${completedTickets}`);
  }
}

/** Locks end on their own: once every hold has ended, nothing is locked. */
function checkLocks(f: InvariantFacts, listed: ReadonlyMap<string, TicketFact>, found: Findings): void {
  const { locked } = f.counts;
  if (f.locksLapsed && locked !== 0) {
    const still = [...listed.values()].filter((t) => t.state === 'locked').map((t) => t.id);
    found.fail(CHECKS.locks, `${locked} tickets are still locked after every hold ended`, still);
  }
}

/** The document store's sales agree with Redis (embedded mode), and the order writer recorded no sale conflicts. */
function checkStore(f: InvariantFacts, listed: ReadonlyMap<string, TicketFact>, listedSold: number, found: Findings): void {
  if (f.storeSales) {
    const saleOf = new Map<string, string>();
    for (const s of f.storeSales) {
      const prior = saleOf.get(s.ticket_id);
      if (prior !== undefined && prior !== s.order_number) {
        found.fail(CHECKS.store, `ticket ${s.ticket_id} has sales to ${prior} and ${s.order_number}`, [s.ticket_id]);
      }
      saleOf.set(s.ticket_id, s.order_number);
      const t = listed.get(s.ticket_id);
      if (t && t.order_number !== s.order_number) {
        found.fail(CHECKS.store, `ticket ${s.ticket_id}: sale to ${s.order_number} in the document store, ${t.state} (${t.order_number ?? '-'}) in Redis`, [s.ticket_id]);
      }
    }
    if (saleOf.size !== listedSold) found.fail(CHECKS.store, `the document store has ${saleOf.size} sold tickets, Redis ${listedSold}`);
  }
  if ((f.storeConflicts ?? 0) > 0) found.fail(CHECKS.store, `the order writer recorded ${f.storeConflicts} sale conflicts`);
}

// ---------------------------------------------------------------------------------------------------------------
// The reader: everything through the API with the admin client (its retries ride out a 503 or a lost connection).

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls GET /orders/{n} for every OK completion until all are found or the time is up. */
export async function readOrders(
  admin: TixlockClient,
  orderNumbers: readonly string[],
  timeoutMs: number,
  parallel = 16,
): Promise<{ orders: Map<string, OrderFact | undefined>; waitedMs: number }> {
  const started = performance.now();
  const orders = new Map<string, OrderFact | undefined>(orderNumbers.map((n) => [n, undefined]));
  let missing = [...orderNumbers];
  for (;;) {
    const queue = [...missing];
    const stillMissing: string[] = [];
    const worker = async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        try {
          orders.set(n, await admin.getOrder(n));
        } catch (err) {
          // not written yet (404), or the service is briefly away (503, no answer): look again in the next round
          if (!(err instanceof TixlockError) || ![0, 404, 503].includes(err.status)) throw err;
          stillMissing.push(n);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
    missing = stillMissing;
    if (missing.length === 0 || performance.now() - started >= timeoutMs) break;
    await sleep(250);
  }
  return { orders, waitedMs: performance.now() - started };
}

/** Every ticket of the performance, through GET /performances/{id}/tickets pages, and the live counts. */
export async function readTickets(admin: TixlockClient, performanceId: string): Promise<{ counts: Counts; tickets: TicketFact[] }> {
  const tickets: TicketFact[] = [];
  let cursor: string | null = '';
  do {
    const page = await admin.listTickets(performanceId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    tickets.push(...page.tickets);
    cursor = page.next_cursor;
  } while (cursor);
  // counts after the listing: nothing is sold any more, and expired holds were given back by the listing's reads
  const { counts } = await admin.getPerformance(performanceId);
  return { counts, tickets };
}

export interface GatherOptions {
  performanceId: string;
  expectedTotal: number;
  drainMs: number;
  /** performance.now() after which every hold has ended (undefined: do not wait, do not check locks) */
  locksEndAt: number | undefined;
}

/** Waits for the writer to drain (and for holds to end), then reads Redis and the document store through the API. */
export async function gatherFacts(
  admin: TixlockClient,
  ledger: Ledger,
  opts: GatherOptions,
): Promise<{ facts: InvariantFacts; drainedMs: number }> {
  const numbers = [...new Set(ledger.completions.map((c) => c.orderNumber))];
  const { orders, waitedMs } = await readOrders(admin, numbers, opts.drainMs);
  if (opts.locksEndAt !== undefined) {
    const wait = opts.locksEndAt - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const { counts, tickets } = await readTickets(admin, opts.performanceId);
  return {
    facts: {
      expectedTotal: opts.expectedTotal,
      counts,
      tickets,
      holds: ledger.holds,
      completions: ledger.completions,
      orders,
      uncertain: ledger.uncertain,
      locksLapsed: opts.locksEndAt !== undefined,
    },
    drainedMs: waitedMs,
  };
}
