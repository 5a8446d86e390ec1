// Best available on a stadium of 400 partitions (200 sections × 2 price levels; most partitions share a price), for
// the test/scripts-stadium-*.test.ts files: GET /tickets and best-available POST /transaction answer exactly what a
// brute-force reading of the rule in lua/includes/pick_best.lua gives — the cheapest `quantity` candidates, or the
// first run of `quantity` adjacent seats (consecutive ords, same price) among the best max(64, 8 × quantity)
// candidates in score order (price × 2^22 + ord) when that run costs no more — and a too-large quantity is a 409
// NOT_ENOUGH_TICKETS whose `available` is the model's count.
//
// Black-box on purpose (these files are the safety net for a rewrite of the available index): everything goes
// through the HTTP API, and the brute force reads only the tickets' own state — the tickets hash (ord, price), the
// sold hash and the lock keys — never the index keys. A client-side record of every transaction is checked against
// that state, so a hold that reports tickets it did not lock (or locks others) fails too.
//
// A failure names its seed; replay with STADIUM_SEED=<seed> npx jest test/scripts-stadium-<name>.test.ts.
import request from 'supertest';
import { performanceKeys } from '../../src/redis/keys';
import { as, KEYS, listen, putPerformance, startTestApp, uniqueId, type Listening, type TestApp } from './app';

// The test file's app and its listening server (one for every request: supertest would start one per request),
// filled in by the beforeAll that useStadium registers.
const t = {} as TestApp;
const http = {} as Listening;

/**
 * Registers the stadium files' set-up in the calling file: a test app whose default holds outlive the test (only
 * short holds lapse) and whose Redis commands may take 15 s (big PUTs on a busy machine may wait past the 2 s
 * default), and one listening server for it. Returns both (filled in by the beforeAll).
 */
export function useStadium(): { t: TestApp; http: Listening } {
  beforeAll(async () => {
    Object.assign(t, await startTestApp({ LOCK_TTL_SECONDS: '600', REDIS_COMMAND_TIMEOUT_MS: '15000' }));
    Object.assign(http, await listen(t));
  });
  afterAll(async () => {
    await http.close?.();
    await t.close?.();
  });
  return { t, http };
}

export const SEED = Number(process.env.STADIUM_SEED ?? 20260417);
const ORD_SPAN = 2 ** 22;

export type Rnd = () => number;
export const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

// ---- the venue ----

export const SECTIONS = 200; // "S1".."S200": natural order puts S2 before S10
export const CHEAP = [25, 50, 75, 100, 125, 150, 175, 200]; // their level B costs 3000 (the cheapest price)
const PREMIUM = [7, 77, 177]; // their level A costs 12000
const ROW_LEVEL = ['A', 'A', 'B', 'B', 'A', 'B']; // rows 1..6: levels interleave, so partitions interleave in ord
const rowLength = (s: number, r: number) => 6 + ((s * 7 + r * 3) % 4); // 6..9 seats
const hasAisle = (s: number, r: number) => (s + r) % 5 === 0; // seat 5 missing: seats 4 and 6 are not adjacent

export interface Seat {
  id: string;
  short: string; // S12-3-7
  section: string;
  sectionNo: number;
  row: number;
  seat: number;
  level: string;
  price: number;
  ord: number; // from the tickets hash
  score: number;
}

export interface Venue {
  perf: string;
  seats: Seat[]; // by score
  byId: Map<string, Seat>;
  index: Map<string, number>; // id -> place in seats
}

function stadiumLayout(perf: string): Omit<Seat, 'ord' | 'score'>[] {
  const out = [];
  for (let s = 1; s <= SECTIONS; s++) {
    for (let r = 1; r <= ROW_LEVEL.length; r++) {
      const level = ROW_LEVEL[r - 1] as string;
      const price = level === 'A' ? (PREMIUM.includes(s) ? 12000 : 8000) : CHEAP.includes(s) ? 3000 : 5000;
      for (let seat = 1; seat <= rowLength(s, r); seat++) {
        if (seat === 5 && hasAisle(s, r)) continue;
        const short = `S${s}-${r}-${seat}`;
        out.push({ id: `${perf}-${short}`, short, section: `S${s}`, sectionNo: s, row: r, seat, level, price });
      }
    }
  }
  return out;
}

