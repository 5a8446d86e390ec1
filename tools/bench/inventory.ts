// Inventories for the benchmark: venue layouts (the small 3-section venue, a stadium) generated in memory, loaded
// through the API (PUT /performances, at most 50,000 tickets per request), and the ticket pairs the hold scenarios
// ask for.
import { TixlockClient } from '../../src/client';

/** A generated venue: its sections, each with a front (A) and a back (B) price level, in rows of seats. */
export interface VenueLayout {
  /** for the report, e.g. "3 sections × 2 price levels" */
  name: string;
  sections: readonly { name: string; prices: { A: number; B: number } }[];
  seatsPerRow: number;
  /** the share of each section's rows, from the front, at price level A; the rest is B */
  frontShare: number;
}

/** The small venue of (b)-(f): 3 sections × 2 price levels, 6 partitions of the available index. */
export const SMALL_VENUE: VenueLayout = {
  name: '3 sections × 2 price levels',
  sections: [
    { name: 'ORCH', prices: { A: 15000, B: 12000 } },
    { name: 'MEZZ', prices: { A: 9000, B: 7000 } },
    { name: 'BALC', prices: { A: 5000, B: 3500 } },
  ],
  seatsPerRow: 50,
  frontShare: 0.5,
};

/** The stadium's cheapest price (cents): its level B, in every section. */
export const STADIUM_CHEAPEST = 4000;

/**
 * A stadium: `sections` sections (S001, S002, ...) × 2 price levels. Level A (the front third of each section's
 * rows) costs by tier, four tiers of sections from 15,000 down to 6,000 cents; level B (the back two thirds) is the
 * venue's cheapest price, 4,000, in every section: most of the tickets, spread over `sections` partitions.
 */
export function stadiumLayout(sections = 200): VenueLayout {
  const tiers = [15000, 11000, 8000, 6000];
  return {
    name: `${sections} sections × 2 price levels`,
    sections: Array.from({ length: sections }, (_, i) => ({
      name: `S${String(i + 1).padStart(3, '0')}`,
      prices: { A: tiers[Math.floor((i * tiers.length) / sections)] as number, B: STADIUM_CHEAPEST },
    })),
    seatsPerRow: 50,
    frontShare: 1 / 3,
  };
}

/** Partitions of the available index a layout makes (section × price level × price). */
export function partitionCount(layout: VenueLayout): number {
  return layout.sections.length * 2;
}

/** The fewest tickets that give every section of the layout both price levels (2 rows each). */
export function minimumTickets(layout: VenueLayout): number {
  return layout.sections.length * layout.seatsPerRow * 2;
}

/** the API's limit per PUT /performances */
const TICKETS_PER_PUT = 50_000;

export interface BenchTicket {
  id: string;
  section: string;
  row: string;
  seat: number;
  price: number;
  price_level: string;
}

/**
 * `count` tickets split evenly over the layout's sections, in rows of `seatsPerRow` seats; the front `frontShare`
 * of each section's rows is price level A. Ids look like `<prefix>-ORCH-R12-7` (ticket ids of real box offices are
 * of this size). Tickets 2k and 2k+1 are adjacent seats of one row (rows have an even number of seats).
 */
export function venueTickets(prefix: string, count: number, layout: VenueLayout = SMALL_VENUE): BenchTicket[] {
  const out: BenchTicket[] = [];
  const { sections, seatsPerRow } = layout;
  for (let s = 0; s < sections.length; s++) {
    const section = sections[s] as (typeof sections)[number];
    const n = Math.floor((count * (s + 1)) / sections.length) - Math.floor((count * s) / sections.length);
    const rows = Math.ceil(n / seatsPerRow);
    for (let i = 0; i < n; i++) {
      const row = Math.floor(i / seatsPerRow);
      const level = row < rows * layout.frontShare ? 'A' : 'B';
      out.push({
        id: `${prefix}-${section.name}-R${row + 1}-${(i % seatsPerRow) + 1}`,
        section: section.name,
        row: `R${row + 1}`,
        seat: (i % seatsPerRow) + 1,
        price: section.prices[level],
        price_level: level,
      });
    }
  }
  return out;
}

/** Pairs of adjacent tickets: [t0,t1], [t2,t3], ... (an odd last ticket is left out). */
export function ticketPairs(ids: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < ids.length; i += 2) pairs.push([ids[i] as string, ids[i + 1] as string]);
  return pairs;
}

/**
 * The benchmark's clients for its set-up work (loading, holding for the memory measurement; not timed): the typed
 * client without retries (a failure in the set-up is a finding) and without Idempotency-Keys (their stored answers
 * would count in the memory per locked ticket), with a long timeout (a 50,000-ticket PUT on a busy machine).
 */
export function setupClient(url: string, key: string): TixlockClient {
  return new TixlockClient({ baseUrl: url, apiKey: key, retries: 0, idempotencyKeys: false, timeoutMs: 300_000 });
}

/** Loads a performance through PUT /performances/{id}, 50,000 tickets per request. */
export async function loadPerformance(
  admin: TixlockClient,
  performanceId: string,
  tickets: readonly BenchTicket[],
  settings: { max_tickets_per_transaction?: number } = {},
): Promise<void> {
  for (let i = 0; i === 0 || i < tickets.length; i += TICKETS_PER_PUT) {
    const part = tickets.slice(i, i + TICKETS_PER_PUT);
    await admin.putPerformance(performanceId, { name: `benchmark ${performanceId}`, ...settings, tickets: part });
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
