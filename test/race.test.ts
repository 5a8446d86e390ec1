// Concurrency: many holds at once over overlapping tickets, through two API instances (two Redis connections,
// as two replicas). Invariants 1 and 2 of DESIGN.md: never two owners, never sold twice, all or nothing.
import request from 'supertest';
import { performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, sleep, useTestApp } from './support/app';
import { prng } from './support/prng';
import { waitFor } from './support/spawn';

const a = useTestApp({ LOCK_TTL_SECONDS: '60' }); // replica 1
const b = useTestApp({ LOCK_TTL_SECONDS: '60' }); // replica 2

function pick<T>(rnd: () => number, from: readonly T[], n: number): T[] {
  const pool = [...from];
  const out: T[] = [];
  while (out.length < n) out.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0] as T);
  return out;
}

const replica = (i: number) => (i % 2 === 0 ? a : b);
const clientKey = (i: number) => (i % 3 === 0 ? KEYS.bob : KEYS.alice);
const owners = (perf: string, ids: readonly string[]) =>
  a.redis.mget(ids.map((id) => performanceKeys(perf).lockPrefix + id));

async function counts(perf: string) {
  const info = await a.store.performanceInfo(perf);
  if (!info) throw new Error('no performance');
  return info.counts;
}

/** Every live transaction holds all of its tickets, no ticket is in two of them, and no other lock exists. */
async function expectExclusive(perf: string, all: readonly string[], live: Map<string, string[]>) {
  const owner = new Map<string, string>();
  for (const [txid, tickets] of live) {
    for (const id of tickets) {
      expect(owner.get(id)).toBeUndefined(); // one owner per ticket
      owner.set(id, txid);
    }
  }
  const actual = await owners(perf, all);
  all.forEach((id, i) => expect([id, actual[i]]).toEqual([id, owner.get(id) ?? null]));
  const c = await counts(perf);
  expect(c.locked).toBe(owner.size);
  expect(c.available + c.locked + c.sold).toBe(c.total);
}

const heldTickets = (holds: Iterable<readonly string[]>) => new Set([...holds].flat());

