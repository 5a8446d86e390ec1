// Best available on a stadium of 400 partitions (200 sections × 2 price levels; most partitions share a price):
// GET /tickets and best-available POST /transaction answer exactly what a brute-force reading of the rule in
// lua/_prelude.lua (pick_best) gives — the cheapest `quantity` candidates, or the first run of `quantity` adjacent
// seats (consecutive ords, same price) among the best max(64, 8 × quantity) candidates in score order
// (price × 2^22 + ord) when that run costs no more — and a too-large quantity is a 409 NOT_ENOUGH_TICKETS whose
// `available` is the model's count.
//
// Black-box on purpose (this file is the safety net for a rewrite of the available index): everything goes through
// the HTTP API, and the brute force reads only the tickets' own state — the tickets hash (ord, price), the sold hash
// and the lock keys — never the index keys. A client-side record of every transaction is checked against that
// state, so a hold that reports tickets it did not lock (or locks others) fails too.
//
// A failure names its seed; replay with STADIUM_SEED=<seed> npx jest test/scripts-stadium.test.ts.
import http from 'node:http';
import request from 'supertest';
import { performanceKeys } from '../src/redis/keys';
import { as, KEYS, putPerformance, startTestApp, uniqueId, type TestApp } from './support/app';
import { prng } from './support/prng';

let t: TestApp;
let server: http.Server; // one listening server for every request (supertest would start one per request)
beforeAll(async () => {
  // default holds outlive the test: only short holds lapse; big PUTs on a busy machine may wait past the 2 s default
  t = await startTestApp({ LOCK_TTL_SECONDS: '600', REDIS_COMMAND_TIMEOUT_MS: '15000' });
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
});

const SEED = Number(process.env.STADIUM_SEED ?? 20260417);
const ORD_SPAN = 2 ** 22;

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

// ---- the venue ----

const SECTIONS = 200; // "S1".."S200": natural order puts S2 before S10
const CHEAP = [25, 50, 75, 100, 125, 150, 175, 200]; // their level B costs 3000 (the cheapest price)
const PREMIUM = [7, 77, 177]; // their level A costs 12000
const ROW_LEVEL = ['A', 'A', 'B', 'B', 'A', 'B']; // rows 1..6: levels interleave, so partitions interleave in ord
const rowLength = (s: number, r: number) => 6 + ((s * 7 + r * 3) % 4); // 6..9 seats
const hasAisle = (s: number, r: number) => (s + r) % 5 === 0; // seat 5 missing: seats 4 and 6 are not adjacent

