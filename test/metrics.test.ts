// GET /metrics after real traffic: each counter moved by what the traffic did, the script histogram saw the
// scripts, the order writer's counts and outbox lag follow its work, labels stay bounded. Real Redis and SQLite;
// METRICS_PORT on a spawned `tixlock all` (one process, then two API workers whose series the primary gathers).
import http from 'node:http';
import request from 'supertest';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, KEYS, startTestApp, startTestWriter, testRedisUrl, useTestApp, type TestApp } from './support/app';
import { startFaultyRedis } from './support/redis-fault';
import os from 'node:os';
import { freePort } from '../src/redis/embedded';
import { spawnCli, waitFor } from './support/spawn';
import { sell } from './support/writer-tests';
import { sample } from './support/prometheus-text';

const t = useTestApp({ BUYER_MAX_TICKETS: '3' });

const scrape = async (app: TestApp['app'] = t.app) => {
  const res = await request(app).get('/metrics').set(as(KEYS.admin));
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.text;
};

test('sample reads the text format, and tells labels apart (negative control)', () => {
  const text = 'a_total{reason="X",b="1"} 3\na_total{reason="Y"} 5\nb 7\n';
  expect(sample(text, 'a_total', { reason: 'Y' })).toBe(5);
  expect(sample(text, 'a_total', { reason: 'X' })).toBe(3);
  expect(sample(text, 'a_total', { reason: 'Z' })).toBe(0);
  expect(sample(text, 'b')).toBe(7);
});

test('/metrics on the main port is for admin keys only', async () => {
  expect((await request(t.app).get('/metrics')).status).toBe(401);
  expect((await request(t.app).get('/metrics').set(as(KEYS.alice))).status).toBe(403);
  await scrape();
});

test('holds, conflicts, misses, checkouts, completes, releases, expiries, replays and 429s are counted as they happen', async () => {
  const { id, ticketIds } = await createPerformance(t, { rows: 1, seats: 6 });
  const before = await scrape();
  const delta = (after: string, name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
  const alice = as(KEYS.alice);

  const hold = await request(t.app).post('/transaction').set(alice).set('Idempotency-Key', `k-${id}`).send({ tickets: [ticketIds[0]] });
  expect(hold.status).toBe(201);
  const replay = await request(t.app).post('/transaction').set(alice).set('Idempotency-Key', `k-${id}`).send({ tickets: [ticketIds[0]] });
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect((await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [ticketIds[0]] })).status).toBe(409); // locked
  const best = await request(t.app).post('/transaction').set(alice).send({ performance_id: id, quantity: 2 });
  expect(best.status).toBe(201);
  const miss = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ performance_id: id, quantity: 5 });
  expect(miss.body.error.code).toBe('NOT_ENOUGH_TICKETS');
  const tx = hold.body.transaction_id as string;
  expect((await request(t.app).put(`/transaction/${tx}`).set(alice).send({ status: 'checkout' })).status).toBe(200);
  expect((await request(t.app).put(`/transaction/${tx}`).set(alice).send({ status: 'complete', customer: { email: 'm@example.com' } })).status).toBe(200);
  expect((await request(t.app).delete(`/transaction/${best.body.transaction_id as string}`).set(alice)).status).toBe(200);
  // a buyer over BUYER_MAX_TICKETS (3): 429
  const buyer = { email: 'greedy@example.com' };
  expect((await request(t.app).post('/transaction').set(alice).send({ tickets: ticketIds.slice(1, 4), buyer })).status).toBe(201);
  const over = await request(t.app).post('/transaction').set(alice).send({ tickets: [ticketIds[4]], buyer });
  expect(over.status).toBe(429);
  // a 1-second hold, read after its lock lapsed
  const short = await request(t.app).post('/transaction').set(alice).send({ tickets: [ticketIds[5]], hold_seconds: 1 });
  expect(short.status).toBe(201);
  await waitFor('the short hold expired', async () => {
    const read = await request(t.app).get(`/transaction/${short.body.transaction_id as string}`).set(alice);
    return read.body.transaction_status === 'expired';
  }, { timeoutMs: 20_000, intervalMs: 200 });

  const after = await scrape();
  expect(delta(after, 'tixlock_holds_total', { kind: 'tickets' })).toBe(3);
  expect(delta(after, 'tixlock_holds_total', { kind: 'best_available' })).toBe(1);
  expect(delta(after, 'tixlock_idempotent_replays_total')).toBe(1);
  expect(delta(after, 'tixlock_conflicts_total', { reason: 'TICKETS_UNAVAILABLE' })).toBe(1);
  expect(delta(after, 'tixlock_conflicts_total', { reason: 'NOT_ENOUGH_TICKETS' })).toBe(1);
  expect(delta(after, 'tixlock_best_available_misses_total')).toBe(1);
  expect(delta(after, 'tixlock_extensions_total')).toBe(1);
  expect(delta(after, 'tixlock_completes_total')).toBe(1);
  expect(delta(after, 'tixlock_releases_total')).toBe(1);
  expect(delta(after, 'tixlock_rate_limited_total', { cause: 'buyer_limit' })).toBe(1);
  expect(delta(after, 'tixlock_expiries_seen_total')).toBeGreaterThanOrEqual(1);
  // requests by route pattern (never the raw path), and the scripts they ran
  expect(delta(after, 'tixlock_http_request_duration_seconds_count', { method: 'PUT', route: '/transaction/:id', status: '200' })).toBe(2);
  expect(after).not.toContain(tx);
  // five holds ran the script: the two refused in it (locked, over the buyer limit) too; the replay did not
  expect(delta(after, 'tixlock_redis_script_duration_seconds_count', { script: 'hold' })).toBe(5);
  expect(delta(after, 'tixlock_redis_script_duration_seconds_count', { script: 'complete' })).toBe(1);
  expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
});

