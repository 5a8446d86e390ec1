// The on-sale's performance: T tickets over sections, rows of seats and price levels (front rows dearest).

export interface InventoryTicket {
  id: string;
  section: string;
  row: string;
  seat: number;
  price: number; // cents
  price_level: string;
}

export interface Layout {
  tickets: number;
  sections: number;
  seatsPerRow: number;
  priceLevels: number;
}

const SECTION_NAMES = ['ORCH', 'MEZZ', 'BALC', 'GALL', 'LOGE', 'BOX', 'TERR', 'PIT'];
const LEVEL_NAMES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** price of level A; each further level costs 30 % less, rounded to 50 cents */
const TOP_PRICE = 12500;

export const sectionName = (i: number) => SECTION_NAMES[i] ?? `S${i + 1}`;

/** Row names A..Z, then AA, AB, ... */
export function rowName(i: number): string {
  let n = i;
  let name = '';
  do {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return name;
}

export function levelPrice(level: number): number {
  return Math.max(500, Math.round((TOP_PRICE * 0.7 ** level) / 50) * 50);
}

/**
 * Spreads the tickets evenly over the sections (the first ones get one more when it does not divide), fills each
 * section row by row, and gives each section's rows the price levels in bands from the front.
 */
export function buildInventory(performanceId: string, layout: Layout): InventoryTicket[] {
  const tickets: InventoryTicket[] = [];
  const base = Math.floor(layout.tickets / layout.sections);
  const extra = layout.tickets % layout.sections;
  for (let s = 0; s < layout.sections; s++) {
    const count = base + (s < extra ? 1 : 0);
    const section = sectionName(s);
    const rows = Math.ceil(count / layout.seatsPerRow);
    const levels = Math.min(layout.priceLevels, Math.max(rows, 1));
    for (let i = 0; i < count; i++) {
      const r = Math.floor(i / layout.seatsPerRow);
      const seat = (i % layout.seatsPerRow) + 1;
      const level = Math.min(levels - 1, Math.floor((r * levels) / rows));
      const row = rowName(r);
      tickets.push({
        id: `${performanceId}-${section}-${row}-${seat}`,
        section,
        row,
        seat,
        price: levelPrice(level),
        price_level: LEVEL_NAMES[level] ?? String(level),
      });
    }
  }
  return tickets;
}

/** The sections that hold tickets (a buyer may look in one of them). */
export function sectionsOf(tickets: readonly InventoryTicket[]): string[] {
  return [...new Set(tickets.map((t) => t.section))];
}
