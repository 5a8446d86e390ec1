// Best available on the 400-partition stadium of test/support/stadium.ts, checked against its brute-force model
// through the HTTP API only: randomized rounds of holds, releases, completions and drained partitions,
// with every search and best-available hold compared on the spot.
//
// A failure names its seed; replay with STADIUM_SEED=<seed> npx jest test/scripts-stadium-random.test.ts.
import { prng } from './support/prng';
import {
  brute,
  cases,
  CHEAP,
  complete,
  describeQuery,
  expectCounts,
  expectSearch,
  expectStateMatches,
  freeSeats,
  holdBest,
  holdIds,
  Ledger,
  loadStadium,
  matches,
  pick,
  randomFilters,
  readState,
  release,
  sectionOf,
  SECTIONS,
  SEED,
  shortOf,
  tally,
  useStadium,
  withTrail,
  type Filters,
} from './support/stadium';

useStadium();

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
