// Expiry against the brute-force model of test/support/stadium.ts: on the 400-partition stadium, fragmented by
// long holds, holds of 1 to 40 seats (runs across sections and price levels, and best-available picks) lapse; once
// Redis shows their lock keys gone, the first read gives them back to the available index, and every search answer
// and the counts are what the model (the tickets' own state: lock keys and the sold hash) says. A second wave lapses
// after releases and a sale, and a best-available hold is the first to touch the index after it.
//
// Waits are on Redis's own expiry (test/support/lapse.ts), never a sleep. A failure names its seed; replay with
// STADIUM_SEED=<seed> npx jest test/scripts-index-expiry.test.ts.
import { performanceKeys } from '../src/redis/keys';
import { untilGone } from './support/lapse';
import { prng } from './support/prng';
import {
  brute,
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
  pick,
  randomFilters,
  readState,
  release,
  sectionOf,
  SEED,
  useStadium,
  withTrail,
  type Filters,
  type Rnd,
  type Venue,
} from './support/stadium';

const { t } = useStadium();

/** Holds of these sizes lapse in each wave: lone seats up to the 40 a transaction may hold. */
const SIZES = [1, 2, 3, 5, 8, 13, 21, 40];

/** The queries compared after a lapse: every quantity 1..6 under fixed filters, 40 and 41, and random filters. */
function queries(rnd: Rnd, hot: string[]): [number, Filters][] {
  const fixed: Filters[] = [{}, { price_level: 'B' }, { max_price: 3000 }, { price_level: 'A', max_price: 8000 }, ...hot.map((section) => ({ section }))];
  const out: [number, Filters][] = fixed.flatMap((f) => [1, 2, 3, 4, 5, 6].map((q) => [q, f] as [number, Filters]));
  out.push([40, {}], [40, { max_price: 3000 }], [41, { section: hot[0] }]);
  for (let i = 0; i < 30; i++) out.push([1 + Math.floor(rnd() * 8), randomFilters(rnd, hot)]);
  return out;
}

test('holds of 1 to 40 seats lapse across a fragmented stadium: search answers and counts then match the model', async () => {
  await withTrail('index expiry', async (trail) => {
    const rnd = prng(SEED + 7);
    const v: Venue = await loadStadium(rnd);
    const ledger = new Ledger();
    const k = performanceKeys(v.perf);
    const lockKeysOf = (ids: string[]) => ids.map((id) => `${k.lockPrefix}${id}`);

    /** A hold of these seats (short: 1 or 2 s, meant to lapse; else the stadium's 600 s). */
    const hold = async (ids: string[], seconds?: number) => {
      const res = await holdIds(ids, seconds);
      expect([res.status, res.body.error?.code]).toEqual([201, undefined]);
      ledger.hold(res.body.transaction_id, ids, seconds !== undefined);
      return res.body.transaction_id as string;
    };

    // fragmentation that stays: every other seat of the cheap sections' level B, and one A seat in three of S1..S20
    const fragment = v.seats.filter(
      (x) => (CHEAP.includes(x.sectionNo) && x.level === 'B' && x.seat % 2 === 0) || (x.sectionNo <= 20 && x.level === 'A' && x.seat % 3 === 0),
    );
    for (let i = 0; i < fragment.length; i += 40) await hold(fragment.slice(i, i + 40).map((x) => x.id));
    trail.push(`fragmented: ${fragment.length} seats held for 600 s`);
    const hot = [sectionOf(CHEAP[0] as number), sectionOf(CHEAP[3] as number), 'S7'];

    for (let wave = 0; wave < 2; wave++) {
      // short holds: runs of free seats in score order (across sections and partitions), then best-available picks
      let state = await readState(v);
      const short: string[] = [];
      const taken = new Set<string>();
      for (const size of SIZES) {
        const free = freeSeats(v, state).filter((x) => !taken.has(x.id));
        const start = Math.floor(rnd() * (free.length - size));
        const ids = free.slice(start, start + size).map((x) => x.id);
        ids.forEach((id) => taken.add(id));
        await hold(ids, 1 + (size % 2));
        short.push(...ids);
        trail.push(`wave ${wave}: short hold of ${size} from ${free[start]?.short}`);
      }
      for (let i = 0; i < 4; i++) {
        const q = 1 + Math.floor(rnd() * 6);
        const f = i < 2 ? { section: pick(rnd, hot) } : randomFilters(rnd, hot);
        const got = await holdBest(v, q, f, 1);
        if (got.body.transaction_id) {
          const ids = (got.body.tickets ?? []).map((x) => x.id);
          ledger.hold(got.body.transaction_id, ids, true);
          short.push(...ids);
        }
        trail.push(`wave ${wave}: short best hold ${describeQuery(q, f)}`);
      }
      if (wave === 1) {
        // the second wave also releases long holds and sells one (sold seats never come back)
        const long = ledger.open().filter((x) => !x.short);
        for (const tx of long.slice(0, 3)) {
          await release(tx.id);
          ledger.release(tx.id);
        }
        const sale = long[3] as (typeof long)[number];
        const sold = await complete(sale.id);
        expect([sold.status, sold.body.transaction_status]).toEqual([200, 'complete']);
        ledger.complete(sale.id);
        trail.push('wave 1: 3 long holds released, 1 sold');
      }

      await untilGone(t.redis, lockKeysOf(short));
      for (const tx of ledger.open().filter((x) => x.short)) ledger.expire(tx.id);
      trail.push(`wave ${wave}: ${short.length} short-held seats lapsed`);
      state = await readState(v);
      expectStateMatches(state, ledger); // only the long holds (and the sale) remain

      if (wave === 1) {
        // a best-available hold is the first request after the lapse: it gives the lapsed seats back, then picks
        const f = { section: hot[0] };
        const want = brute(v, state, 6, f);
        const got = await holdBest(v, 6, f);
        expect({ first: describeQuery(6, f), answer: got.answer }).toEqual({ first: describeQuery(6, f), answer: want.answer });
        ledger.hold(got.body.transaction_id as string, want.picked.map((x) => x.id));
        state = await readState(v);
        expectStateMatches(state, ledger);
      }
      for (const [q, f] of queries(rnd, hot)) await expectSearch(v, state, q, f);
      await expectCounts(v, state);
    }
  });
}, 240_000); // correctness at stadium scale, not speed: generous for a loaded 2-core machine

