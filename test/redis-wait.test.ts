// REDIS_WAIT_REPLICAS on real servers, a primary and one replica: a complete is answered 200 only once the replica
// has the sale. With the replica stopped (SIGSTOP: its link stays, it acknowledges nothing) a complete is 503
// NOT_REPLICATED with Retry-After; the sale stays done on the primary; the same complete repeated after the
// replica resumes answers 200 with the same order number, and the replica has it. Holds do not wait.
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { EmbeddedRedis } from '../src/redis/embedded';
import { performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, startTestApp, type TestApp } from './support/app';
import { startReplicated, type Replicated } from './support/replicated';

let pair: Replicated;
let primary: EmbeddedRedis;
let replica: EmbeddedRedis;
let replicaAdmin: Redis;
let t: TestApp;
let other: TestApp; // a second API replica: connections of its own

beforeAll(async () => {
  pair = await startReplicated('wait');
  ({ primary, replica, replicaAdmin } = pair);
  t = await startTestApp({ REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' });
  other = await startTestApp({ REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' });
});

afterAll(async () => {
  await t?.close();
  await other?.close();
  await pair?.stop();
});

const hold = (tickets: string[]) => request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets });
const complete = (txid: string, app: TestApp = t) =>
  request(app.app)
    .put(`/transaction/${txid}`)
    .set(as(KEYS.alice))
    .send({ status: 'complete', customer: { email: 'joe@example.com', first_name: 'Joe' } });

test('complete waits for the replica: 200 while it follows; 503 NOT_REPLICATED while it is stopped; the repeat is 200 with the same order once it resumes', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 6 });
  const [s1, s2, s3] = perf.ticketIds as [string, string, string];
  const sold = performanceKeys(perf.id).sold;

  const first = await hold([s1]);
  const done = await complete(first.body.transaction_id, other); // other's connection has sent a sale (and loaded the script) before the cut
  expect([done.status, done.body.transaction_status]).toEqual([200, 'complete']);
  expect(await replicaAdmin.hget(sold, s1)).toMatch(new RegExp(`^${done.body.order_number}\\|`)); // already there

  process.kill(replica.pid, 'SIGSTOP');
  try {
    const second = await hold([s2]);
    expect(second.status).toBe(201); // holds do not wait for replicas
    const cut = await complete(second.body.transaction_id);
    expect([cut.status, cut.body.error?.code]).toEqual([503, 'NOT_REPLICATED']);
    expect(cut.body.error).toMatchObject({ replicas_required: 1, replicas_acknowledged: 0 });
    expect(Number(cut.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // the sale is done on the primary: nobody else can take the ticket
    const bobs = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [s2] });
    expect([bobs.status, bobs.body.error?.tickets]).toEqual([409, [{ id: s2, reason: 'sold' }]]);
    // repeated through another replica of the API (another connection, which wrote nothing of this sale): its
    // WAIT still covers the sale, because the repeat writes too
    const stillCut = await complete(second.body.transaction_id, other);
    expect([stillCut.status, stillCut.body.error?.code]).toEqual([503, 'NOT_REPLICATED']);
  } finally {
    process.kill(replica.pid, 'SIGCONT');
  }

  // the last hold's transaction id, from its sold record on the primary
  const [orderOnPrimary, txid] = String(await t.redis.hget(sold, s2)).split('|') as [string, string];
  const repeated = await complete(txid);
  expect([repeated.status, repeated.body.transaction_status, repeated.body.order_number]).toEqual([200, 'complete', orderOnPrimary]);
  expect(await replicaAdmin.hget(sold, s2)).toBe(`${orderOnPrimary}|${txid}`);
  // a new sale goes straight through again
  const third = await hold([s3]);
  expect((await complete(third.body.transaction_id)).status).toBe(200);
});