interface Seat {
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

interface Venue {
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
 * would. (The last test of this file covers one PUT larger than a load script call.)
 */
async function loadStadium(rnd: Rnd): Promise<Venue> {
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
  const info = await request(server).get(`/performances/${perf}`).set(as(KEYS.admin));
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

interface State {
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
const freeIn = (v: Venue, state: State) => (id: string) => state.free[v.index.get(id) ?? -1] === true;
/** The free seats, by score. */
const freeSeats = (v: Venue, state: State) => v.seats.filter((_, i) => state.free[i]);

/** Lock keys (of every ticket in the tickets hash) and the sold hash. Never the available index. */
async function readState(v: Venue): Promise<State> {
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
class Ledger {
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

function mapDiff(name: string, got: Map<string, string>, want: Map<string, string>): string[] {
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
function expectStateMatches(state: State, ledger: Ledger) {
  const diff = [...mapDiff('lock', state.locks, ledger.locks), ...mapDiff('sold', state.sold, ledger.sold)];
  expect(diff.slice(0, 10)).toEqual([]);
}

// ---- the brute force ----

interface Filters {
  section?: string;
  price_level?: string;
  max_price?: number;
}

type Answer = { tickets: string[] } | { not_enough: number };

interface Brute {
  answer: Answer;
  candidates: Seat[]; // the best `window` matching free tickets, by score
  run?: number; // index in candidates of the first run of `quantity` adjacent seats
  picked: Seat[];
}

const matches = (x: Seat, f: Filters) =>
  (f.section === undefined || x.section === f.section) &&
  (f.price_level === undefined || x.level === f.price_level) &&
  (f.max_price === undefined || x.price <= f.max_price);

/** pick_best's rule, from scratch over every ticket. */
function brute(v: Venue, state: State, quantity: number, f: Filters): Brute {
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
const cases = { cheapest: 0, runFirst: 0, runWon: 0, runLostOnCost: 0, notEnough: 0 };
function tally(b: Brute) {
  if ('not_enough' in b.answer) cases.notEnough++;
  else if (b.run === undefined) cases.cheapest++; // no run in the window
  else if (b.picked[0] !== b.candidates[b.run]) cases.runLostOnCost++; // a run in the window, dearer than the cheapest
  else if (b.run === 0) cases.runFirst++; // the cheapest are a run
  else cases.runWon++; // a run later in the window beat the cheapest lone seats at the same cost
}

// ---- the API ----

const shortOf = (v: Venue, id: string) => v.byId.get(id)?.short ?? `?${id}`;

interface Got {
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

async function search(v: Venue, quantity: number, f: Filters): Promise<Got> {
  const res = await request(server).get('/tickets').query({ performance_id: v.perf, quantity, ...f }).set(as(KEYS.alice));
  const got = answerOf(v, res, 200);
  // a search answer is free tickets at their own price
  for (const x of got.body.tickets ?? []) expect([x.state, x.price]).toEqual(['available', v.byId.get(x.id)?.price]);
  return got;
}

async function holdBest(v: Venue, quantity: number, f: Filters, holdSeconds?: number): Promise<Got> {
  const res = await request(server)
    .post('/transaction')
    .set(as(KEYS.alice))
    .send({ performance_id: v.perf, quantity, ...f, ...(holdSeconds ? { hold_seconds: holdSeconds } : {}) });
  const got = answerOf(v, res, 201);
  for (const x of got.body.tickets ?? []) expect([x.state, x.price]).toEqual(['locked', v.byId.get(x.id)?.price]);
  return got;
}

async function holdIds(ids: string[], holdSeconds?: number) {
  return request(server)
    .post('/transaction')
    .set(as(KEYS.alice))
    .send({ tickets: ids, ...(holdSeconds ? { hold_seconds: holdSeconds } : {}) });
}

async function release(tx: string) {
  const res = await request(server).delete(`/transaction/${tx}`).set(as(KEYS.alice));
  expect([res.status, res.body.transaction_status]).toEqual([200, 'released']);
}

async function complete(tx: string) {
  return request(server).put(`/transaction/${tx}`).set(as(KEYS.alice)).send({ status: 'complete' });
}

/** Live counts agree with the state (read as admin; the read gives lapsed holds back first, as search does). */
async function expectCounts(v: Venue, state: State) {
  const res = await request(server).get(`/performances/${v.perf}`).set(as(KEYS.admin));
  const total = v.seats.length;
  const available = freeSeats(v, state).length;
  expect(res.body.performance.counts).toEqual({ total, available, locked: state.locks.size, sold: state.sold.size });
}

const describeQuery = (q: number, f: Filters) => `quantity=${q} ${JSON.stringify(f)}`;

/** Search answers what the brute force says for this state. Catches any wrong pick, order or 409 count. */
async function expectSearch(v: Venue, state: State, q: number, f: Filters): Promise<Brute> {
  const want = brute(v, state, q, f);
  const got = await search(v, q, f);
  tally(want);
  expect({ query: describeQuery(q, f), answer: got.answer }).toEqual({ query: describeQuery(q, f), answer: want.answer });
  return want;
}

const sectionOf = (n: number) => `S${n}`;
/** Short names of seats given as S<section>-<row>-<seat>, checked to exist. */
const short = (v: Venue, ...names: string[]) => names.map((n) => v.byId.get(`${v.perf}-${n}`)?.short ?? `missing ${n}`);

function randomFilters(rnd: Rnd, hot: string[]): Filters {
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
async function withTrail(name: string, body: (trail: string[]) => Promise<void>) {
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

// ---- the tests ----

test('randomized rounds on a 400-partition stadium: search and best-available holds agree with brute force', async () => {
  await withTrail('randomized rounds', async (trail) => {
    const rnd = prng(SEED);
    const v = await loadStadium(rnd);
    const ledger = new Ledger();
    const hot: string[] = [];
    const touch = (ids: string[]) => {
      for (const id of ids) hot.push(v.byId.get(id)?.section ?? '');
      hot.splice(0, Math.max(0, hot.length - 12));
    };
    let state = await readState(v);
    expectStateMatches(state, ledger);
    const seen = { bestHeld: 0, bestRefused: 0, conflicts: 0 };
    for (const key of Object.keys(cases) as (keyof typeof cases)[]) cases[key] = 0;

    const sweep = async () => {
      // every quantity over filters that cut across many partitions, one partition, or none
      const sections = [sectionOf(CHEAP[0] as number), 'S1', ...hot.slice(-2)];
      const filters: Filters[] = [
        {},
        { price_level: 'A' },
        { price_level: 'B' },
        { max_price: 3000 },
        { max_price: 4999 },
        { max_price: 5000 },
        { price_level: 'A', max_price: 8000 },
        ...sections.map((section) => ({ section })),
        ...sections.map((section) => ({ section, price_level: 'B', max_price: 5000 })),
      ];
      for (const f of filters) for (let q = 1; q <= 6; q++) await expectSearch(v, state, q, f);
      await expectCounts(v, state);
    };

    const STEPS = 220;
    for (let step = 0; step < STEPS; step++) {
      const r = rnd();
      if (r < 0.3) {
        // best-available hold: exactly the brute-force pick of this moment, or the model's 409 count
        const q = 1 + Math.floor(rnd() * 6);
        const f = randomFilters(rnd, hot);
        trail.push(`${step}: hold best ${describeQuery(q, f)}`);
        const want = brute(v, state, q, f);
        const got = await holdBest(v, q, f);
        tally(want);
        expect({ step, query: describeQuery(q, f), answer: got.answer }).toEqual({ step, query: describeQuery(q, f), answer: want.answer });
        if ('tickets' in want.answer) {
          ledger.hold(got.body.transaction_id as string, want.picked.map((x) => x.id));
          touch(want.picked.map((x) => x.id));
          seen.bestHeld++;
        } else seen.bestRefused++;
      } else if (r < 0.5) {
        // hold of given tickets, mostly among the cheapest free ones (fragmenting where best available looks),
        // sometimes with a taken ticket: then a 409 naming it, and nothing locked
        const free = freeSeats(v, state);
        const pool = rnd() < 0.6 ? free.slice(0, 150) : free;
        const ids = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(rnd, pool).id))];
        const taken = [...state.locks.keys(), ...state.sold.keys()];
        const clash = taken.length > 0 && rnd() < 0.15 ? pick(rnd, taken) : undefined;
        if (clash) ids.splice(Math.floor(rnd() * (ids.length + 1)), 0, clash);
        trail.push(`${step}: hold ${ids.map((id) => shortOf(v, id)).join(',')}`);
        const res = await holdIds(ids);
        if (clash) {
          const reason = state.sold.has(clash) ? 'sold' : 'locked';
          expect([res.status, res.body.error?.code, res.body.error?.tickets]).toEqual([409, 'TICKETS_UNAVAILABLE', [{ id: clash, reason }]]);
          seen.conflicts++;
        } else {
          expect(res.status).toBe(201);
          expect(res.body.tickets.map((x: { id: string }) => x.id).sort()).toEqual([...ids].sort());
          ledger.hold(res.body.transaction_id, ids);
          touch(ids);
        }
      } else if (r < 0.64 && ledger.open().length > 0) {
        const tx = pick(rnd, ledger.open());
        trail.push(`${step}: release ${tx.id} (${tx.ids.map((id) => shortOf(v, id)).join(',')})`);
        await release(tx.id);
        ledger.release(tx.id);
      } else if (r < 0.77 && ledger.open().length > 0) {
        const tx = pick(rnd, ledger.open());
        trail.push(`${step}: complete ${tx.id} (${tx.ids.map((id) => shortOf(v, id)).join(',')})`);
        const res = await complete(tx.id);
        expect([res.status, res.body.transaction_status]).toEqual([200, 'complete']);
        ledger.complete(tx.id);
      } else if (r < 0.83) {
        // drain one partition down to k free seats, then a quantity of k + 1 in it is a 409 saying k
        // (catches a count that is not the partition's, or a pick from a drained partition)
        const f: Filters = { section: sectionOf(rnd() < 0.5 ? pick(rnd, CHEAP) : 1 + Math.floor(rnd() * SECTIONS)), price_level: rnd() < 0.5 ? 'A' : 'B' };
        const left = freeSeats(v, state).filter((x) => matches(x, f));
        const k = Math.floor(rnd() * 5);
        const take = left.slice(0, Math.max(0, left.length - k)).map((x) => x.id);
        trail.push(`${step}: drain ${JSON.stringify(f)} to ${Math.min(k, left.length)} (hold ${take.length})`);
        if (take.length > 0) {
          const res = await holdIds(take);
          expect(res.status).toBe(201);
          ledger.hold(res.body.transaction_id, take);
          touch(take);
        }
        state = await readState(v);
        expectStateMatches(state, ledger);
        const remaining = Math.min(k, left.length);
        for (const q of [remaining, remaining + 1, remaining + 3]) if (q >= 1) await expectSearch(v, state, q, f);
        const refused = await holdBest(v, remaining + 1, f);
        expect(refused.answer).toEqual({ not_enough: remaining });
        seen.bestRefused++;
      } else {
        trail.push(`${step}: look`);
      }

      state = await readState(v);
      expectStateMatches(state, ledger);
      await expectSearch(v, state, 1 + Math.floor(rnd() * 6), randomFilters(rnd, hot));
      if (step % 100 === 99) await sweep();
    }
    await sweep();
    // every kind of answer came up (a generator change that stops reaching one would make this test weak)
    expect(cases.cheapest).toBeGreaterThanOrEqual(5);
    expect(cases.runWon).toBeGreaterThanOrEqual(20);
    expect(cases.runLostOnCost).toBeGreaterThanOrEqual(5);
    expect(cases.notEnough).toBeGreaterThanOrEqual(10);
    expect(seen.bestHeld).toBeGreaterThan(40);
    expect(seen.bestRefused).toBeGreaterThan(5);
    expect(seen.conflicts).toBeGreaterThanOrEqual(2);
    expect(state.sold.size).toBeGreaterThan(50);
  });
}, 240_000); // correctness at stadium scale, not speed: generous for a loaded 2-core machine

test('fragmented stadium: lone seats at the cheapest price beat dearer runs; a lone pair wins only within the window', async () => {
  await withTrail('fragmented stadium', async (trail) => {
    const rnd = prng(SEED + 1);
    const v = await loadStadium(rnd);
    const ledger = new Ledger();
    const cheapest = v.seats.filter((x) => x.price === 3000);
    const last = cheapest[cheapest.length - 1] as Seat; // S200 row 6's last seat: the last 3000 ticket in score order
    const before = cheapest[cheapest.length - 2] as Seat;
    // the layout this scenario is written for: S200 ends its last 3000 row with an even seat after an odd one
    expect([last.short, before.short]).toEqual(['S200-6-8', 'S200-6-7']);

    const holdAll = async (ids: string[], what: string) => {
      for (let i = 0; i < ids.length; i += 40) {
        const part = ids.slice(i, i + 40);
        const res = await holdIds(part);
        expect(res.status).toBe(201);
        ledger.hold(res.body.transaction_id, part);
      }
      trail.push(`hold ${what}: ${ids.length} tickets`);
    };
    /** search and a best-available hold (then released) both give the brute-force answer; returns it. */
    const agree = async (q: number, f: Filters) => {
      const state = await readState(v);
      expectStateMatches(state, ledger);
      const want = await expectSearch(v, state, q, f);
      const held = await holdBest(v, q, f);
      expect({ query: describeQuery(q, f), answer: held.answer }).toEqual({ query: describeQuery(q, f), answer: want.answer });
      if (held.body.transaction_id) await release(held.body.transaction_id);
      return want;
    };
    const noAdjacent = (xs: Seat[]) => xs.every((x, i) => i === 0 || (xs[i - 1] as Seat).ord + 1 !== x.ord);

    // 1. every other seat of the cheapest price held (even seat numbers; S200-6-8 in a transaction of its own):
    // only lone seats remain at 3000, nearly a hundred of them, so nothing at 5000 is in the window
    const blocker = await holdIds([last.id]);
    expect(blocker.status).toBe(201);
    ledger.hold(blocker.body.transaction_id, [last.id]);
    await holdAll(cheapest.filter((x) => x.seat % 2 === 0 && x !== last).map((x) => x.id), 'even seats at 3000');
    const lone = cheapest.filter((x) => x.seat % 2 === 1);
    expect(lone.length).toBeGreaterThan(64);
    for (let q = 1; q <= 6; q++) {
      const want = await agree(q, {});
      // the cheapest lone seats in seat order: catches a rule that reaches past them for a run
      expect(want.answer).toEqual({ tickets: lone.slice(0, q).map((x) => x.short) });
      expect(noAdjacent(want.picked)).toBe(true);
      await agree(q, { price_level: 'B' });
    }
    // one cheap section: its 3000 lone seats, then its 8000 rows (runs) inside the window — a dearer run must not
    // win (catches a "prefer runs" or "compare per-seat price wrongly" rule)
    for (const q of [2, 3, 4]) {
      const want = await agree(q, { section: 'S25' });
      expect(want.run).toBeDefined();
      expect(want.candidates[want.run as number]?.price).toBe(8000);
      expect(want.answer).toEqual({ tickets: lone.filter((x) => x.section === 'S25').slice(0, q).map((x) => x.short) });
    }

    // 2. the blocker goes: S200-6-7/8 is the only adjacent pair at 3000, the last 3000 tickets in score order,
    // beyond the 64-candidate window of quantity 2 — so the cheapest lone seats still win (catches a search that
    // looks for runs beyond the window, e.g. per partition)...
    await release(blocker.body.transaction_id);
    ledger.release(blocker.body.transaction_id);
    trail.push('release S200-6-8');
    expect((await agree(2, {})).answer).toEqual({ tickets: lone.slice(0, 2).map((x) => x.short) });
    // ...while in its own section the pair is within the window and costs the same: it wins
    expect((await agree(2, { section: 'S200' })).answer).toEqual({ tickets: short(v, 'S200-6-7', 'S200-6-8') });
    expect((await agree(2, { section: 'S200', price_level: 'B' })).answer).toEqual({ tickets: short(v, 'S200-6-7', 'S200-6-8') });
    // no run of 3 at 3000 in S200; its 8000 runs are in the window but dearer
    const three = await agree(3, { section: 'S200' });
    expect(three.picked.map((x) => x.price)).toEqual([3000, 3000, 3000]);
    expect(noAdjacent(three.picked)).toBe(true);

    // 3. the first four cheap sections sold out (held): about fifty 3000 tickets remain, so the pair — in a partition
    // far down the score order, its last two seats — falls within the window without a filter and wins
    await holdAll(
      cheapest.filter((x) => ['S25', 'S50', 'S75', 'S100'].includes(x.section) && x.seat % 2 === 1).map((x) => x.id),
      'the rest of S25..S100 at 3000',
    );
    const remaining = lone.filter((x) => !['S25', 'S50', 'S75', 'S100'].includes(x.section));
    expect(remaining.length + 1).toBeLessThanOrEqual(64); // the pair's second seat is a candidate
    expect((await agree(2, {})).answer).toEqual({ tickets: short(v, 'S200-6-7', 'S200-6-8') });
    expect((await agree(2, { max_price: 3000 })).answer).toEqual({ tickets: short(v, 'S200-6-7', 'S200-6-8') });
    for (let q = 3; q <= 6; q++) {
      // no run of q at 3000; the first 5000 run of q is in the window, dearer: the cheapest lone seats win
      const want = await agree(q, {});
      expect(want.candidates[want.run as number]?.price).toBe(5000);
      expect(want.picked.every((x) => x.price === 3000)).toBe(true);
    }

    // 4. the pair broken again: no run at 3000 at all, and the first 5000 run of each quantity is inside the window —
    // it costs more than as many lone 3000 seats, so it must not win
    const pairBreaker = await holdIds([last.id]);
    expect(pairBreaker.status).toBe(201);
    ledger.hold(pairBreaker.body.transaction_id, [last.id]);
    trail.push('hold S200-6-8 again');
    const lone4 = remaining;
    for (let q = 2; q <= 6; q++) {
      const want = await agree(q, {});
      expect(want.candidates[want.run as number]?.price).toBe(5000);
      expect(want.answer).toEqual({ tickets: lone4.slice(0, q).map((x) => x.short) });
    }
    await agree(1, {});
    await agree(2, { price_level: 'B', max_price: 5000 });
    await agree(2, { max_price: 4999 });
    // nothing at or below 2999: a 409 saying 0; more than the 3000 seats left: a 409 with their count
    expect((await agree(1, { max_price: 2999 })).answer).toEqual({ not_enough: 0 });
    expect((await agree(3, { section: 'S200', price_level: 'B', max_price: 3000 })).answer).toEqual({
      tickets: lone4.filter((x) => x.section === 'S200').slice(0, 3).map((x) => x.short),
    });
    const s200 = lone4.filter((x) => x.section === 'S200').length;
    expect((await agree(s200 + 1, { section: 'S200', max_price: 3000 })).answer).toEqual({ not_enough: s200 });
  });
}, 240_000); // correctness at stadium scale, not speed: generous for a loaded 2-core machine

test('lapsed holds: their tickets are found and held again exactly as the model says', async () => {
  await withTrail('lapsed holds', async (trail) => {
    const rnd = prng(SEED + 2);
    const v = await loadStadium(rnd);
    const ledger = new Ledger();
    const SHORT = 3; // seconds
    const k = performanceKeys(v.perf);

    for (let cycle = 0; cycle < 2; cycle++) {
      // long holds by best available (compared on the spot: nothing can lapse yet)
      for (let i = 0; i < 4; i++) {
        const q = 1 + Math.floor(rnd() * 6);
        const f = randomFilters(rnd, []);
        const want = brute(v, await readState(v), q, f);
        const got = await holdBest(v, q, f);
        expect(got.answer).toEqual(want.answer);
        if (got.body.transaction_id) ledger.hold(got.body.transaction_id, want.picked.map((x) => x.id));
      }

      // short holds; while they live, comparisons are recorded and checked only if no short lock lapsed before the
      // last of them (locks of ours go only by lapsing or by our own calls, so then none lapsed during any of them)
      const deferred: { what: string; got: Answer; want: Answer }[] = [];
      // a cheap section whose level B nobody holds or bought: fragmented by a short hold below
      const untouched = freeIn(v, await readState(v));
      const section = CHEAP.map(sectionOf).find((s) =>
        v.seats.every((x) => x.section !== s || x.level !== 'B' || untouched(x.id)),
      ) as string;
      expect(section).toBeDefined();
      const fragment = v.seats.filter((x) => x.section === section && x.level === 'B' && x.seat % 2 === 0).map((x) => x.id);
      const frag = await holdIds(fragment, SHORT);
      expect(frag.status).toBe(201);
      ledger.hold(frag.body.transaction_id, fragment, true);
      trail.push(`cycle ${cycle}: short hold of every other ${section} B seat`);
      for (let i = 0; i < 6; i++) {
        const q = 1 + Math.floor(rnd() * 6);
        const f = rnd() < 0.3 ? { section } : randomFilters(rnd, [section]);
        const want = brute(v, await readState(v), q, f);
        const got = await holdBest(v, q, f, SHORT);
        deferred.push({ what: `short hold best ${describeQuery(q, f)}`, got: got.answer, want: want.answer });
        if (got.body.transaction_id) ledger.hold(got.body.transaction_id, got.body.tickets?.map((x) => x.id) ?? [], true);
      }
      for (let i = 0; i < 3; i++) {
        const state = await readState(v);
        const ids = [pick(rnd, freeSeats(v, state).filter((x) => x.section !== section).slice(0, 300)).id];
        const res = await holdIds(ids, SHORT);
        expect(res.status).toBe(201);
        ledger.hold(res.body.transaction_id, ids, true);
      }
      // one short hold sold before it lapses (sold tickets never come back), one released at once
      const [toSell, toRelease] = ledger.open().filter((x) => x.short && x.id !== frag.body.transaction_id).slice(-2);
      if (toSell) {
        const res = await complete(toSell.id);
        expect([res.status, res.body.transaction_status]).toEqual([200, 'complete']);
        ledger.complete(toSell.id);
      }
      if (toRelease) {
        await release(toRelease.id);
        ledger.release(toRelease.id);
      }
      const live = await readState(v);
      const stateDiff = [...mapDiff('lock', live.locks, ledger.locks), ...mapDiff('sold', live.sold, ledger.sold)];
      const liveQueries: [number, Filters][] = [
        [2, { section, price_level: 'B' }],
        [2, {}],
        [4, { section }],
        [3, { price_level: 'B', max_price: 3000 }],
      ];
      for (const [q, f] of liveQueries) {
        deferred.push({ what: `search ${describeQuery(q, f)}`, got: (await search(v, q, f)).answer, want: brute(v, live, q, f).answer });
      }
      const shortIds = ledger.open().filter((x) => x.short).flatMap((x) => x.ids);
      const alive = (await t.redis.exists(...shortIds.map((id) => `${k.lockPrefix}${id}`))) === shortIds.length;
      if (alive) {
        expect(stateDiff.slice(0, 10)).toEqual([]); // the short holds did lock what they reported
        for (const d of deferred) expect({ what: d.what, answer: d.got }).toEqual({ what: d.what, answer: d.want });
        // while the fragment is held, its section's B level has only lone seats: two of them, not a run
        const lone = deferred.find((d) => d.what.startsWith('search quantity=2 {"section"'))?.got;
        if (lone && 'tickets' in lone) {
          const [a, b] = lone.tickets.map((s) => v.byId.get(`${v.perf}-${s}`) as Seat);
          expect(a && b && a.section === section && b.section === section && b.ord !== a.ord + 1).toBe(true);
        }
      } else {
        console.warn(`lapsed holds: a ${SHORT}s hold lapsed before the checks while it lived ran (slow machine); those checks skipped`);
      }

      // wait (generously) until every short lock key is gone — Redis's own expiry, not a sleep of a guessed length
      const deadline = Date.now() + 20_000;
      while ((await t.redis.exists(...shortIds.map((id) => `${k.lockPrefix}${id}`))) > 0) {
        if (Date.now() > deadline) throw new Error('short holds did not lapse within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const tx of ledger.open().filter((x) => x.short)) ledger.expire(tx.id);
      trail.push(`cycle ${cycle}: short holds lapsed`);

      // the model: a ticket with no lock key that is not sold is free. Search finds the lapsed holds' tickets again
      // (catches an index that forgets to take lapsed holds back, or takes sold ones back)
      let state = await readState(v);
      expectStateMatches(state, ledger);
      for (const f of [{}, { section }, { section, price_level: 'B' }, { price_level: 'B', max_price: 3000 }, { max_price: 5000 }] as Filters[]) {
        for (let q = 1; q <= 6; q++) await expectSearch(v, state, q, f);
      }
      await expectCounts(v, state);
      const rowStart = v.seats.filter((x) => x.section === section && x.level === 'B').slice(0, 4);
      // the fragment lapsed: its section's first B row is whole again, a run of 2 from its first seat
      expect((await search(v, 2, { section, price_level: 'B' })).answer).toEqual({ tickets: rowStart.slice(0, 2).map((x) => x.short) });

      // a best-available hold takes the lapsed fragment's seats back (exactly the brute-force pick)...
      const want = brute(v, state, 4, { section, price_level: 'B' });
      expect(want.answer).toEqual({ tickets: rowStart.map((x) => x.short) });
      const retake = await holdBest(v, 4, { section, price_level: 'B' });
      expect(retake.answer).toEqual(want.answer);
      ledger.hold(retake.body.transaction_id as string, rowStart.map((x) => x.id));
      // ...then the lapsed transaction can neither be completed (its tickets are taken: 409) nor, by its release,
      // free the new holder's seats (catches a release that deletes locks it no longer owns)
      const late = await complete(frag.body.transaction_id);
      expect([late.status, late.body.error?.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
      await release(frag.body.transaction_id);
      state = await readState(v);
      expectStateMatches(state, ledger);
      trail.push(`cycle ${cycle}: fragment retaken, old transaction released`);

      // a lapsed short hold whose tickets are all still free is revived by complete and sold: search drops them
      const revivable = [...ledger.txs.values()].find((x) => x.status === 'expired' && x.ids.every(freeIn(v, state)));
      if (revivable) {
        const res = await complete(revivable.id);
        expect([res.status, res.body.transaction_status]).toEqual([200, 'complete']);
        ledger.complete(revivable.id);
        trail.push(`cycle ${cycle}: revived and sold ${revivable.ids.map((id) => shortOf(v, id)).join(',')}`);
      }
      state = await readState(v);
      expectStateMatches(state, ledger);
      for (const f of [{}, { section }, { max_price: 3000 }, { price_level: 'A' }] as Filters[]) {
        for (let q = 1; q <= 6; q++) await expectSearch(v, state, q, f);
      }
      await expectCounts(v, state);
    }
  });
}, 240_000); // correctness at stadium scale, not speed: generous for a loaded 2-core machine

// Known bug, found while writing this file (see loadStadium): PUT /performances loads its tickets in script calls of
// 2,000 (LOAD_CHUNK in src/domain/inventory.ts) and lua/load_inventory.lua starts each call's ords 2 past the last
// one, so seats 2000 and 2001 of one row — neighbours — get ords 1999 and 2001 and best available does not see them
// as a run (the README's rule says a run of consecutive seat numbers in one row wins at the same cost).
// test.failing passes while the bug is there; once it is fixed jest reports this test: make it a plain test then.
test("neighbours either side of a PUT's 2,000-ticket load chunk are still a run", async () => {
  const perf = uniqueId('chunk');
  const cheap = new Set([1, 3, 2000, 2001]);
  await putPerformance(
    t,
    perf,
    Array.from({ length: 2002 }, (_, i) => ({ id: `${perf}-${i + 1}`, section: 'A', row: '1', seat: i + 1, price: cheap.has(i + 1) ? 5000 : 9000 })),
  );
  // at 5000: seats 1 and 3 (lone) and 2000-2001 (neighbours); the same cost, so the run should win
  const res = await request(server).get('/tickets').query({ performance_id: perf, quantity: 2 }).set(as(KEYS.alice));
  expect(res.status).toBe(200);
  expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${perf}-2000`, `${perf}-2001`]);
});
