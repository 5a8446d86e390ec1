// One simulated buyer: the seed flow (search → hold ids, or best-available hold → checkout → complete), or one of
// the ways of walking away, with think times; on a 409 the buyer searches again, up to a retry budget.
import type { ApiClient, ApiResponse } from './api-client';
import type { Metrics } from './metrics';
import type { OnsaleOptions, Range } from './options';

/** What a buyer means to do once holding tickets. */
export type Fate = 'pay' | 'expire' | 'release' | 'abandon_checkout';

export type Outcome =
  | 'paid'
  | 'expired' // held, then walked away: the lock expires
  | 'released'
  | 'abandoned_checkout' // checked out, then walked away: the extended lock expires
  | 'sold_out' // gave up: fewer tickets available than wanted
  | 'gave_up' // gave up: retry budget spent on conflicts
  | 'error'; // an answer the flow does not expect (see the error count)

export const OUTCOMES: readonly Outcome[] = ['paid', 'expired', 'released', 'abandoned_checkout', 'sold_out', 'gave_up', 'error'];

/** The endpoints a buyer calls, as the metrics name them, in the order of the flow. */
export const ENDPOINTS = [
  'GET /tickets',
  'POST /transaction (ids)',
  'POST /transaction (best)',
  'PUT checkout',
  'PUT complete',
  'DELETE /transaction',
  'GET /transaction',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface BuyerPlan {
  index: number;
  quantity: number;
  fate: Fate;
  /** best available in one step; else search, then hold those ids */
  best: boolean;
  /** a favourite section, dropped after the first 409 */
  section: string | undefined;
  rng: () => number;
}

export interface HeldTicket {
  id: string;
  price: number;
}

export interface Completion {
  transactionId: string;
  orderNumber: string;
  /** the tickets the hold answered with */
  tickets: HeldTicket[];
}

/** What the buyers did, for the invariant checks. */
export interface Ledger {
  /** every transaction a buyer began → the tickets its hold answered with */
  holds: Map<string, HeldTicket[]>;
  /** every completion answered OK */
  completions: Completion[];
  /** transactions whose completion got no clear answer (no answer, 5xx) even after reading them back */
  uncertain: string[];
  /** performance.now() of the last answer that set a lock (hold or checkout) */
  lastLockAt: number;
}

export const newLedger = (): Ledger => ({ holds: new Map(), completions: [], uncertain: [], lastLockAt: 0 });

/** mulberry32: a small seeded PRNG, so one seed gives the same buyers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (rng: () => number, r: Range) => r.min + Math.floor(rng() * (r.max - r.min + 1));

/** The buyer's choices, from its own seeded random stream (independent of scheduling). */
export function planBuyer(index: number, options: OnsaleOptions, sections: readonly string[]): BuyerPlan {
  const rng = seededRandom((options.seed * 0x9e3779b1 + index * 0x85ebca6b + 1) >>> 0);
  const quantity = between(rng, options.quantity);
  const f = rng();
  const { expire, release, abandonCheckout } = options.shares;
  const fate: Fate =
    f < expire ? 'expire' : f < expire + release ? 'release' : f < expire + release + abandonCheckout ? 'abandon_checkout' : 'pay';
  const best = rng() < options.bestShare;
  const section = rng() < 0.5 ? sections[Math.floor(rng() * sections.length)] : undefined;
  return { index, quantity, fate, best, section, rng };
}

export interface BuyerContext {
  api: ApiClient;
  clientKey: string;
  performanceId: string;
  metrics: Metrics;
  ledger: Ledger;
  thinkMs: Range;
  retries: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface TicketBody {
  id: string;
  price: number;
}

/** Runs one buyer to the end; never throws for an HTTP answer. */
export async function runBuyer(ctx: BuyerContext, plan: BuyerPlan): Promise<Outcome> {
  const { api, clientKey, metrics, ledger } = ctx;
  const call = async (endpoint: Endpoint, method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await api.request(method, path, clientKey, body);
    metrics.record(endpoint, res);
    return res;
  };
  const think = async () => {
    const ms = between(plan.rng, ctx.thinkMs);
    if (ms > 0) await sleep(ms);
  };

  let section = plan.section;
  let conflicts = 0;
  let lastConflict = '';
  /** after a 409: true = search again (after a think), false = retry budget spent */
  const conflict = async (res: ApiResponse) => {
    conflicts++;
    lastConflict = res.code ?? '';
    section = undefined;
    if (conflicts > ctx.retries) return false;
    await think();
    return true;
  };
  const giveUp = (): Outcome => (lastConflict === 'NOT_ENOUGH_TICKETS' ? 'sold_out' : 'gave_up');
  const filter = (): Record<string, string> => (section === undefined ? {} : { section });

  for (;;) {
    await think(); // browsing
    let hold: ApiResponse;
    if (plan.best) {
      hold = await call('POST /transaction (best)', 'POST', '/transaction', {
        performance_id: ctx.performanceId,
        quantity: plan.quantity,
        ...filter(),
      });
    } else {
      const query = new URLSearchParams({ performance_id: ctx.performanceId, quantity: String(plan.quantity), ...filter() });
      const search = await call('GET /tickets', 'GET', `/tickets?${query}`);
      if (search.status === 409) {
        if (await conflict(search)) continue;
        return giveUp();
      }
      if (search.status !== 200) return 'error';
      const ids = ((search.body?.tickets ?? []) as TicketBody[]).map((t) => t.id);
      await think(); // "yes, these"
      hold = await call('POST /transaction (ids)', 'POST', '/transaction', { tickets: ids });
    }
    if (hold.status === 409) {
      if (await conflict(hold)) continue;
      return giveUp();
    }
    if (hold.status !== 201) return 'error';
    ledger.lastLockAt = performance.now();
    const transactionId = String(hold.body?.transaction_id);
    const tickets = ((hold.body?.tickets ?? []) as TicketBody[]).map((t) => ({ id: t.id, price: t.price }));
    ledger.holds.set(transactionId, tickets);
    const txPath = `/transaction/${transactionId}`;

    if (plan.fate === 'expire') return 'expired';
    await think();
    if (plan.fate === 'release') {
      const released = await call('DELETE /transaction', 'DELETE', txPath);
      return released.status === 200 ? 'released' : 'error';
    }

    const checkout = await call('PUT checkout', 'PUT', txPath, { id: transactionId, status: 'checkout' });
    if (checkout.status === 409) {
      if (await conflict(checkout)) continue; // the lock lapsed and someone took a ticket: search again
      return giveUp();
    }
    if (checkout.status !== 200) return 'error';
    ledger.lastLockAt = performance.now();
    if (plan.fate === 'abandon_checkout') return 'abandoned_checkout';

    await think(); // paying
    const complete = await call('PUT complete', 'PUT', txPath, {
      status: 'complete',
      customer: { email: `buyer-${plan.index}@onsale.example`, first_name: 'Buyer', last_name: String(plan.index) },
      payment_reference: `pay-${plan.index}-${transactionId.slice(0, 8)}`,
    });
    if (complete.status === 200 && typeof complete.body?.order_number === 'string') {
      ledger.completions.push({ transactionId, orderNumber: complete.body.order_number, tickets });
      metrics.recordSale(tickets.length);
      return 'paid';
    }
    if (complete.status === 409) {
      if (await conflict(complete)) continue;
      return giveUp();
    }
    // no clear answer: read the transaction back, as a client that lost the response would
    const read = await call('GET /transaction', 'GET', txPath);
    if (read.status === 200 && read.body?.transaction_status === 'complete' && typeof read.body.order_number === 'string') {
      ledger.completions.push({ transactionId, orderNumber: read.body.order_number, tickets });
      metrics.recordSale(tickets.length);
      return 'paid';
    }
    if (read.status !== 200) ledger.uncertain.push(transactionId);
    return 'error';
  }
}
