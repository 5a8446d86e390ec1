// The available index (partitions cut into chunks of 128 ords, see lua/includes/avail.lua) stays exact under random holds,
// best-available holds, releases, completions and price changes: every free ticket is in its chunk and nothing else
// is, the count key matches, emptied chunks and partitions are gone, chunks keep the compact listpack encoding, and
// search and the available listing agree with a brute-force answer computed from the tickets' own state.
import { randomUUID } from 'node:crypto';
import { AppError } from '../src/errors';
import {
  availableChunkKey,
  availableCountKey,
  availableHeadsKey,
  availableLevelHeadsKey,
  availablePartitionKey,
  availableSectionKey,
  availableSlotOf,
  performanceKeys,
} from '../src/redis/keys';
import { callerOf, putPerformance, uniqueId, useTestApp } from './support/app';
import { prng } from './support/prng';

const t = useTestApp({ LOCK_TTL_SECONDS: '60' });

const bob = callerOf('bob');
const ORD_SPAN = 2 ** 22;


/** A search that finds nothing refuses with NOT_ENOUGH_TICKETS (no free ticket matches): that, and only that, is []. */
function noneMatching(err: unknown): [] {
  if (err instanceof AppError && err.code === 'NOT_ENOUGH_TICKETS') return [];
  throw err;
}

/** 600 tickets: 2 sections × 2 price levels, two prices inside level A (so a level spans partitions). */
function venue(perf: string) {
  const tickets = [];
  for (let i = 0; i < 600; i++) {
    const section = i < 400 ? 'ORCH' : 'BALC';
    const row = `R${Math.floor(i / 25)}`;
    const level = i % 50 < 30 ? 'A' : 'B';
    const price = level === 'A' ? (i % 7 === 0 ? 5500 : 5000) : 3000;
    tickets.push({ id: `${perf}-${i}`, section, row, seat: (i % 25) + 1, price, price_level: level });
  }
  return tickets;
}

interface Free {
  id: string;
  score: number;
  section: string;
  level: string;
  price: number;
}

/** The free tickets as the tickets' own state says (not sold, no lock key), with their scores. */
async function freeTickets(perf: string): Promise<Free[]> {
  const k = performanceKeys(perf);
  const records = await t.redis.hgetall(k.tickets);
  const free: Free[] = [];
  const pipeline = t.redis.pipeline();
  for (const id of Object.keys(records)) pipeline.hexists(k.sold, id).exists(`${k.lockPrefix}${id}`);
  const taken = ((await pipeline.exec()) ?? []).map(([err, n]) => {
    if (err) throw err;
    return n === 1;
  });
  for (const [i, [id, rec]] of Object.entries(records).entries()) {
    if (taken[2 * i] || taken[2 * i + 1]) continue;
    const [ord = '', price = '', section = '', , , level = ''] = rec.split('|');
    free.push({ id, score: Number(price) * ORD_SPAN + Number(ord), section, level, price: Number(price) });
  }
  return free.sort((a, b) => a.score - b.score);
}

/** Every key of the index, checked against the free tickets. */
async function expectIndexExact(perf: string) {
  const k = performanceKeys(perf);
  const free = await freeTickets(perf);
  const indexed = new Map<string, number>();
  for (const partition of await t.redis.smembers(k.available)) {
    const chunks = await t.redis.zrange(availablePartitionKey(perf, partition), '0', '-1');
    expect(chunks.length).toBeGreaterThan(0); // an emptied partition leaves the set
    for (const chunk of chunks) {
      const key = availableChunkKey(perf, partition, Number(chunk));
      expect(await t.redis.object('ENCODING', key)).toBe('listpack');
      const entries = await t.redis.zrange(key, '0', '-1', 'WITHSCORES');
      expect(entries.length).toBeGreaterThan(0); // an emptied chunk leaves its partition
      for (let i = 0; i < entries.length; i += 2) {
        const id = entries[i] as string;
        const slot = availableSlotOf((await t.redis.hget(k.tickets, id)) ?? '');
        expect(slot).toMatchObject({ partition, chunk: Number(chunk) });
        indexed.set(id, Number(entries[i + 1]));
      }
    }
  }
  expect([...indexed.entries()].sort((a, b) => a[1] - b[1])).toEqual(free.map((f) => [f.id, f.score]));
  // the heads are exact: each non-empty partition by its cheapest free ticket, in the performance's heads, in its
  // price level's heads and in its section's set, and nothing else there (best-available trusts them)
  const cheapest = new Map<string, Free>();
  for (const f of free) {
    const partition = `${f.section}|${f.level}|${f.price}`;
    if (!cheapest.has(partition)) cheapest.set(partition, f);
  }
  const heads = (entries: string[]) => {
    const out: [string, number][] = [];
    for (let i = 0; i < entries.length; i += 2) out.push([entries[i] as string, Number(entries[i + 1])]);
    return out.sort((a, b) => a[0].localeCompare(b[0]));
  };
  const expected = (keep: (f: Free) => boolean) =>
    [...cheapest.entries()].filter(([, f]) => keep(f)).map(([p, f]) => [p, f.score] as [string, number]).sort((a, b) => a[0].localeCompare(b[0]));
  expect(heads(await t.redis.zrange(availableHeadsKey(perf), '0', '-1', 'WITHSCORES'))).toEqual(expected(() => true));
  for (const level of new Set(free.map((f) => f.level).concat(['A', 'B']))) {
    const got = heads(await t.redis.zrange(availableLevelHeadsKey(perf, level), '0', '-1', 'WITHSCORES'));
    expect(got).toEqual(expected((f) => f.level === level));
  }
  for (const section of new Set(free.map((f) => f.section).concat(['ORCH', 'BALC', 'S']))) {
    const got = (await t.redis.smembers(availableSectionKey(perf, section))).sort((a, b) => a.localeCompare(b));
    expect(got).toEqual(expected((f) => f.section === section).map(([p]) => p));
  }
  expect(Number(await t.redis.get(availableCountKey(perf)))).toBe(free.length);
  expect((await t.store.performanceInfo(perf))?.counts.available).toBe(free.length);
  return free;
}

