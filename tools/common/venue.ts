// The one venue generator of the tools: the on-sale harness's performance (tools/onsale) and the benchmark's
// inventories (tools/bench: the small venue, the stadium) are each a VenueLayout, generated in memory by
// venueTickets and loaded through the API by loadPerformance (PUT /performances, 50,000 tickets per request).
import type { TixlockClient } from '../../src/client';

/** One ticket as PUT /performances/{id} takes it. */
export interface VenueTicket {
  id: string;
  section: string;
  row: string;
  seat: number;
  /** cents */
  price: number;
  price_level: string;
}

/** A price band of a section's rows: its price level's name (A, B, ...) and price (cents). */
export interface PriceBand {
  level: string;
  price: number;
}

export interface VenueSection {
  name: string;
  /**
   * From the front: a section's rows are cut into this many equal bands (fewer when it has fewer rows: one row each,
   * from the front), each at its price. Two bands of one level (the stadium's back two thirds) are one level.
   */
  bands: readonly PriceBand[];
}

export interface VenueLayout {
  /** for reports, e.g. "3 sections × 2 price levels" */
  name: string;
  sections: readonly VenueSection[];
  seatsPerRow: number;
  /** row names: A..Z, AA, AB, ... ('letters') or R1, R2, ... ('numbered') */
  rows: 'letters' | 'numbered';
  /**
   * How a ticket count is shared out when it does not divide by the sections: 'first' gives the first sections one
   * more each, 'spread' spreads the extra tickets over the sections (section s gets ⌊c(s+1)/S⌋ − ⌊cs/S⌋).
   */
  remainder: 'first' | 'spread';
}

