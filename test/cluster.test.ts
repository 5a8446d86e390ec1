// The service on a real 6-node Redis Cluster (3 primaries + 3 replicas, started by global-setup.ts): the main flows
// of the HTTP API on performances that live on every primary, the order writer persisting their sales and trimming
// their outboxes, /readyz.
import request from 'supertest';
import type { Redis } from 'ioredis';
import { activeOutboxesKey, performanceKeys } from '../src/redis/keys';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, KEYS, startTestApp, startTestWriter, testClusterNodes, uniqueId, type TestApp } from './support/app';
import { waitFor } from './support/writer-tests';

let t: TestApp;
let writer: OrderWriter | undefined;

beforeAll(async () => {
  t = await startTestApp({ REDIS_CLUSTER_NODES: testClusterNodes() });
});

afterAll(async () => {
  await writer?.stop();
  await t?.close();
});

/** The port of the primary serving a key, as the cluster says (CLUSTER SLOTS). */
async function primaryOf(redis: Redis, key: string): Promise<number> {
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return Number(range?.[2][1]);
}

/** Performance ids, one on each primary. */
async function idsOnEveryPrimary(redis: Redis): Promise<string[]> {
  const byPrimary = new Map<number, string>();
  while (byPrimary.size < 3) {
    const id = uniqueId('cl');
    const port = await primaryOf(redis, performanceKeys(id).performance);
    if (!byPrimary.has(port)) byPrimary.set(port, id);
  }
  return [...byPrimary.values()];
}

test('/readyz: the cluster is ok and every primary answers', async () => {
  const ready = await request(t.app).get('/readyz');
  expect([ready.status, ready.body.checks?.redis]).toEqual([200, 'ok']);
});

test('on every primary: load, search, hold (given and best), checkout, read, complete, release; the writer persists every sale', async () => {
  const ids = await idsOnEveryPrimary(t.redis);
  const sold: string[] = [];
  for (const id of ids) {
    const perf = await createPerformance(t, { id, rows: 2, seats: 6 });
    const found = await request(t.app).get(`/tickets?performance_id=${id}&quantity=2`).set(as(KEYS.alice));
    expect([found.status, found.body.tickets?.length]).toEqual([200, 2]);

    const given = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: perf.ticketIds.slice(0, 2) });
    expect(given.status).toBe(201);
    const best = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ performance_id: id, quantity: 2 });
    expect(best.status).toBe(201);
    const txid = given.body.transaction_id as string;
    const checkout = await request(t.app).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status: 'checkout' });
    expect([checkout.status, checkout.body.transaction_status]).toEqual([200, 'checkout']);
    const read = await request(t.app).get(`/transaction/${txid}`).set(as(KEYS.alice));
    expect([read.status, read.body.transaction_status]).toEqual([200, 'checkout']);
    const head = await request(t.app).head(`/transaction/${txid}`).set(as(KEYS.alice));
    expect([head.status, head.headers['transaction-status']]).toEqual([200, 'checkout']);
    const done = await request(t.app)
      .put(`/transaction/${txid}`)
      .set(as(KEYS.alice))
      .send({ status: 'complete', customer: { email: `joe.${id}@example.com`, first_name: 'Joe' } });
    expect([done.status, done.body.transaction_status]).toEqual([200, 'complete']);
    sold.push(done.body.order_number);
    const released = await request(t.app).delete(`/transaction/${best.body.transaction_id}`).set(as(KEYS.bob));
    expect([released.status, released.body.transaction_status]).toEqual([200, 'released']);
    const counts = (await request(t.app).get(`/performances/${id}`).set(as(KEYS.admin))).body.performance.counts;
    expect(counts).toEqual({ total: 12, available: 10, locked: 0, sold: 2 });
  }

  writer = await startTestWriter(t);
  await waitFor(
    async () => {
      for (const order of sold) if ((await request(t.app).get(`/orders/${order}`).set(as(KEYS.admin))).status !== 200) return false;
      return true;
    },
    20_000,
    'every sale persisted',
  );
  // each on its own shard: marked active (the API, before its complete) and trimmed (the writer's sweep)
  for (const id of ids) expect(await t.redis.zscore(activeOutboxesKey, id)).not.toBeNull();
  await waitFor(
    async () => (await Promise.all(ids.map((id) => t.redis.xlen(performanceKeys(id).outbox)))).every((n) => n === 0),
    10_000,
    'every outbox trimmed',
  );
});