/**
 * Loads the stadium, whole sections per PUT of at most 2,000 tickets (each PUT's tickets in a scrambled order: the
 * service puts them in seat order), then reads each ticket's ord from the tickets hash and checks the contract the
 * brute force relies on: ords follow seat order (section, row, seat, naturally ordered) and two seats have
 * consecutive ords exactly when they are neighbours in one row. (Catches a loader that breaks seat order or
 * adjacency; then every later comparison would be moot.)
 *
 * Several PUTs of whole sections (in random order within each): the loader must give the same ords as one PUT
 * would. (test/scripts-stadium-fragmented.test.ts also covers one PUT larger than a load script call.)
 */
export async function loadStadium(rnd: Rnd): Promise<Venue> {
  const perf = uniqueId('stadium');
  const layout = stadiumLayout(perf);
  const puts: (typeof layout)[] = [[]];
  for (let s = 1; s <= SECTIONS; s++) {
    const section = layout.filter((x) => x.sectionNo === s);
    if ((puts[puts.length - 1] as typeof layout).length + section.length > 2000) puts.push([]);
    (puts[puts.length - 1] as typeof layout).push(...section);
  }
  for (const [i, put] of puts.entries()) {
    for (let a = put.length - 1; a > 0; a--) {
      const b = Math.floor(rnd() * (a + 1));
      [put[a], put[b]] = [put[b] as (typeof layout)[number], put[a] as (typeof layout)[number]];
    }
    await putPerformance(
      t,
      perf,
      put.map((x) => ({ id: x.id, section: x.section, row: String(x.row), seat: x.seat, price: x.price, price_level: x.level })),
      i === 0 ? { name: 'Stadium', max_tickets_per_transaction: 40 } : {},
    );
  }
  const info = await request(http.server).get(`/performances/${perf}`).set(as(KEYS.admin));
  expect(info.body.performance.counts).toEqual({ total: layout.length, available: layout.length, locked: 0, sold: 0 });

  const records = await t.redis.hgetall(performanceKeys(perf).tickets);
  expect(Object.keys(records).length).toBe(layout.length);
  const broken: string[] = [];
  const seats: Seat[] = layout.map((x) => {
    const rec = records[x.id] ?? '';
    const [ord = '', ...attributes] = rec.split('|');
    if (attributes.join('|') !== `${x.price}|${x.section}|${x.row}|${x.seat}|${x.level}`) broken.push(`${x.short}: ${rec}`);
    return { ...x, ord: Number(ord), score: x.price * ORD_SPAN + Number(ord) };
  });
  // layout is in seat order already (sections and rows numbered, seats ascending)
  for (let i = 1; i < seats.length; i++) {
    const [a, b] = [seats[i - 1] as Seat, seats[i] as Seat];
    const neighbours = a.sectionNo === b.sectionNo && a.row === b.row && b.seat === a.seat + 1;
    if (!(b.ord > a.ord) || (b.ord === a.ord + 1) !== neighbours) broken.push(`${a.short}@${a.ord} ${b.short}@${b.ord}`);
  }
  expect(broken.slice(0, 10)).toEqual([]);
  seats.sort((a, b) => a.score - b.score);
  return { perf, seats, byId: new Map(seats.map((x) => [x.id, x])), index: new Map(seats.map((x, i) => [x.id, i])) };
}

// ---- the tickets' own state, and the client-side record checked against it ----

export interface State {
  locks: Map<string, string>; // ticket -> transaction holding its lock key
  sold: Map<string, string>; // ticket -> transaction that bought it
  free: boolean[]; // per seat of Venue.seats: no lock key and not sold
}