const LEVEL_NAMES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Row names A..Z, then AA, AB, ... */
export function letterRow(i: number): string {
  let n = i;
  let name = '';
  do {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return name;
}

/** How many of `count` tickets section `s` of `sections` gets. */
function sectionShare(count: number, s: number, sections: number, remainder: VenueLayout['remainder']): number {
  if (remainder === 'spread') return Math.floor((count * (s + 1)) / sections) - Math.floor((count * s) / sections);
  return Math.floor(count / sections) + (s < count % sections ? 1 : 0);
}

/**
 * `count` tickets over the layout's sections, each filled row by row from the front, its rows cut into its price
 * bands. Ids are `<prefix>-<section>-<row>-<seat>` (e.g. `l1m-ORCH-R12-7`, `onsale-1a2b-MEZZ-C-4`). With an even
 * number of seats in a row, tickets 2k and 2k+1 of a section are adjacent seats of one row.
 */
export function venueTickets(prefix: string, count: number, layout: VenueLayout = SMALL_VENUE): VenueTicket[] {
  const out: VenueTicket[] = [];
  const { sections, seatsPerRow } = layout;
  const rowName = layout.rows === 'letters' ? letterRow : (r: number) => `R${r + 1}`;
  for (let s = 0; s < sections.length; s++) {
    const section = sections[s] as VenueSection;
    const n = sectionShare(count, s, sections.length, layout.remainder);
    const rows = Math.ceil(n / seatsPerRow);
    const bands = Math.min(section.bands.length, Math.max(rows, 1));
    for (let i = 0; i < n; i++) {
      const r = Math.floor(i / seatsPerRow);
      const seat = (i % seatsPerRow) + 1;
      const band = section.bands[Math.min(bands - 1, Math.floor((r * bands) / rows))] as PriceBand;
      const row = rowName(r);
      out.push({ id: `${prefix}-${section.name}-${row}-${seat}`, section: section.name, row, seat, price: band.price, price_level: band.level });
    }
  }
  return out;
}

/** The price levels of a section (its bands' distinct levels and prices). */
const levelsOf = (section: VenueSection) => new Set(section.bands.map((b) => `${b.level} ${b.price}`)).size;

/**
 * Partitions of the available index a layout makes (section × price level × price), once every section has rows
 * enough for all of its price levels (see minimumTickets).
 */
export function partitionCount(layout: VenueLayout): number {
  return layout.sections.reduce((n, s) => n + levelsOf(s), 0);
}

/** The fewest tickets that give every section of the layout all of its price levels (a row each). */
export function minimumTickets(layout: VenueLayout): number {
  return layout.sections.length * layout.seatsPerRow * Math.max(...layout.sections.map(levelsOf));
}

/** The sections that hold tickets (a buyer may look in one of them). */
export function sectionsOf(tickets: readonly VenueTicket[]): string[] {
  return [...new Set(tickets.map((t) => t.section))];
}

// ---------------------------------------------------------------------------------------------------------------
// The on-sale harness's layout: `tixlock onsale --sections N --seats-per-row N --price-levels N`.

/** The on-sale's performance, as its options give it. */
export interface GradedVenue {
  sections: number;
  seatsPerRow: number;
  priceLevels: number;
}

const SECTION_NAMES = ['ORCH', 'MEZZ', 'BALC', 'GALL', 'LOGE', 'BOX', 'TERR', 'PIT'];
/** price of level A; each further level costs 30 % less, rounded to 50 cents */
const TOP_PRICE = 12500;

export const sectionName = (i: number) => SECTION_NAMES[i] ?? `S${i + 1}`;

export function levelPrice(level: number): number {
  return Math.max(500, Math.round((TOP_PRICE * 0.7 ** level) / 50) * 50);
}

/**
 * The on-sale's venue: sections ORCH, MEZZ, ... (S9, S10, ... after the eighth), rows A, B, ..., each section's
 * rows in `priceLevels` equal bands from the front, level A dearest. A count that does not divide by the sections
 * gives the first sections one ticket more each.
 */
export function gradedLayout(venue: GradedVenue): VenueLayout {
  const bands = Array.from({ length: venue.priceLevels }, (_, level) => ({ level: LEVEL_NAMES[level] ?? String(level), price: levelPrice(level) }));
  return {
    name: `${venue.sections} sections × ${venue.priceLevels} price levels`,
    sections: Array.from({ length: venue.sections }, (_, i) => ({ name: sectionName(i), bands })),
    seatsPerRow: venue.seatsPerRow,
    rows: 'letters',
    remainder: 'first',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark's layouts: rows R1, R2, ... of 50 seats; a count that does not divide is spread over the sections.

/** The small venue of (b)-(f): 3 sections × 2 price levels (the front half of each section's rows A), 6 partitions. */
export const SMALL_VENUE: VenueLayout = {
  name: '3 sections × 2 price levels',
  sections: [
    { name: 'ORCH', bands: [{ level: 'A', price: 15000 }, { level: 'B', price: 12000 }] },
    { name: 'MEZZ', bands: [{ level: 'A', price: 9000 }, { level: 'B', price: 7000 }] },
    { name: 'BALC', bands: [{ level: 'A', price: 5000 }, { level: 'B', price: 3500 }] },
  ],
  seatsPerRow: 50,
  rows: 'numbered',
  remainder: 'spread',
};

/** The stadium's cheapest price (cents): its level B, in every section. */
export const STADIUM_CHEAPEST = 4000;

/**
 * A stadium: `sections` sections (S001, S002, ...) × 2 price levels. Level A (the front third of each section's
 * rows) costs by tier, four tiers of sections from 15,000 down to 6,000 cents; level B (the back two thirds: two
 * bands) is the venue's cheapest price, 4,000, in every section: most of the tickets, spread over `sections`
 * partitions.
 */
export function stadiumLayout(sections = 200): VenueLayout {
  const tiers = [15000, 11000, 8000, 6000];
  const back = { level: 'B', price: STADIUM_CHEAPEST };
  return {
    name: `${sections} sections × 2 price levels`,
    sections: Array.from({ length: sections }, (_, i) => ({
      name: `S${String(i + 1).padStart(3, '0')}`,
      bands: [{ level: 'A', price: tiers[Math.floor((i * tiers.length) / sections)] as number }, back, back],
    })),
    seatsPerRow: 50,
    rows: 'numbered',
    remainder: 'spread',
  };
}

/**
 * The share of a section's rows at the layout's cheapest price (the first section's bands, once it has rows enough
 * for all of them): 1 − the share of the dearer bands, so the stadium's is 1 − 1/3, to the last bit as before.
 */
export function cheapestShare(layout: VenueLayout): number {
  const bands = layout.sections[0]?.bands ?? [];
  const cheapest = Math.min(...bands.map((b) => b.price));
  return 1 - bands.filter((b) => b.price !== cheapest).length / bands.length;
}

// ---------------------------------------------------------------------------------------------------------------

/** the API's limit per PUT /performances */
const TICKETS_PER_PUT = 50_000;

/** What PUT /performances/{id} takes besides the tickets. */
export interface PerformanceSettings {
  name: string;
  hold_seconds?: number;
  max_tickets_per_transaction?: number;
}

/** Loads a performance through PUT /performances/{id}, 50,000 tickets per request (one request when there are none). */
export async function loadPerformance(
  admin: TixlockClient,
  performanceId: string,
  tickets: readonly VenueTicket[],
  settings: PerformanceSettings,
): Promise<void> {
  for (let i = 0; i === 0 || i < tickets.length; i += TICKETS_PER_PUT) {
    await admin.putPerformance(performanceId, { ...settings, tickets: tickets.slice(i, i + TICKETS_PER_PUT) });
  }
}
