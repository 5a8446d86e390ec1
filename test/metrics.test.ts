// GET /metrics after real traffic: each counter moved by what the traffic did, the script histogram saw the
// scripts, the order writer's counts and outbox lag follow its work, labels stay bounded. Real Redis and SQLite, in
// this process (so the mutation run sees them); METRICS_PORT on a spawned `tixlock all` is test/metrics-port.test.ts.
import http from 'node:http';
import request from 'supertest';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, KEYS, startTestApp, startTestWriter, useTestApp, type TestApp } from './support/app';
import { sample } from './support/metrics-text';
import { startFaultyRedis } from './support/redis-fault';
import { waitFor } from './support/spawn';
import { sell } from './support/writer-tests';

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

test('with METRICS_PORT set, the main port serves no /metrics, to admins either (404)', async () => {
  const other = await startTestApp({ METRICS_PORT: '9464' }); // only read here: startTestApp starts no server on it
  try {
    expect((await request(other.app).get('/metrics').set(as(KEYS.admin))).status).toBe(404);
    expect((await request(t.app).get('/metrics').set(as(KEYS.admin))).status).toBe(200);
  } finally {
    await other.close();
  }
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
  // locked, twice (conflicts of one reason are not misses of best available: the counts tell them apart)
  for (let i = 0; i < 2; i++) expect((await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [ticketIds[0]] })).status).toBe(409);
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
  expect(delta(after, 'tixlock_conflicts_total', { reason: 'TICKETS_UNAVAILABLE' })).toBe(2);
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
  // six holds ran the script: the three refused in it (locked twice, over the buyer limit) too; the replay did not
  expect(delta(after, 'tixlock_redis_script_duration_seconds_count', { script: 'hold' })).toBe(6);
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
    // the counter also counts sales of earlier tests' performances, which the writer may persist first: this
    // performance's lag must then come down to nothing (it fails here, by timeout, if it never does)
    const started = writer;
    await waitFor('no lag left on this performance', async () => {
      const lag = (await started.outboxLag()).find((l) => l.performanceId === id);
      return lag?.entries === 0 && lag.seconds === 0 ? lag : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
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