/** Each 409 TICKETS_UNAVAILABLE names at least one ticket, each one it asked for, locked, and among `lockedBy`. */
function expectRefusalsNamed(responses: readonly request.Response[], wants: readonly string[][], lockedBy: ReadonlySet<string>) {
  responses.forEach((res, i) => {
    if (res.status === 201) return;
    expect([res.status, res.body.error.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
    const named = res.body.error.tickets as { id: string; reason: string }[];
    expect(named.length).toBeGreaterThan(0);
    for (const x of named) expect([x.id, x.reason, wants[i]!.includes(x.id), lockedBy.has(x.id)]).toEqual([x.id, 'locked', true, true]);
  });
}

test('50 concurrent holds of 2-4 tickets out of 20: one owner per ticket, all or nothing, counts add up', async () => {
  const perf = await createPerformance(a, { rows: 2, seats: 10 });
  const rnd = prng(20261129);
  const wants = Array.from({ length: 50 }, () => pick(rnd, perf.ticketIds, 2 + Math.floor(rnd() * 3)));

  const responses = await Promise.all(
    wants.map((tickets, i) => request(replica(i).app).post('/transaction').set(as(clientKey(i))).send({ tickets })),
  );

  const live = new Map<string, string[]>();
  responses.forEach((res, i) => {
    if (res.status !== 201) return;
    expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual(wants[i]);
    live.set(res.body.transaction_id, wants[i]!);
  });
  // every refusal names at least one ticket, each one it asked for and locked by a winner of the round
  expectRefusalsNamed(responses, wants, heldTickets(live.values()));
  expect(live.size).toBeGreaterThan(0);
  expect(live.size).toBeLessThan(50);
  await expectExclusive(perf.id, perf.ticketIds, live);
  // a loser left nothing behind: only winners' transactions exist
  const txKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await a.redis.scan(cursor, 'MATCH', `${performanceKeys(perf.id).transactionPrefix}*`, 'COUNT', 1000);
    txKeys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  expect(txKeys.map((k) => k.slice(performanceKeys(perf.id).transactionPrefix.length)).sort()).toEqual([...live.keys()].sort());

  // round 2: release half of the winners while 50 new holds race for the tickets
  const winners = [...live.keys()];
  const released = winners.filter((_, i) => i % 2 === 0);
  const keyOf = new Map(responses.filter((r) => r.status === 201).map((r) => [r.body.transaction_id as string, r.body.locked_by as string]));
  const wants2 = Array.from({ length: 50 }, () => pick(rnd, perf.ticketIds, 2 + Math.floor(rnd() * 3)));
  const [releases, holds2] = await Promise.all([
    Promise.all(
      released.map((txid, i) =>
        request(replica(i).app)
          .delete(`/transaction/${txid}`)
          .set(as(keyOf.get(txid) === 'bob' ? KEYS.bob : KEYS.alice)),
      ),
    ),
    Promise.all(wants2.map((tickets, i) => request(replica(i + 1).app).post('/transaction').set(as(clientKey(i))).send({ tickets }))),
  ]);
  for (const r of releases) expect([r.status, r.body.transaction_status]).toEqual([200, 'released']);
  const releasedTickets = heldTickets(released.map((txid) => live.get(txid)!));
  for (const txid of released) live.delete(txid);
  holds2.forEach((res, i) => {
    if (res.status === 201) live.set(res.body.transaction_id, wants2[i]!);
  });
  // a refusal may name a ticket of a transaction released in this round (its release had not run yet)
  expectRefusalsNamed(holds2, wants2, new Set([...heldTickets(live.values()), ...releasedTickets]));
  await expectExclusive(perf.id, perf.ticketIds, live);
});

test('50 concurrent best-available holds of 2 on 60 tickets: exactly 30 winners, no ticket twice', async () => {
  const perf = await createPerformance(a, { rows: 3, seats: 20 });
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      request(replica(i).app).post('/transaction').set(as(clientKey(i))).send({ performance_id: perf.id, quantity: 2 }),
    ),
  );
  const winners = responses.filter((r) => r.status === 201);
  const losers = responses.filter((r) => r.status !== 201);
  expect(winners).toHaveLength(30);
  for (const r of losers) {
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 0 });
  }
  const live = new Map<string, string[]>(
    winners.map((r) => [r.body.transaction_id as string, r.body.tickets.map((x: { id: string }) => x.id) as string[]]),
  );
  for (const tickets of live.values()) expect(tickets).toHaveLength(2);
  await expectExclusive(perf.id, perf.ticketIds, live);
  expect(await counts(perf.id)).toEqual({ total: 60, available: 0, locked: 60, sold: 0 });
  // every winner got a pair of adjacent seats of one row (20 seats per row: pairs always fit)
  for (const tickets of live.values()) {
    const [x, y] = tickets.map((id) => id.slice(perf.id.length + 1));
    expect(x![0]).toBe(y![0]);
    expect(Number(y!.slice(1)) - Number(x!.slice(1))).toBe(1);
  }
});

test('the same completion re-sent 10 times at once: one order number, one outbox entry', async () => {
  const perf = await createPerformance(a, { rows: 1, seats: 3 });
  const hold = await request(a.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: perf.ticketIds.slice(0, 2) });
  expect(hold.status).toBe(201);
  const txid = hold.body.transaction_id;
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      request(replica(i).app).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status: 'complete' }),
    ),
  );
  const numbers = new Set(results.map((r) => (expect(r.status).toBe(200), r.body.order_number)));
  expect(numbers.size).toBe(1);
  expect(await a.redis.xlen(performanceKeys(perf.id).outbox)).toBe(1);
  expect(await counts(perf.id)).toEqual({ total: 3, available: 1, locked: 0, sold: 2 });
});


/**
 * How a round of the lapsed-completion race starts. A real race (both sent in one tick, the order alternating) may
 * legitimately go one way every time on a given machine, so each outcome is also reached by construction: the
 * other request is sent only once the first one's effect is in Redis (while its answer may still be on its way).
 */
type Start = 'race, completion sent first' | 'race, hold sent first' | 'completion ahead' | 'hold ahead';
const STARTS: readonly Start[] = ['race, completion sent first', 'race, hold sent first', 'completion ahead', 'hold ahead'];