/** Every ticket's lock key, read in Redis (one round trip instead of an MGET of ten thousand keys): id, holder, ... */
const LOCKED = `
local out = {}
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  local tx = redis.call('GET', ARGV[1] .. id)
  if tx then out[#out + 1] = id; out[#out + 1] = tx end
end
return out`;

/** Is this ticket free in that state. */
export const freeIn = (v: Venue, state: State) => (id: string) => state.free[v.index.get(id) ?? -1] === true;
/** The free seats, by score. */
export const freeSeats = (v: Venue, state: State) => v.seats.filter((_, i) => state.free[i]);

/** Lock keys (of every ticket in the tickets hash) and the sold hash. Never the available index. */
export async function readState(v: Venue): Promise<State> {
  const k = performanceKeys(v.perf);
  const locks = new Map<string, string>();
  const pairs = (await t.redis.eval(LOCKED, 1, k.tickets, k.lockPrefix)) as string[];
  for (let i = 0; i < pairs.length; i += 2) locks.set(pairs[i] as string, pairs[i + 1] as string);
  const sold = new Map<string, string>();
  for (const [id, value] of Object.entries(await t.redis.hgetall(k.sold))) sold.set(id, value.split('|')[1] ?? '');
  return { locks, sold, free: v.seats.map((x) => !locks.has(x.id) && !sold.has(x.id)) };
}

interface Tx {
  id: string;
  ids: string[];
  short: boolean; // a hold meant to lapse
  status: 'open' | 'released' | 'complete' | 'expired';
}

/** What this client did: every transaction and what it should own now. */
export class Ledger {
  readonly txs = new Map<string, Tx>();
  readonly locks = new Map<string, string>();
  readonly sold = new Map<string, string>();

  hold(id: string, ids: string[], short = false) {
    this.txs.set(id, { id, ids, short, status: 'open' });
    for (const x of ids) this.locks.set(x, id);
  }

  private unlock(tx: Tx) {
    for (const x of tx.ids) if (this.locks.get(x) === tx.id) this.locks.delete(x);
  }

  release(id: string) {
    const tx = this.txs.get(id) as Tx;
    this.unlock(tx);
    tx.status = 'released';
  }

  complete(id: string) {
    const tx = this.txs.get(id) as Tx;
    this.unlock(tx);
    for (const x of tx.ids) this.sold.set(x, id);
    tx.status = 'complete';
  }

  /** A short hold whose lock keys are gone. */
  expire(id: string) {
    const tx = this.txs.get(id) as Tx;
    this.unlock(tx);
    tx.status = 'expired';
  }

  open(): Tx[] {
    return [...this.txs.values()].filter((x) => x.status === 'open');
  }
}

export function mapDiff(name: string, got: Map<string, string>, want: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, w] of want) if (got.get(k) !== w) out.push(`${name} ${k}: redis ${got.get(k) ?? '-'}, expected ${w}`);
  for (const [k, g] of got) if (!want.has(k)) out.push(`${name} ${k}: redis ${g}, expected -`);
  return out;
}

/**
 * Redis's lock keys and sold hash are exactly what this client's transactions should own. Catches a hold that
 * reports tickets it did not lock (or locks more than it reports), a release that frees another transaction's
 * ticket, a completion that does not sell.
 */
export function expectStateMatches(state: State, ledger: Ledger) {
  const diff = [...mapDiff('lock', state.locks, ledger.locks), ...mapDiff('sold', state.sold, ledger.sold)];
  expect(diff.slice(0, 10)).toEqual([]);
}

// ---- the brute force ----

export interface Filters {
  section?: string;
  price_level?: string;
  max_price?: number;
}

export type Answer = { tickets: string[] } | { not_enough: number };