const access = (perf: string, transactionId: string) => ({ caller: bob, transactionId, performanceId: perf });

test('random holds, releases, completions and price changes keep the index exact', async () => {
  const perf = uniqueId();
  const tickets = venue(perf);
  await putPerformance(t, perf, tickets, { max_tickets_per_transaction: 10 });
  await expectIndexExact(perf);

  const random = prng(20261129);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const open: string[] = [];
  for (let step = 0; step < 160; step++) {
    const r = random();
    const free = await freeTickets(perf);
    if (r < 0.35 && free.length > 3) {
      const ids = [pick(free).id, pick(free).id].filter((x, i, a) => a.indexOf(x) === i);
      const tx = await t.store.hold({ transactionId: randomUUID(), performanceId: perf, caller: bob, holdSeconds: 60 }, ids);
      open.push(tx.id);
    } else if (r < 0.55 && free.length > 3) {
      const filters = pick([{}, { section: 'BALC' }, { price_level: 'A' }, { max_price: 5000 }]);
      const tx = await t.store.holdBest({ transactionId: randomUUID(), performanceId: perf, caller: bob, holdSeconds: 60 }, { quantity: 2, ...filters });
      open.push(tx.id);
    } else if (r < 0.75 && open.length > 0) {
      const id = open.splice(Math.floor(random() * open.length), 1)[0] as string;
      await t.store.release(access(perf, id));
    } else if (r < 0.9 && open.length > 0) {
      const id = open.splice(Math.floor(random() * open.length), 1)[0] as string;
      await t.store.complete(access(perf, id), undefined, { customer: undefined, paymentReference: undefined });
    } else {
      // a price change moves a free ticket to another partition; a held one keeps its lock
      const ticket = pick(tickets);
      await putPerformance(t, perf, [{ ...ticket, price: pick([1000, 3000, 5000, 7000]) }]);
    }
    if (step % 20 === 19) await expectIndexExact(perf);
  }
  const free = await expectIndexExact(perf);

  // search agrees with brute force: the cheapest matching ticket (quantity 1 prefers no run)
  for (const filter of [{}, { section: 'ORCH' }, { section: 'BALC', price_level: 'B' }, { max_price: 4999 }, { max_price: 1000 }]) {
    const want = free.filter(
      (f) =>
        (!('section' in filter) || f.section === filter.section) &&
        (!('price_level' in filter) || f.level === filter.price_level) &&
        (!('max_price' in filter) || f.price <= (filter.max_price as number)),
    );
    const got = await t.store.search(perf, { quantity: 1, ...filter }).catch(noneMatching);
    expect(got.map((x) => x.id)).toEqual(want.slice(0, 1).map((f) => f.id));
  }

  // the available listing walks every free ticket once, by score, across partition and chunk borders
  const walked: string[] = [];
  let cursor = '';
  for (;;) {
    const page = await t.store.listTickets(perf, 'available', 7, cursor);
    walked.push(...page.tickets.map((x) => x.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  expect(walked).toEqual(free.map((f) => f.id));
}, 180_000); // a few thousand script calls: ~15 s alone, past 30 s on a loaded 2-core machine

test('a chunk holds the tickets of 128 consecutive ords of one partition', async () => {
  const perf = uniqueId();
  await putPerformance(
    t,
    perf,
    Array.from({ length: 300 }, (_, i) => ({ id: `${perf}-${i}`, section: 'S', row: 'A', seat: i + 1, price: 100 })),
  );
  const chunks = await t.redis.zrange(availablePartitionKey(perf, 'S||100'), '0', '-1');
  expect(chunks).toEqual(['0', '1', '2']);
  expect(await t.redis.zcard(availableChunkKey(perf, 'S||100', 0))).toBe(128);
  expect(await t.redis.zcard(availableChunkKey(perf, 'S||100', 2))).toBe(300 - 256);
});