test('lapsed transactions completing while new holds race for their tickets: exactly one side wins each round, both sides win, the loser names the contested ticket', async () => {
  const ROUNDS = 24; // 6 of each start
  const perf = await createPerformance(a, { rows: 3, seats: ROUNDS }); // 3 tickets a round
  const ids = perf.ticketIds;
  // round r: an old transaction of alice holds {x, y} for 1 s and lapses; bob then wants {y, z}; y is contested
  const rounds = Array.from({ length: ROUNDS }, (_, r) => ({
    start: STARTS[r % STARTS.length]!,
    x: ids[3 * r]!,
    y: ids[3 * r + 1]!,
    z: ids[3 * r + 2]!,
  }));
  const old = await Promise.all(
    rounds.map(({ x, y }) => request(a.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [x, y], hold_seconds: 1 })),
  );
  const oldTx = old.map((r) => (expect(r.status).toBe(201), r.body.transaction_id as string));
  await sleep(1200); // every old hold has lapsed (its 1 s counts from before its answer)
  expect(await owners(perf.id, ids)).toEqual(ids.map(() => null));

  const k = performanceKeys(perf.id);
  const results = await Promise.all(
    rounds.map(async ({ start, x, y, z }, r) => {
      // supertest sends a request when it is awaited (then): building one sends nothing yet
      const complete = () => request(replica(r).app).put(`/transaction/${oldTx[r]}`).set(as(KEYS.alice)).send({ status: 'complete' });
      const hold = () => request(replica(r + 1).app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [y, z] });
      let answered = false; // the request ahead answered (a refusal leaves no effect to wait for)
      const settle = (t: request.Test) => t.then((res) => ((answered = true), res));
      let completion: Promise<request.Response>;
      let holding: Promise<request.Response>;
      if (start === 'race, completion sent first') [completion, holding] = [settle(complete()), settle(hold())];
      else if (start === 'race, hold sent first') [holding, completion] = [settle(hold()), settle(complete())];
      else if (start === 'completion ahead') {
        completion = settle(complete());
        await waitFor(`round ${r}: ${y} sold`, async () => answered || (await a.redis.hexists(k.sold, y)) === 1);
        holding = settle(hold());
      } else {
        holding = settle(hold());
        await waitFor(`round ${r}: ${z} locked`, async () => answered || (await a.redis.get(k.lockPrefix + z)) !== null);
        completion = settle(complete());
      }
      return { start, x, y, z, tx: oldTx[r]!, completion: await completion, hold: await holding };
    }),
  );

  const sold = await a.redis.hgetall(k.sold);
  const lockOwners = await owners(perf.id, ids);
  const winners = new Map<string, number>();
  const won = (side: string) => winners.set(side, (winners.get(side) ?? 0) + 1);
  for (const { start, x, y, z, tx, completion, hold } of results) {
    const statuses = { start, completion: completion.status, hold: hold.status };
    // exactly one side wins; the loser names the contested ticket, and only it, as the winner left it
    if (completion.status === 200) {
      won(`completion (${start})`);
      expect(statuses).toEqual({ start, completion: 200, hold: 409 });
      expect(completion.body.transaction_status).toBe('complete');
      expect(hold.body.error).toMatchObject({ code: 'TICKETS_UNAVAILABLE', tickets: [{ id: y, reason: 'sold' }] });
      for (const id of [x, y]) expect([id, sold[id]]).toEqual([id, `${completion.body.order_number}|${tx}`]);
      expect([sold[z], lockOwners[ids.indexOf(z)]]).toEqual([undefined, null]);
    } else {
      won(`hold (${start})`);
      expect(statuses).toEqual({ start, completion: 409, hold: 201 });
      expect(completion.body.error).toMatchObject({ code: 'TICKETS_UNAVAILABLE', tickets: [{ id: y, reason: 'locked' }] });
      for (const id of [y, z]) expect([id, sold[id], lockOwners[ids.indexOf(id)]]).toEqual([id, undefined, hold.body.transaction_id]);
      expect([sold[x], lockOwners[ids.indexOf(x)]]).toEqual([undefined, null]);
      // the lapsed transaction that lost reads as expired
      const get = await request(a.app).get(`/transaction/${tx}`).set(as(KEYS.alice));
      expect(get.body.transaction_status).toBe('expired');
    }
  }
  // both outcomes happened: by construction in the rounds where one side was ahead (the race rounds may go either way)
  expect(winners.get('completion (completion ahead)')).toBe(ROUNDS / 4);
  expect(winners.get('hold (hold ahead)')).toBe(ROUNDS / 4);
  const completed = results.filter((r) => r.completion.status === 200).length;
  const held = ROUNDS - completed;
  expect(Object.keys(sold)).toHaveLength(2 * completed);
  expect(await a.redis.xlen(k.outbox)).toBe(completed);
  expect(await counts(perf.id)).toEqual({ total: 3 * ROUNDS, sold: 2 * completed, locked: 2 * held, available: ROUNDS });
});
