// Concurrency: many holds at once over overlapping tickets, through two API instances (two Redis connections,
// as two replicas). Invariants 1 and 2 of DESIGN.md: never two owners, never sold twice, all or nothing.
import request from 'supertest';
import { performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, sleep, useTestApp } from './support/app';
import { prng } from './support/prng';

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

test('50 concurrent holds of 2-4 tickets out of 20: one owner per ticket, all or nothing, counts add up', async () => {
  const perf = await createPerformance(a, { rows: 2, seats: 10 });
  const rnd = prng(20261129);
  const wants = Array.from({ length: 50 }, () => pick(rnd, perf.ticketIds, 2 + Math.floor(rnd() * 3)));

  const responses = await Promise.all(
    wants.map((tickets, i) => request(replica(i).app).post('/transaction').set(as(clientKey(i))).send({ tickets })),
  );

  const live = new Map<string, string[]>();
  responses.forEach((res, i) => {
    if (res.status === 201) {
      expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual(wants[i]);
      live.set(res.body.transaction_id, wants[i]!);
    } else {
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('TICKETS_UNAVAILABLE');
      // every ticket it names is one it asked for, and is locked by a winner
      for (const x of res.body.error.tickets) {
        expect(wants[i]).toContain(x.id);
        expect(x.reason).toBe('locked');
      }
    }
  });
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
  for (const txid of released) live.delete(txid);
  holds2.forEach((res, i) => {
    if (res.status === 201) live.set(res.body.transaction_id, wants2[i]!);
    else expect([res.status, res.body.error.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
  });
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

test('lapsed transactions completing while new holds race for their tickets: never sold twice, never sold while held', async () => {
  const perf = await createPerformance(a, { rows: 1, seats: 21 });
  const ids = perf.ticketIds;
  // 10 old transactions on pairs {0,1} {2,3} ... {18,19}, with a 1 s hold that lapses
  const old = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      request(a.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [ids[2 * i], ids[2 * i + 1]], hold_seconds: 1 }),
    ),
  );
  const oldTx = old.map((r) => (expect(r.status).toBe(201), { id: r.body.transaction_id as string, tickets: r.body.tickets.map((x: { id: string }) => x.id) as string[] }));
  await sleep(1200);
  // now every old transaction completes while bob holds the straddling pairs {1,2} {3,4} ... {19,20}
  const news = Array.from({ length: 10 }, (_, i) => [ids[2 * i + 1]!, ids[2 * i + 2]!]);
  // sent interleaved (a third of the holds first, then the completions, then the other holds) so both sides win some
  const complete = (i: number) =>
    request(replica(i).app).put(`/transaction/${oldTx[i]!.id}`).set(as(KEYS.alice)).send({ status: 'complete' });
  const holdNew = (i: number) => request(replica(i + 1).app).post('/transaction').set(as(KEYS.bob)).send({ tickets: news[i] });
  const order: ['hold' | 'complete', number][] = [0, 3, 6, 9].map((i) => ['hold', i]);
  for (let i = 0; i < 10; i++) order.push(['complete', i]);
  for (const i of [1, 2, 4, 5, 7, 8]) order.push(['hold', i]);
  const sent = order.map(([kind, i]) => (kind === 'hold' ? holdNew(i) : complete(i)).then((res) => ({ kind, i, res })));
  const results = await Promise.all(sent);
  const completes = results.filter((r) => r.kind === 'complete').sort((x, y) => x.i - y.i).map((r) => r.res);
  const holds = results.filter((r) => r.kind === 'hold').sort((x, y) => x.i - y.i).map((r) => r.res);

  const sold = await a.redis.hgetall(performanceKeys(perf.id).sold);
  const lockOwners = await owners(perf.id, ids);
  let completed = 0;
  completes.forEach((res, i) => {
    const tx = oldTx[i]!;
    if (res.status === 200) {
      completed++;
      expect(res.body.transaction_status).toBe('complete');
      for (const id of tx.tickets) expect(sold[id]).toBe(`${res.body.order_number}|${tx.id}`);
    } else {
      expect([res.status, res.body.error.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
      for (const id of tx.tickets) expect(sold[id]).toBeUndefined();
    }
  });
  const heldBy = new Map<string, string>();
  holds.forEach((res, i) => {
    if (res.status === 201) {
      for (const id of news[i]!) {
        expect(sold[id]).toBeUndefined();
        expect(heldBy.has(id)).toBe(false);
        heldBy.set(id, res.body.transaction_id);
      }
    } else {
      expect([res.status, res.body.error.code]).toEqual([409, 'TICKETS_UNAVAILABLE']);
    }
  });
  ids.forEach((id, i) => expect([id, lockOwners[i]]).toEqual([id, heldBy.get(id) ?? null]));
  for (const id of Object.keys(sold)) expect(heldBy.has(id)).toBe(false);
  expect(Object.keys(sold)).toHaveLength(2 * completed);
  expect(await a.redis.xlen(performanceKeys(perf.id).outbox)).toBe(completed);
  const c = await counts(perf.id);
  expect(c).toEqual({ total: 21, sold: 2 * completed, locked: heldBy.size, available: 21 - 2 * completed - heldBy.size });
  // a lapsed transaction that lost reads as expired
  for (const [i, res] of completes.entries()) {
    if (res.status === 409) {
      const get = await request(a.app).get(`/transaction/${oldTx[i]!.id}`).set(as(KEYS.alice));
      expect(get.body.transaction_status).toBe('expired');
    }
  }
});
