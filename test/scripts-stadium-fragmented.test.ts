// Best available on the 400-partition stadium of test/support/stadium.ts, checked against its brute-force model
// through the HTTP API only: lone seats against runs around the 64-candidate window on a fragmented
// stadium, and neighbours either side of a PUT's load chunk.
//
// A failure names its seed; replay with STADIUM_SEED=<seed> npx jest test/scripts-stadium-fragmented.test.ts.
import request from 'supertest';
import { as, KEYS, putPerformance, uniqueId } from './support/app';
import { prng } from './support/prng';
import {
  describeQuery,
  expectSearch,
  expectStateMatches,
  holdBest,
  holdIds,
  Ledger,
  loadStadium,
  readState,
  release,
  SEED,
  short,
  useStadium,
  withTrail,
  type Filters,
  type Seat,
} from './support/stadium';

const { t, http } = useStadium();

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

// A regression test for a bug found while writing the stadium tests: PUT /performances loads its tickets in script
// calls of about 2,000 (LOAD_CHUNK in src/domain/inventory.ts) and each call starts its ords 2 past the last one, so
// when a call ended between seats 2000 and 2001 of one row those neighbours got ords 1999 and 2001 and best
// available did not see them as a run (the README's rule: a run of consecutive seat numbers in one row wins at the
// same cost). loadChunks now cuts a load at gaps in seat order, not between neighbours.
test("neighbours either side of a PUT's 2,000-ticket load chunk are still a run", async () => {
  const perf = uniqueId('chunk');
  const cheap = new Set([1, 3, 2000, 2001]);
  await putPerformance(
    t,
    perf,
    Array.from({ length: 2002 }, (_, i) => ({ id: `${perf}-${i + 1}`, section: 'A', row: '1', seat: i + 1, price: cheap.has(i + 1) ? 5000 : 9000 })),
  );
  // at 5000: seats 1 and 3 (lone) and 2000-2001 (neighbours); the same cost, so the run should win
  const res = await request(http.server).get('/tickets').query({ performance_id: perf, quantity: 2 }).set(as(KEYS.alice));
  expect(res.status).toBe(200);
  expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${perf}-2000`, `${perf}-2001`]);
});