export interface Brute {
  answer: Answer;
  candidates: Seat[]; // the best `window` matching free tickets, by score
  run?: number; // index in candidates of the first run of `quantity` adjacent seats
  picked: Seat[];
}

export const matches = (x: Seat, f: Filters) =>
  (f.section === undefined || x.section === f.section) &&
  (f.price_level === undefined || x.level === f.price_level) &&
  (f.max_price === undefined || x.price <= f.max_price);

/** pick_best's rule, from scratch over every ticket. */
export function brute(v: Venue, state: State, quantity: number, f: Filters): Brute {
  const window = Math.max(64, 8 * quantity);
  const candidates: Seat[] = [];
  let matching = 0;
  for (const [i, x] of v.seats.entries()) {
    if (!state.free[i] || !matches(x, f)) continue;
    matching++;
    if (candidates.length < window) candidates.push(x);
  }
  if (matching < quantity) return { answer: { not_enough: matching }, candidates, picked: [] };
  let run: number | undefined;
  for (let i = 0, start = 0; i < candidates.length; i++) {
    const [a, b] = [candidates[i - 1], candidates[i] as Seat];
    if (!a || b.price !== a.price || b.ord !== a.ord + 1) start = i;
    if (i - start + 1 === quantity) {
      run = start;
      break;
    }
  }
  const cost = (xs: Seat[]) => xs.reduce((n, x) => n + x.price, 0);
  const cheapest = candidates.slice(0, quantity);
  const runSeats = run === undefined ? undefined : candidates.slice(run, run + quantity);
  const picked = runSeats && cost(runSeats) <= cost(cheapest) ? runSeats : cheapest;
  return { answer: { tickets: picked.map((x) => x.short) }, candidates, run, picked };
}

/** How often each kind of answer was compared (the random rounds check that every kind came up). */
export const cases = { cheapest: 0, runFirst: 0, runWon: 0, runLostOnCost: 0, notEnough: 0 };
export function tally(b: Brute) {
  if ('not_enough' in b.answer) cases.notEnough++;
  else if (b.run === undefined) cases.cheapest++; // no run in the window
  else if (b.picked[0] !== b.candidates[b.run]) cases.runLostOnCost++; // a run in the window, dearer than the cheapest
  else if (b.run === 0) cases.runFirst++; // the cheapest are a run
  else cases.runWon++; // a run later in the window beat the cheapest lone seats at the same cost
}

// ---- the API ----

export const shortOf = (v: Venue, id: string) => v.byId.get(id)?.short ?? `?${id}`;

export interface Got {
  answer: Answer;
  status: number;
  body: Record<string, unknown> & { transaction_id?: string; tickets?: { id: string; state: string; price: number }[] };
}

