// A performance's slot migrating between primaries of a real Redis Cluster (MIGRATING/IMPORTING, keys moved part
// way): requests on it answer 503 with Retry-After (a script's keys split between two nodes is TRYAGAIN or ASK
// until the move ends), never a 500; once the slot has moved, every answer is correct again without a restart.
import request from 'supertest';
import { Redis } from 'ioredis';
import { performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, startTestApp, uniqueId, type TestApp } from './support/app';
import { startCluster, type EmbeddedCluster } from '../tools/common/redis-cluster';
import { waitFor } from './support/writer-tests';

let cluster: EmbeddedCluster;
let t: TestApp;
const admins = new Map<number, Redis>();

beforeAll(async () => {
  cluster = await startCluster({ serverBin: process.env.REDIS_SERVER_BIN });
  t = await startTestApp({ REDIS_CLUSTER_NODES: cluster.seeds, REDIS_COMMAND_TIMEOUT_MS: '1000' });
}, 60_000);

afterAll(async () => {
  for (const admin of admins.values()) admin.disconnect();
  await t?.close();
  await cluster?.stop();
});

async function admin(port: number): Promise<Redis> {
  let r = admins.get(port);
  if (!r) {
    r = new Redis({ port, lazyConnect: true });
    await r.connect();
    admins.set(port, r);
  }
  return r;
}

test('a slot moving: 503 with Retry-After while its keys are split, never 500; correct answers once it has moved', async () => {
  const id = uniqueId('mig');
  const perf = await createPerformance(t, { id, rows: 1, seats: 8 });
  const [s1, s2, s3] = perf.ticketIds as [string, string, string];
  const held = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [s1] });
  expect(held.status).toBe(201);

  const k = performanceKeys(id);
  const anyNode = await admin(cluster.nodes[0]!.port);
  const slot = Number(await anyNode.call('CLUSTER', 'KEYSLOT', k.performance));
  const ranges = (await anyNode.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const sourcePort = Number(ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1]);
  const primaries = await cluster.primaries();
  const targetPort = primaries.find((p) => p !== sourcePort) as number;
  const source = await admin(sourcePort);
  const target = await admin(targetPort);
  const sourceId = String(await source.call('CLUSTER', 'MYID'));
  const targetId = String(await target.call('CLUSTER', 'MYID'));

  await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
  await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);
  // part of the performance moves: its tickets hash is on the target, the rest still on the source
  await source.call('MIGRATE', '127.0.0.1', targetPort, '', 0, 5000, 'KEYS', k.tickets);

  const during = [
    await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [s2] }),
    await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ performance_id: id, quantity: 1 }),
    await request(t.app).get(`/tickets?performance_id=${id}&quantity=1`).set(as(KEYS.bob)),
    await request(t.app).get(`/transaction/${held.body.transaction_id}`).set(as(KEYS.alice)),
  ];
  for (const res of during) {
    expect([res.status, res.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }
  // nothing was locked by the refused holds
  expect(await t.redis.exists(`${k.lockPrefix}${s2}`)).toBe(0);

  // the move ends: every remaining key, then the slot's owner everywhere
  for (;;) {
    const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
    if (keys.length === 0) break;
    await source.call('MIGRATE', '127.0.0.1', targetPort, '', 0, 5000, 'KEYS', ...keys);
  }
  for (const port of primaries) await (await admin(port)).call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);

  await waitFor(
    async () => (await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [s3] })).status === 201,
    10_000,
    'holds answer on the new owner',
  );
  const read = await request(t.app).get(`/transaction/${held.body.transaction_id}`).set(as(KEYS.alice));
  expect([read.status, read.body.transaction_status]).toEqual([200, 'open']);
  const again = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [s1] });
  expect([again.status, again.body.error?.tickets]).toEqual([409, [{ id: s1, reason: 'locked' }]]);
  const counts = (await request(t.app).get(`/performances/${id}`).set(as(KEYS.admin))).body.performance.counts;
  expect(counts).toEqual({ total: 8, available: 6, locked: 2, sold: 0 });
}, 60_000);
