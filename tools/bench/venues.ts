// Best-available holds of 2 on three venues, in one run at the same connection count: the small 6-partition venue
// of (c), a stadium (≥ 200 sections × 2 price levels) and the same stadium layout with its cheapest price
// fragmented (every other seat of it held beforehand, so that price offers single seats only). How a hold's cost
// grows with the number of partitions, and with a cheapest price that never has two seats together.
import { cheapestShare, minimumTickets, partitionCount, SMALL_VENUE, STADIUM_CHEAPEST, stadiumLayout, venueTickets, type VenueLayout } from '../common/venue';
import { bestAvailableSpec, lockedCount, quiesce, slowSeconds, toScenario, withCpu, type BenchContext, type MeasuredResult } from './measure';
import type { LoadResult } from './protocol';
import type { ScenarioResult } from './report';
import { forEachConcurrently, loadBenchPerformance } from './setup';

export type VenueKey = 'small' | 'stadium' | 'fragmented';

interface Venue {
  key: VenueKey;
  name: string;
  performanceId: string;
  layout: VenueLayout;
  tickets: number;
  /** fragmented: the cheapest price's seats left available, each a single between two held ones */
  singles?: string[];
  /** fragmented: seats of the cheapest price held beforehand, and in how many transactions */
  fragmentation?: { held: number; transactions: number };
}

export interface VenuePlan {
  venues: Venue[];
  /** the stadium performance (also the mixed row's best-available load) */
  stadiumId: string;
}

export interface FragmentedStats {
  cheapest_price: number;
  /** seats of the cheapest price held before the runs (every other seat), in bulk transactions */
  held_beforehand: number;
  bulk_transactions: number;
  /** single seats of the cheapest price available when the measured halves began */
  singles_available_at_start: number;
  /** best-available holds of the measured halves */
  holds: number;
  /**
   * single seats of the cheapest price taken during the halves (counted from their lock keys; with the requests
   * still in flight when a half ended), and the holds that took them, two a hold (at most `holds`)
   */
  single_seats_taken: number;
  holds_on_fragmented_price: number;
  /** single seats still available after the last half: while there are any, every hold takes two of them */
  singles_available_at_end: number;
}

export interface VenueResult extends ScenarioResult {
  venue: VenueKey;
  layout: string;
  performance_id: string;
  inventory_tickets: number;
  partitions: number;
  fragmented?: FragmentedStats;
}

export interface VenueComparison {
  small: VenueResult;
  stadium: VenueResult;
  fragmented: VenueResult;
  ratio_stadium_to_small: number;
  ratio_fragmented_to_small: number;
}

const BULK = 1000; // tickets per fragmenting hold (the fragmented performance allows 1,000 per transaction)

/**
 * Loads the three venues' performances, each sized for a warm-up and two halves of best-available holds (2 tickets
 * a request) at the calibrated rate; the stadium also for the mixed row's load. Each stadium has at least
 * `stadiumMinimum` tickets. The
 * fragmented stadium's cheapest price (two thirds of its seats) is sized so its single seats outlast the runs:
 * half of them are held beforehand, and every request takes two of the rest.
 */
export async function prepareVenues(ctx: BenchContext, stadiumMinimum: number): Promise<VenuePlan> {
  const seconds = slowSeconds(ctx);
  const requestsPerVenue = ctx.requestsFor(seconds.warm) + 2 * ctx.requestsFor(seconds.half);
  const extraStadiumRequests = 2 * ctx.requestsFor(seconds.half); // the mixed row's two slices
  const stadium = stadiumLayout(200);
  const floor = Math.max(stadiumMinimum, minimumTickets(stadium));
  const cheapest = cheapestShare(stadium);
  const venues: Venue[] = [
    { key: 'small', name: `small venue (${SMALL_VENUE.name})`, performanceId: 'bench-venue-small', layout: SMALL_VENUE, tickets: 2 * requestsPerVenue },
    {
      key: 'stadium',
      name: `stadium (${stadium.name})`,
      performanceId: 'bench-stadium',
      layout: stadium,
      tickets: Math.max(floor, 2 * (requestsPerVenue + extraStadiumRequests)),
    },
    {
      key: 'fragmented',
      name: `stadium, cheapest price fragmented`,
      performanceId: 'bench-stadium-fragmented',
      layout: stadium,
      // singles = cheapest seats / 2 ≥ 2 per request
      tickets: Math.max(floor, Math.ceil((4 * requestsPerVenue) / cheapest)),
    },
  ];
  for (const v of venues) {
    ctx.log(`loading the ${v.name}: ${v.tickets} tickets, ${partitionCount(v.layout)} partitions`);
    const tickets = venueTickets(v.key === 'small' ? 'vs' : v.key === 'stadium' ? 'st' : 'sf', v.tickets, v.layout);
    await loadBenchPerformance(ctx.admin, v.performanceId, tickets, v.key === 'fragmented' ? { max_tickets_per_transaction: BULK } : {});
    if (v.key !== 'fragmented') continue;
    // every other seat of the cheapest price held (odd seat numbers), in bulk: the even ones are left as singles
    const cheapest = tickets.filter((t) => t.price === STADIUM_CHEAPEST);
    const held = cheapest.filter((t) => t.seat % 2 === 1).map((t) => t.id);
    v.singles = cheapest.filter((t) => t.seat % 2 === 0).map((t) => t.id);
    const batches = Array.from({ length: Math.ceil(held.length / BULK) }, (_, i) => held.slice(i * BULK, (i + 1) * BULK));
    ctx.log(`fragmenting its cheapest price: holding ${held.length} of its ${cheapest.length} seats (every other one) in ${batches.length} transactions`);
    await forEachConcurrently(batches, 4, async (batch) => {
      await ctx.api.holdTickets(batch);
    });
    v.fragmentation = { held: held.length, transactions: batches.length };
  }
  return { venues, stadiumId: 'bench-stadium' };
}