/** A 200/201 as the picked tickets, a 409 NOT_ENOUGH_TICKETS as its `available`; anything else throws. */
function answerOf(v: Venue, res: request.Response, ok: number): Got {
  if (res.status === ok) return { answer: { tickets: res.body.tickets.map((x: { id: string }) => shortOf(v, x.id)) }, status: res.status, body: res.body };
  if (res.status === 409 && res.body?.error?.code === 'NOT_ENOUGH_TICKETS') {
    return { answer: { not_enough: res.body.error.available }, status: res.status, body: res.body };
  }
  throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(res.body)}`);
}

export async function search(v: Venue, quantity: number, f: Filters): Promise<Got> {
  const res = await request(http.server).get('/tickets').query({ performance_id: v.perf, quantity, ...f }).set(as(KEYS.alice));
  const got = answerOf(v, res, 200);
  // a search answer is free tickets at their own price
  for (const x of got.body.tickets ?? []) expect([x.state, x.price]).toEqual(['available', v.byId.get(x.id)?.price]);
  return got;
}

export async function holdBest(v: Venue, quantity: number, f: Filters, holdSeconds?: number): Promise<Got> {
  const res = await request(http.server)
    .post('/transaction')
    .set(as(KEYS.alice))
    .send({ performance_id: v.perf, quantity, ...f, ...(holdSeconds ? { hold_seconds: holdSeconds } : {}) });
  const got = answerOf(v, res, 201);
  for (const x of got.body.tickets ?? []) expect([x.state, x.price]).toEqual(['locked', v.byId.get(x.id)?.price]);
  return got;
}

export async function holdIds(ids: string[], holdSeconds?: number) {
  return request(http.server)
    .post('/transaction')
    .set(as(KEYS.alice))
    .send({ tickets: ids, ...(holdSeconds ? { hold_seconds: holdSeconds } : {}) });
}

export async function release(tx: string) {
  const res = await request(http.server).delete(`/transaction/${tx}`).set(as(KEYS.alice));
  expect([res.status, res.body.transaction_status]).toEqual([200, 'released']);
}

export async function complete(tx: string) {
  return request(http.server).put(`/transaction/${tx}`).set(as(KEYS.alice)).send({ status: 'complete' });
}

/** Live counts agree with the state (read as admin; the read gives lapsed holds back first, as search does). */
export async function expectCounts(v: Venue, state: State) {
  const res = await request(http.server).get(`/performances/${v.perf}`).set(as(KEYS.admin));
  const total = v.seats.length;
  const available = freeSeats(v, state).length;
  expect(res.body.performance.counts).toEqual({ total, available, locked: state.locks.size, sold: state.sold.size });
}

export const describeQuery = (q: number, f: Filters) => `quantity=${q} ${JSON.stringify(f)}`;

/** Search answers what the brute force says for this state. Catches any wrong pick, order or 409 count. */
export async function expectSearch(v: Venue, state: State, q: number, f: Filters): Promise<Brute> {
  const want = brute(v, state, q, f);
  const got = await search(v, q, f);
  tally(want);
  expect({ query: describeQuery(q, f), answer: got.answer }).toEqual({ query: describeQuery(q, f), answer: want.answer });
  return want;
}

export const sectionOf = (n: number) => `S${n}`;
/** Short names of seats given as S<section>-<row>-<seat>, checked to exist. */
export const short = (v: Venue, ...names: string[]) => names.map((n) => v.byId.get(`${v.perf}-${n}`)?.short ?? `missing ${n}`);

export function randomFilters(rnd: Rnd, hot: string[]): Filters {
  const section = () => {
    const r = rnd();
    if (r < 0.03) return 'S999'; // no such section: a 409 with available 0
    if (r < 0.45) return sectionOf(pick(rnd, CHEAP));
    if (r < 0.75 && hot.length > 0) return pick(rnd, hot);
    return sectionOf(1 + Math.floor(rnd() * SECTIONS));
  };
  const level = () => (rnd() < 0.03 ? 'C' : rnd() < 0.5 ? 'A' : 'B');
  const maxPrice = () => pick(rnd, [2999, 3000, 3001, 4999, 5000, 7999, 8000, 11999, 12000, 20000]);
  const r = rnd();
  if (r < 0.25) return {};
  if (r < 0.45) return { section: section() };
  if (r < 0.58) return { price_level: level() };
  if (r < 0.7) return { max_price: maxPrice() };
  if (r < 0.8) return { section: section(), price_level: level() };
  if (r < 0.88) return { price_level: level(), max_price: maxPrice() };
  if (r < 0.94) return { section: section(), max_price: maxPrice() };
  return { section: section(), price_level: level(), max_price: maxPrice() };
}

/** Runs body; a failure is re-thrown naming the seed and the last steps, so it can be replayed and read. */
export async function withTrail(name: string, body: (trail: string[]) => Promise<void>) {
  const trail: string[] = [];
  try {
    await body(trail);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${name} failed (STADIUM_SEED=${SEED}); last steps:\n  ${trail.slice(-12).join('\n  ')}\n\n${message}`,
      { cause: err },
    );
  }
}
