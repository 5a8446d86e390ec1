// One simulated buyer: the seed flow (search → hold ids, or best-available hold → checkout → complete), or one of
// the ways of walking away, with think times; on a 409 the buyer searches again, up to a retry budget.
import { TixlockError, type Operation, type TixlockClient } from '../../src/client';
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

/** The endpoints a buyer calls, as the metrics name them, by the client operation behind each, in the order of the flow. */
export const ENDPOINTS = {
  searchTickets: 'GET /tickets',
  holdTickets: 'POST /transaction (ids)',
  holdBest: 'POST /transaction (best)',
  checkout: 'PUT checkout',
  complete: 'PUT complete',
  release: 'DELETE /transaction',
  getTransaction: 'GET /transaction',
} as const satisfies Partial<Record<Operation, string>>;

/** The metrics' name of a client operation (one a buyer does not call keeps its own name). */
export const endpointOf = (operation: Operation): string => (ENDPOINTS as Partial<Record<Operation, string>>)[operation] ?? operation;

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
  /**
   * The buyers' client (a client key): no retries and no Idempotency-Key, so every answer is the server's own, and
   * its onAttempt records each one in the metrics.
   */
  api: TixlockClient;
  performanceId: string;
  metrics: Metrics;
  ledger: Ledger;
  thinkMs: Range;
  retries: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Answer<T> = { ok: true; value: T } | { ok: false; error: TixlockError };

/** The call's value, or the TixlockError it failed with: the buyer decides by its status. */
async function answer<T>(call: Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (error instanceof TixlockError) return { ok: false, error };
    throw error;
  }
}

/** Runs one buyer to the end; never throws for an HTTP answer. */
export async function runBuyer(ctx: BuyerContext, plan: BuyerPlan): Promise<Outcome> {
  const buyer = new Buyer(ctx, plan);
  for (;;) {
    const outcome = await buyer.attempt();
    if (outcome !== 'again') return outcome;
  }
}

type Hold = Awaited<ReturnType<TixlockClient['holdTickets']>>;

/** One buyer's way through the flow: each attempt ends in an outcome, or 'again' (search again after a 409). */
class Buyer {
  /** the favourite section, dropped after the first 409 */
  private section: string | undefined;
  private conflicts = 0;
  private lastConflict = '';

  constructor(
    private readonly ctx: BuyerContext,
    private readonly plan: BuyerPlan,
  ) {
    this.section = plan.section;
  }

  /** Browse, hold, then walk away, release, or check out and pay, as the plan's fate says. */
  async attempt(): Promise<Outcome | 'again'> {
    const { api, ledger } = this.ctx;
    const { fate } = this.plan;
    await this.think(); // browsing
    const hold = await this.hold();
    if (!hold.ok) return this.failed(hold.error);
    ledger.lastLockAt = performance.now();
    const transactionId = hold.value.transaction_id;
    const tickets = hold.value.tickets.map((t) => ({ id: t.id, price: t.price }));
    ledger.holds.set(transactionId, tickets);

    if (fate === 'expire') return 'expired';
    await this.think();
    if (fate === 'release') {
      const released = await answer(api.release(transactionId));
      return released.ok ? 'released' : 'error';
    }
    const checkout = await answer(api.checkout(transactionId));
    if (!checkout.ok) return this.failed(checkout.error); // on a 409 the lock lapsed and someone took a ticket
    ledger.lastLockAt = performance.now();
    if (fate === 'abandon_checkout') return 'abandoned_checkout';
    await this.think(); // paying
    return this.pay(transactionId, tickets);
  }

  /** Best available in one step, or search, then hold those ids. */
  private async hold(): Promise<Answer<Hold>> {
    const { api, performanceId } = this.ctx;
    const wanted = { performance_id: performanceId, quantity: this.plan.quantity, ...(this.section === undefined ? {} : { section: this.section }) };
    if (this.plan.best) return answer(api.holdBest(wanted));
    const search = await answer(api.searchTickets(wanted));
    if (!search.ok) return search;
    await this.think(); // "yes, these"
    return answer(api.holdTickets(search.value.map((t) => t.id)));
  }

  /** Completes the sale; without a clear answer, reads the transaction back, as a client that lost the response would. */
  private async pay(transactionId: string, tickets: HeldTicket[]): Promise<Outcome | 'again'> {
    const { api, ledger, metrics } = this.ctx;
    const { index } = this.plan;
    const complete = await answer(
      api.complete(transactionId, {
        customer: { email: `buyer-${index}@onsale.example`, first_name: 'Buyer', last_name: String(index) },
        payment_reference: `pay-${index}-${transactionId.slice(0, 8)}`,
      }),
    );
    if (complete.ok) {
      ledger.completions.push({ transactionId, orderNumber: complete.value.order_number, tickets });
      metrics.recordSale(tickets.length);
      return 'paid';
    }
    if (complete.error.status === 409) return (await this.conflict(complete.error)) ? 'again' : this.giveUp();
    const read = await answer(api.getTransaction(transactionId));
    if (read.ok && read.value.transaction_status === 'complete' && read.value.order_number !== undefined) {
      ledger.completions.push({ transactionId, orderNumber: read.value.order_number, tickets });
      metrics.recordSale(tickets.length);
      return 'paid';
    }
    if (!read.ok) ledger.uncertain.push(transactionId);
    return 'error';
  }

  /** A step that failed: after a 409, search again while the retry budget lasts; any other answer is an error. */
  private async failed(error: TixlockError): Promise<Outcome | 'again'> {
    if (error.status !== 409) return 'error';
    return (await this.conflict(error)) ? 'again' : this.giveUp();
  }

  /** After a 409: true = search again (after a think), false = retry budget spent. */
  private async conflict(error: TixlockError): Promise<boolean> {
    this.conflicts++;
    this.lastConflict = error.code;
    this.section = undefined;
    if (this.conflicts > this.ctx.retries) return false;
    await this.think();
    return true;
  }

  private giveUp(): Outcome {
    return this.lastConflict === 'NOT_ENOUGH_TICKETS' ? 'sold_out' : 'gave_up';
  }

  private async think(): Promise<void> {
    const ms = between(this.plan.rng, this.ctx.thinkMs);
    if (ms > 0) await sleep(ms);
  }
}
