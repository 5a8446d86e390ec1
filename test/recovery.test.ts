// reconcile (src/domain/recovery.ts) over the test Redis and document store: a performance is behind only when
// Redis lost what the store has, never because a sale landed between its two reads. Real Redis, real writer.
import { reconcile } from '../src/domain/recovery';
import type { LockStore } from '../src/domain/types';
import { performanceKeys } from '../src/redis/keys';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { sell, waitFor } from './support/writer-tests';

let t: TestApp;
let http: Listening;
let writer: OrderWriter;

beforeAll(async () => {
  t = await startTestApp();
  http = await listen(t);
  writer = await startTestWriter(t, { autoRehydrate: false });
});

afterAll(async () => {
  await writer?.stop();
  await http?.close();
  await t?.close();
});

/** Sells tickets and waits until the document store has the order. */
async function sellPersisted(tickets: string[]) {
  const sold = await sell(http.server, tickets);
  await waitFor(async () => (await t.documents.getOrder(sold.order_number)) !== undefined, 15_000, 'the order persisted');
  return sold;
}

test('a sale completed and persisted while reconcile looks is not taken for lost data', async () => {
  const { id, ticketIds: tickets } = await createPerformance(t, { rows: 1, seats: 3 });
  await sellPersisted([tickets[0]!]);
  // the lock store as it is, except that right after each read of the Redis side another sale completes and is
  // persisted: the interleaving that made the on-sale harness see "Redis order sequence 202 is behind the store's 203"
  let sales = 0;
  const racing: LockStore = Object.create(t.store, {
    salesState: {
      value: async (performanceId: string) => {
        const state = await t.store.salesState(performanceId);
        if (performanceId === id && sales++ === 0) await sellPersisted([tickets[1]!]);
        return state;
      },
    },
  }) as LockStore;
  const results = await reconcile(t.documents, racing, false);
  expect(sales).toBe(1);
  expect(results.filter((r) => r.performance_id === id)).toEqual([]);
  expect((await t.store.salesState(id)).recovering).toBeUndefined();
});

test('a performance whose Redis sequence fell behind the store is reported and marked recovering', async () => {
  const { id, ticketIds: tickets } = await createPerformance(t, { rows: 1, seats: 3 });
  await sellPersisted([tickets[0]!]);
  await sellPersisted([tickets[1]!]);
  // Redis "forgets" the last sale's number: what a failover to a lagging replica does
  await t.redis.hincrby(performanceKeys(id).performance, 'order_seq', -1);
  const results = await reconcile(t.documents, t.store, false);
  const mine = results.filter((r) => r.performance_id === id);
  expect(mine).toEqual([{ performance_id: id, behind: expect.stringMatching(/is behind the store's/), rehydrated: false }]);
  expect((await t.store.salesState(id)).recovering).toMatch(/is behind the store's/);
});
