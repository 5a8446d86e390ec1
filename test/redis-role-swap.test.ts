// A role swap behind REDIS_URL (what managed Redis and DNS failover do): the node the service talks to becomes a
// replica. Every script, reads included, is refused with READONLY (scripts carry `#!lua`), so holds and searches
// answer 503 UNAVAILABLE with Retry-After, never a 500 and never stale data; /readyz is 503; the connection drops
// and comes back on its own; once the node is a primary again the service answers as before, data intact.
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { EmbeddedRedis } from '../src/redis/embedded';
import { as, createPerformance, KEYS, startTestApp, type TestApp } from './support/app';
import { linkUp, startReplicated, type Replicated } from './support/replicated';
import { waitFor } from './support/writer-tests';

let pair: Replicated;
let a: EmbeddedRedis; // the node behind the service's REDIS_URL
let b: EmbeddedRedis; // its replica, promoted in the swap
let adminA: Redis;
let adminB: Redis;
let t: TestApp;

beforeAll(async () => {
  pair = await startReplicated('swap');
  ({ primary: a, replica: b, primaryAdmin: adminA, replicaAdmin: adminB } = pair);
  t = await startTestApp({ REDIS_URL: a.url });
});

afterAll(async () => {
  await t?.close();
  await pair?.stop();
});

test('the node behind REDIS_URL turns replica: 503 with Retry-After for holds and searches, /readyz 503; back to primary: served again', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const [s1, s2, s3] = perf.ticketIds as [string, string, string];
  const first = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [s1] });
  expect(first.status).toBe(201);
  expect((await request(t.app).get('/readyz')).status).toBe(200);
  // b has every write of a before the swap (as a planned failover waits for)
  await waitFor(async () => (await adminB.exists(`tix:{p:${perf.id}}:lock:${s1}`)) === 1, 10_000, 'b caught up');

  // the swap: b is promoted, a follows it
  await adminB.call('REPLICAOF', 'NO', 'ONE');
  await adminA.call('REPLICAOF', '127.0.0.1', String(b.port));
  await waitFor(() => linkUp(adminA), 10_000, 'a replicates b');

  const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [s2] });
  expect([hold.status, hold.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
  expect(Number(hold.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(JSON.stringify(hold.body)).not.toMatch(/READONLY|stack|at /);
  // the READONLY dropped the connection; once it is back (to what is still a replica), a search is refused too,
  // by Redis itself, rather than answered from the replica's copy
  await waitFor(async () => (await t.redis.ping().catch(() => '')) === 'PONG', 10_000, 'reconnected');
  const search = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1`).set(as(KEYS.alice));
  expect([search.status, search.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
  const ready = await request(t.app).get('/readyz');
  expect([ready.status, ready.body.error?.checks?.redis]).toEqual([503, 'unavailable']);
  // nothing was written to b through the refused hold
  expect(await adminB.exists(`tix:{p:${perf.id}}:lock:${s2}`)).toBe(0);

  // a is the primary again (b follows it): the service serves again without a restart, data intact
  await adminA.call('REPLICAOF', 'NO', 'ONE');
  await adminB.call('REPLICAOF', '127.0.0.1', String(a.port));
  await waitFor(async () => (await request(t.app).get('/readyz')).status === 200, 10_000, 'ready again');
  const again = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [s2, s3] });
  expect(again.status).toBe(201);
  const taken = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [s1] });
  expect([taken.status, taken.body.error?.tickets]).toEqual([409, [{ id: s1, reason: 'locked' }]]);
});
