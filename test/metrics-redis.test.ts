// The Redis gauges of /metrics (INFO of every node at scrape time): they follow one real node and every node of the
// test Cluster; a Redis that is gone or paused leaves a scrape quick and 200, with tixlock_redis_up 0. And
// docs/operations.md lists exactly the metrics src/metrics.ts defines.
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createMetrics } from '../src/metrics';
import { as, createPerformance, KEYS, startTestApp, testClusterNodes, type TestApp } from './support/app';
import { sample } from './support/metrics-text';
import { startFaultyRedis } from './support/redis-fault';
import { waitFor } from './support/spawn';

const scrape = async (app: TestApp['app']) => {
  const t0 = Date.now();
  const res = await request(app).get('/metrics').set(as(KEYS.admin));
  expect(res.status).toBe(200);
  return { text: res.text, ms: Date.now() - t0 };
};

/** The node label values of a metric's samples. */
const nodesOf = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}\\{node="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1] as string, Number(m[2])] as const);

test('docs/operations.md lists every tixlock metric src/metrics.ts defines, and no other', async () => {
  const defined = createMetrics()
    .registry.getMetricsAsArray()
    .map((m) => m.name)
    .filter((n) => n.startsWith('tixlock_'))
    .sort();
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| `(tixlock_[a-z_]+)` \|/gm)].map((m) => m[1] as string).sort();
  expect(listed).toEqual(defined);
  expect(defined).toEqual(expect.arrayContaining(['tixlock_redis_used_memory_bytes', 'tixlock_redis_maxmemory_bytes', 'tixlock_redis_keys']));
});

describe('one Redis node', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  test('used memory, maxmemory, keys and expiring keys of the node, labelled host:port', async () => {
    const { id, ticketIds } = await createPerformance(t, { rows: 1, seats: 4 });
    expect((await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [ticketIds[0]] })).status).toBe(201);
    const { text } = await scrape(t.app);
    const { host, port } = t.redis.options;
    const node = `${host}:${port}`;
    expect(nodesOf(text, 'tixlock_redis_up')).toEqual([[node, 1]]);
    expect(sample(text, 'tixlock_redis_used_memory_bytes', { node })).toBeGreaterThan(500_000);
    expect(nodesOf(text, 'tixlock_redis_maxmemory_bytes')).toEqual([[node, Number(await t.redis.config('GET', 'maxmemory').then((r) => (r as string[])[1]))]]);
    // the whole server: at least this performance's keys, and the lock just taken has a TTL
    expect(sample(text, 'tixlock_redis_keys', { node })).toBeGreaterThanOrEqual(await t.redis.dbsize());
    expect(sample(text, 'tixlock_redis_expiring_keys', { node })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id); // no performance ids in these labels
  });
});

describe('a Redis that does not answer', () => {
  test.each([
    ['gone (killed)', 'kill'],
    ['paused (SIGSTOP)', 'pause'],
  ] as const)('%s: the scrape answers 200 within about a second, tixlock_redis_up 0 and no memory sample', async (_what, how) => {
    const redis = await startFaultyRedis();
    const down = await startTestApp({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '2000' });
    try {
      const node = `127.0.0.1:${redis.port}`;
      expect(nodesOf((await scrape(down.app)).text, 'tixlock_redis_up')).toEqual([[node, 1]]);
      await (how === 'kill' ? redis.kill() : redis.pause());
      const { text, ms } = await scrape(down.app);
      expect(ms).toBeLessThan(2500); // INFO waits at most 1 s
      expect(nodesOf(text, 'tixlock_redis_up')).toEqual([[node, 0]]);
      expect(nodesOf(text, 'tixlock_redis_used_memory_bytes')).toEqual([]);
      expect(text).toContain('tixlock_http_request_duration_seconds'); // the rest of the scrape is there
    } finally {
      await redis.stop(); // resumes a paused server first
      await down.close().catch(() => undefined);
    }
  }, 60_000);
});

describe('a Redis Cluster', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REDIS_CLUSTER_NODES: testClusterNodes() });
  });
  afterAll(() => t?.close());

  test('one sample per node, primaries and replicas, each labelled host:port', async () => {
    // the client connects to the replicas as it learns of them from the slots: wait until it knows all six
    const text = await waitFor('all six nodes scraped', async () => {
      const scraped = (await scrape(t.app)).text;
      return nodesOf(scraped, 'tixlock_redis_up').length === 6 ? scraped : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    const up = nodesOf(text, 'tixlock_redis_up');
    expect(up).toHaveLength(6); // 3 primaries + 3 replicas
    expect(new Set(up.map(([node]) => node)).size).toBe(6);
    for (const [node, value] of up) {
      expect(node).toMatch(/^[\d.]+:\d+$/);
      expect(value).toBe(1);
      expect(sample(text, 'tixlock_redis_used_memory_bytes', { node })).toBeGreaterThan(0);
    }
  });
});
