// Inventories for the benchmark: a venue-like layout generated in memory, loaded through the API
// (PUT /performances, at most 50,000 tickets per request), and the ticket pairs the hold scenarios ask for.

/** Sections of the generated venue, each with a front (A) and a back (B) price level: 6 partitions. */
const SECTIONS = [
  { name: 'ORCH', prices: { A: 15000, B: 12000 } },
  { name: 'MEZZ', prices: { A: 9000, B: 7000 } },
  { name: 'BALC', prices: { A: 5000, B: 3500 } },
] as const;
const SEATS_PER_ROW = 50;
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
 * `count` tickets split evenly over the sections, in rows of 50 seats; the front half of each section's rows is
 * price level A. Ids look like `<prefix>-ORCH-R12-7` (ticket ids of real box offices are of this size). Tickets
 * 2k and 2k+1 are adjacent seats of one row.
 */
export function venueTickets(prefix: string, count: number): BenchTicket[] {
  const out: BenchTicket[] = [];
  for (let s = 0; s < SECTIONS.length; s++) {
    const section = SECTIONS[s] as (typeof SECTIONS)[number];
    const n = Math.floor((count * (s + 1)) / SECTIONS.length) - Math.floor((count * s) / SECTIONS.length);
    const rows = Math.ceil(n / SEATS_PER_ROW);
    for (let i = 0; i < n; i++) {
      const row = Math.floor(i / SEATS_PER_ROW);
      const level = row < rows / 2 ? 'A' : 'B';
      out.push({
        id: `${prefix}-${section.name}-R${row + 1}-${(i % SEATS_PER_ROW) + 1}`,
        section: section.name,
        row: `R${row + 1}`,
        seat: (i % SEATS_PER_ROW) + 1,
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

/** A small HTTP client for the set-up work (loading, holding for the memory measurement); not timed. */
export class Api {
  constructor(
    readonly url: string,
    private readonly key: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async expect(status: number, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.call(method, path, body);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

/** Loads a performance through PUT /performances/{id}, 50,000 tickets per request. */
export async function loadPerformance(admin: Api, performanceId: string, tickets: readonly BenchTicket[]): Promise<void> {
  for (let i = 0; i === 0 || i < tickets.length; i += TICKETS_PER_PUT) {
    const part = tickets.slice(i, i + TICKETS_PER_PUT);
    await admin.expect(200, 'PUT', `/performances/${encodeURIComponent(performanceId)}`, {
      name: `benchmark ${performanceId}`,
      tickets: part,
    });
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