/**
 * Best-available holds of 2 on each venue: a warm-up and a first half in the order small, stadium, fragmented, then
 * the second halves in the reverse order, so drift during the run favours no venue.
 */
export async function runVenues(ctx: BenchContext, plan: VenuePlan, baseline: LoadResult): Promise<VenueComparison> {
  const seconds = slowSeconds(ctx);
  const need = { warm: ctx.requestsFor(seconds.warm), half: ctx.requestsFor(seconds.half) };
  const runs = new Map<VenueKey, { warmup?: MeasuredResult; halves: MeasuredResult[]; singlesBefore: number[]; singlesAfter: number[] }>();
  const singlesLeft = async (v: Venue) => (v.singles ? v.singles.length - (await lockedCount(ctx.db, v.performanceId, v.singles)) : 0);
  const step = async (v: Venue, seconds: number, maxRequests: number) =>
    withCpu(ctx.db, ctx.tixlock, () => ctx.load.run(ctx.job(ctx.tixlock.url, bestAvailableSpec(v.performanceId), seconds, maxRequests)));
  const half = async (v: Venue) => {
    const r = runs.get(v.key) ?? { halves: [], singlesBefore: [], singlesAfter: [] };
    runs.set(v.key, r);
    await quiesce(ctx.db); // the previous run's last requests answered: they count there, not here
    r.singlesBefore.push(await singlesLeft(v));
    const result = await step(v, seconds.half, need.half);
    await quiesce(ctx.db);
    r.singlesAfter.push(await singlesLeft(v));
    r.halves.push(result);
    ctx.log(`    ${v.name}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.latencyMs.p99} ms, non-2xx ${result.non2xx}`);
  };
  ctx.log(`best available on three venues: ${seconds.warm} s warm-up and ${seconds.half} s each, then the other halves in reverse`);
  for (const v of plan.venues) {
    const warmup = await step(v, seconds.warm, need.warm);
    await half(v);
    const r = runs.get(v.key);
    if (r) r.warmup = warmup;
  }
  for (const v of [...plan.venues].reverse()) await half(v);

  const result = (v: Venue): VenueResult => {
    const r = runs.get(v.key) ?? { warmup: undefined, halves: [], singlesBefore: [], singlesAfter: [] };
    const scenario = toScenario(`venue-${v.key}`, `best-available hold of 2, ${v.name}`, 'POST /transaction {"performance_id","quantity":2}', r.halves, baseline, r.warmup, seconds.warm);
    const out: VenueResult = {
      ...scenario,
      venue: v.key,
      layout: v.layout.name,
      performance_id: v.performanceId,
      inventory_tickets: v.tickets,
      partitions: partitionCount(v.layout),
    };
    if (v.singles && v.fragmentation) {
      const consumed = r.singlesBefore.reduce((n, before, i) => n + before - (r.singlesAfter[i] ?? before), 0);
      out.fragmented = {
        cheapest_price: STADIUM_CHEAPEST,
        held_beforehand: v.fragmentation.held,
        bulk_transactions: v.fragmentation.transactions,
        singles_available_at_start: r.singlesBefore[0] ?? 0,
        holds: scenario.status_codes['201'] ?? 0,
        single_seats_taken: consumed,
        // two singles a hold (no two of them are adjacent); the requests a half left in flight took some too
        holds_on_fragmented_price: Math.min(scenario.status_codes['201'] ?? 0, Math.floor(consumed / 2)),
        singles_available_at_end: r.singlesAfter[r.singlesAfter.length - 1] ?? 0,
      };
    }
    return out;
  };
  const [small, stadium, fragmented] = plan.venues.map(result) as [VenueResult, VenueResult, VenueResult];
  const ratio = (x: VenueResult) => (small.requests_per_second > 0 ? x.requests_per_second / small.requests_per_second : 0);
  return { small, stadium, fragmented, ratio_stadium_to_small: ratio(stadium), ratio_fragmented_to_small: ratio(fragmented) };
}