test('a Redis that does not answer: the 503s are counted by cause', async () => {
  const redis = await startFaultyRedis();
  const down = await startTestApp({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' });
  try {
    const { id } = await createPerformance(down, { rows: 1, seats: 2 });
    await redis.kill();
    const res = await request(down.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: id, quantity: 1 });
    expect(res.status).toBe(503);
    const text = await scrape(down.app);
    expect(sample(text, 'tixlock_unavailable_total', { cause: 'unavailable_redis' })).toBe(1);
  } finally {
    await down.close().catch(() => undefined);
    await redis.stop();
  }
});

describe('the order writer', () => {
  let writer: OrderWriter | undefined;
  afterAll(async () => {
    await writer?.stop();
  });

  test('sales persisted and the outbox lag: none once persisted; one entry of some age while the writer is stopped', async () => {
    const { id, ticketIds } = await createPerformance(t, { rows: 1, seats: 3 });
    const server = http.createServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await sell(server, [ticketIds[0]!]);
      await sell(server, [ticketIds[1]!]);
    } finally {
      server.close();
    }
    const before = await scrape();
    writer = await startTestWriter(t);
    // the writer joins the outbox's group before its first read: the lag is read as soon as it knows the outbox
    await waitFor('the writer persisted both sales', async () => {
      const text = await scrape();
      return sample(text, 'tixlock_writer_sales_persisted_total') - sample(before, 'tixlock_writer_sales_persisted_total') >= 2 ? text : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const lags = await writer.outboxLag();
    expect(lags.find((l) => l.performanceId === id)).toEqual({ performanceId: id, entries: 0, seconds: 0 });
    const after = await scrape();
    expect(sample(after, 'tixlock_outbox_lag_entries', { performance: id })).toBe(0);
    // a third sale while the writer is stopped: one entry behind, of a measurable age
    await writer.stop();
    writer = undefined;
    const again = http.createServer(t.app);
    await new Promise<void>((resolve) => again.listen(0, '127.0.0.1', resolve));
    try {
      await sell(again, [ticketIds[2]!]);
    } finally {
      again.close();
    }
    await new Promise((r) => setTimeout(r, 50)); // an age above zero
    const behind = await scrape();
    expect(sample(behind, 'tixlock_outbox_lag_entries', { performance: id })).toBe(1);
    expect(sample(behind, 'tixlock_outbox_lag_seconds', { performance: id })).toBeGreaterThan(0);
  });
});

describe('METRICS_PORT', () => {
  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });

  test.each([['one process', '1'], ['two API workers', '2']])('%s: /metrics without a key on its own port, not on the main port', async (_what, workers) => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const cli = spawnCli(['all'], {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      API_WORKERS: workers,
      REDIS_URL: testRedisUrl(),
      DOCUMENT_STORE_URL: `sqlite:${os.tmpdir()}/tixlock-metrics-${process.pid}-${workers}.db`,
      TIXLOCK_API_KEYS: `alice:${KEYS.alice}`,
      TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
      LOG_LEVEL: 'warn',
    });
    try {
      await waitFor('the service answers', async () => (await get(port, '/healthz').catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
      for (let i = 0; i < 4; i++) await get(port, '/healthz');
      const scraped = await get(metricsPort, '/metrics');
      expect(scraped.status).toBe(200);
      expect(sample(scraped.body, 'tixlock_http_request_duration_seconds_count', { route: '/healthz' })).toBeGreaterThanOrEqual(workers === '1' ? 5 : 1);
      if (workers === '2') expect(scraped.body).toMatch(/worker="\d+"/);
      expect((await get(metricsPort, '/other')).status).toBe(404);
      expect((await get(port, '/metrics', { Authorization: `Bearer ${KEYS.admin}` })).status).toBe(404);
    } finally {
      cli.child.kill('SIGTERM');
      await Promise.race([cli.exited, new Promise((r) => setTimeout(r, 15_000))]);
      await cli.kill();
    }
  }, 120_000);
});
