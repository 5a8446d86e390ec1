// Redis loses an acknowledged sale (the scenario): a replica that lagged is promoted behind the same name
// after the primary is killed, without Joe's sale, which the order writer had already persisted. Bob then asks for
// the same ticket. Nothing is sold twice and no order number is given twice: Bob's complete (or hold) is refused
// with 503 RECOVERING, the order writer finds the performance behind the store and rehydrates it, after which the
// ticket is Joe's again in Redis and new sales get new order numbers. Real servers: two redis-servers and a TCP
// proxy as the one name.
import request from 'supertest';
import type { Redis } from 'ioredis';
import { freePort, type EmbeddedRedis } from '../src/redis/embedded';
import { performanceKeys } from '../src/redis/keys';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, KEYS, sleep, startTestApp, startTestWriter, type TestApp } from './support/app';
import { startReplicated, type Replicated } from './support/replicated';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/writer-tests';

let pair: Replicated;
let a: EmbeddedRedis; // the primary, killed
let b: EmbeddedRedis; // its replica, lagging, then promoted
let adminB: Redis;
let proxy: TcpProxy;
let t: TestApp;
let writer: OrderWriter;

beforeAll(async () => {
  pair = await startReplicated('loss');
  ({ primary: a, replica: b, replicaAdmin: adminB } = pair);
  proxy = await startTcpProxy(a.port);
  t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_COMMAND_TIMEOUT_MS: '1000' });
  writer = await startTestWriter(t, { sweepIntervalMs: 300 });
});

afterAll(async () => {
  await writer?.stop();
  await t?.close();
  await proxy?.close();
  await pair?.stop();
});

const complete = (key: string, txid: string, email: string) =>
  request(t.app).put(`/transaction/${txid}`).set(as(key)).send({ status: 'complete', customer: { email, first_name: 'X' } });

test('a lagging replica promoted after the primary dies: no double sale, no reused order number; the performance recovers to match the store', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 6 });
  const [ticket, other] = perf.ticketIds as [string, string];
  const k = performanceKeys(perf.id);
  await waitFor(async () => (await adminB.hget(k.tickets, ticket)) !== null, 10_000, 'b has the performance');

  // the replica stops following (it lags from here on), then Joe buys; the writer persists his order
  await adminB.call('REPLICAOF', '127.0.0.1', String(await freePort()));
  const joeHold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [ticket] });
  const joe = await complete(KEYS.alice, joeHold.body.transaction_id, 'joe@example.com');
  expect(joe.status).toBe(200);
  const joeOrder = joe.body.order_number as string;
  await waitFor(async () => (await request(t.app).get(`/orders/${joeOrder}`).set(as(KEYS.admin))).status === 200, 10_000, "Joe's order persisted");

  // the writer stops until Bob was told RECOVERING (so that his requests meet the service's own check first, not its
  // repair)
  await writer.stop();
  let restarted = false;

  // the primary dies; the replica, without Joe's sale, is promoted behind the same name
  process.kill(a.pid, 'SIGKILL');
  await adminB.call('REPLICAOF', 'NO', 'ONE');
  expect(await adminB.hget(k.sold, ticket)).toBeNull(); // Redis forgot the sale
  proxy.switchTo(b.port);

  // Bob asks for the same ticket until he gets a final answer; every answer is 201/200, 409 or 503, never 500. His
  // hold goes through (Redis forgot the sale), but his complete is the performance's first since the service
  // reconnected: it carries the store's order sequence, finds Redis behind it and answers RECOVERING. The writer,
  // started once Bob was told so (not after a guessed second), rehydrates the performance; Bob's next try finds the
  // ticket sold.
  const answers: string[] = [];
  let bobOrder: string | undefined;
  let final: number | undefined;
  const deadline = Date.now() + 20_000;
  while (final === undefined && Date.now() < deadline) {
    const hold = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [ticket] });
    answers.push(`hold ${hold.status} ${hold.body.error?.code ?? ''}`.trim());
    if (hold.status === 409) final = 409;
    else if (hold.status === 201) {
      for (let i = 0; i < 100 && final === undefined; i++) {
        const done = await complete(KEYS.bob, hold.body.transaction_id, 'bob@example.com');
        answers.push(`complete ${done.status} ${done.body.error?.code ?? ''}`.trim());
        if (done.status === 200) bobOrder = done.body.order_number;
        if (done.status === 200 || done.status === 409) final = done.status;
        else if (done.body.error?.code === 'RECOVERING' && !restarted) {
          restarted = true;
          writer = await startTestWriter(t, { sweepIntervalMs: 300 });
        }
        else await sleep(200);
      }
    } else await sleep(200);
  }
  console.log(`data loss: Bob's answers ${JSON.stringify(answers)}`);
  expect(answers.filter((x) => !/^(hold (201|409|503)|complete (200|409|503))/.test(x))).toEqual([]);
  expect(answers).toContain('complete 503 RECOVERING');
  expect(final).toBe(409); // the ticket is Joe's
  expect(bobOrder).toBeUndefined();

  // Redis matches the store again: the ticket sold to Joe, the mark gone, and new sales get new numbers
  await waitFor(async () => (await t.redis.hget(k.performance, 'recovering')) === null, 10_000, 'recovered');
  expect(await t.redis.hget(k.sold, ticket)).toBe(`${joeOrder}|${joeHold.body.transaction_id}`);
  const read = await request(t.app).get(`/tickets/${ticket}`).set(as(KEYS.admin));
  expect(read.body.ticket).toMatchObject({ state: 'sold', order_number: joeOrder });
  const next = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [other] });
  const nextSale = await complete(KEYS.bob, next.body.transaction_id, 'bob@example.com');
  expect(nextSale.status).toBe(200);
  expect(nextSale.body.order_number).not.toBe(joeOrder);
  await waitFor(async () => (await request(t.app).get(`/orders/${nextSale.body.order_number}`).set(as(KEYS.admin))).status === 200, 10_000, 'the new order persisted');
  const joeStored = (await request(t.app).get(`/orders/${joeOrder}`).set(as(KEYS.admin))).body;
  expect(joeStored.order?.transaction_id ?? joeStored.transaction_id).toBe(joeHold.body.transaction_id);
}, 60_000);
