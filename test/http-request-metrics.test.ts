// What each answer tells /metrics (src/http/request-metrics.ts), in this process: the outcome counters and their
// labels (how a hold chose its tickets, a 409's reason, a 429's and a 503's cause; every label of every outcome
// counter is read, so an answer that moved another one shows), a replay counted as a replay only, and the request
// histogram by method, route pattern and status. (metrics.test.ts covers the rest of
// /metrics with spawned processes.)
import request from 'supertest';
import { as, createPerformance, KEYS, startTestApp, useTestApp, type TestApp } from './support/app';
import { untilRedisTime } from './support/lapse';
import { sample, samplesOf } from './support/metrics-text';

const t = useTestApp({ BUYER_MAX_TICKETS: '2' });

const scrape = async (app: TestApp['app'] = t.app) => {
  const res = await request(app).get('/metrics').set(as(KEYS.admin));
  expect(res.status).toBe(200);
  return res.text;
};
const alice = as(KEYS.alice);
const begin = (body: object, headers: Record<string, string> = {}) => request(t.app).post('/transaction').set(alice).set(headers).send(body);

/** The counters of the outcomes request-metrics.ts counts; each is read with every label value it has. */
const OUTCOME_COUNTERS = [
  'tixlock_holds_total',
  'tixlock_idempotent_replays_total',
  'tixlock_conflicts_total',
  'tixlock_best_available_misses_total',
  'tixlock_rate_limited_total',
  'tixlock_unavailable_total',
  'tixlock_expiries_seen_total',
  'tixlock_extensions_total',
  'tixlock_completes_total',
  'tixlock_releases_total',
];

/** Every sample of the outcome counters in a scrape, as `name{labels as JSON}` -> value. */
function outcomeSamples(text: string): Map<string, number> {
  return new Map(OUTCOME_COUNTERS.flatMap((name) => samplesOf(text, name).map((s) => [`${name}${JSON.stringify(s.labels)}`, s.value] as const)));
}

/** The outcome samples that moved between two scrapes, and by how much (a label set new in `after` included). */
function moved(before: string, after: string): Record<string, number> {
  const was = outcomeSamples(before);
  const out: Record<string, number> = {};
  for (const [key, value] of outcomeSamples(after)) {
    const delta = value - (was.get(key) ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

test('each answer moves its own counter, with its label, and no other', async () => {
  const { id, ticketIds } = await createPerformance(t, { rows: 1, seats: 4 });
  const step = async (what: () => Promise<request.Response>, status: number) => {
    const before = await scrape();
    const res = await what();
    expect(res.status).toBe(status);
    return { res, moved: moved(before, await scrape()) };
  };

  const hold = await step(() => begin({ tickets: [ticketIds[0]] }, { 'Idempotency-Key': `k-${id}` }), 201);
  expect(hold.moved).toEqual({ 'tixlock_holds_total{"kind":"tickets"}': 1 });
  // the replay is counted as a replay, not as a second hold
  const replay = await step(() => begin({ tickets: [ticketIds[0]] }, { 'Idempotency-Key': `k-${id}` }), 201);
  expect(replay.res.headers['idempotent-replayed']).toBe('true');
  expect(replay.moved).toEqual({ 'tixlock_idempotent_replays_total{}': 1 });
  const best = await step(() => begin({ performance_id: id, quantity: 1 }), 201);
  expect(best.moved).toEqual({ 'tixlock_holds_total{"kind":"best_available"}': 1 });
  // 409s by reason; only a best-available one is a miss
  const locked = await step(() => request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [ticketIds[0]] }), 409);
  expect(locked.moved).toEqual({ 'tixlock_conflicts_total{"reason":"TICKETS_UNAVAILABLE"}': 1 });
  const miss = await step(() => begin({ performance_id: id, quantity: 3 }), 409);
  expect(miss.moved).toEqual({ 'tixlock_conflicts_total{"reason":"NOT_ENOUGH_TICKETS"}': 1, 'tixlock_best_available_misses_total{}': 1 });
  // a 429 by its cause, the error code in lower case
  const buyer = { id: `buyer-${id}` };
  expect((await begin({ tickets: ticketIds.slice(2, 4), buyer })).status).toBe(201);
  const over = await step(() => begin({ performance_id: id, quantity: 1, buyer }), 429);
  expect(over.moved).toEqual({ 'tixlock_rate_limited_total{"cause":"buyer_limit"}': 1 });

  const tx = hold.res.body.transaction_id as string;
  const checkout = await step(() => request(t.app).put(`/transaction/${tx}`).set(alice).send({ status: 'checkout' }), 200);
  expect(checkout.moved).toEqual({ 'tixlock_extensions_total{}': 1 });
  const complete = await step(() => request(t.app).put(`/transaction/${tx}`).set(alice).send({ status: 'complete' }), 200);
  expect(complete.moved).toEqual({ 'tixlock_completes_total{}': 1 });
  const release = await step(() => request(t.app).delete(`/transaction/${best.res.body.transaction_id as string}`).set(alice), 200);
  expect(release.moved).toEqual({ 'tixlock_releases_total{}': 1 });
  // reading the released transaction counts nothing: only the DELETE that released it did
  const reread = await step(() => request(t.app).get(`/transaction/${best.res.body.transaction_id as string}`).set(alice), 200);
  expect(reread.res.body.transaction_status).toBe('released');
  expect(reread.moved).toEqual({});

  // a read that finds the lock lapsed counts an expiry seen, and nothing else
  const short = await createPerformance(t, { rows: 1, seats: 1 });
  const lapsing = await begin({ tickets: short.ticketIds, hold_seconds: 1 });
  expect(lapsing.status).toBe(201);
  await untilRedisTime(t.redis, Date.parse(lapsing.body.lock_expires as string) + 1);
  const expired = await step(() => request(t.app).get(`/transaction/${lapsing.body.transaction_id as string}`).set(alice), 200);
  expect(expired.res.body.transaction_status).toBe('expired');
  expect(expired.moved).toEqual({ 'tixlock_expiries_seen_total{}': 1 });
});

test("the seed's POST /transaction/{id} form of an update counts as the PUT does", async () => {
  const { ticketIds } = await createPerformance(t, { rows: 1, seats: 1 });
  const held = await begin({ tickets: ticketIds });
  expect(held.status).toBe(201);
  const tx = held.body.transaction_id as string;
  for (const [status, counter] of [['checkout', 'tixlock_extensions_total{}'], ['complete', 'tixlock_completes_total{}']]) {
    const before = await scrape();
    expect((await request(t.app).post(`/transaction/${tx}`).set(alice).send({ status })).status).toBe(200);
    expect(moved(before, await scrape())).toEqual({ [counter as string]: 1 });
  }
});

test('requests by method, route pattern and status; an unmatched path as (unmatched), never the raw path', async () => {
  const before = await scrape();
  const count = (text: string, labels: Record<string, string>) => sample(text, 'tixlock_http_request_duration_seconds_count', labels);
  const missing = 'no-such-transaction-0000';
  expect((await request(t.app).get(`/transaction/${missing}`).set(alice)).status).toBe(400);
  expect((await request(t.app).get('/nowhere/at/all').set(alice)).status).toBe(404);
  const after = await scrape();
  expect(count(after, { method: 'GET', route: '/transaction/:id', status: '400' }) - count(before, { method: 'GET', route: '/transaction/:id', status: '400' })).toBe(1);
  expect(count(after, { method: 'GET', route: '(unmatched)', status: '404' }) - count(before, { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
  expect(after).not.toContain(missing);
  expect(after).not.toContain('/nowhere');
});

test('503s by cause: the backing service that failed, else the error code in lower case', async () => {
  const own = await startTestApp();
  try {
    await own.documents.close(); // the document store is gone: reads of it are 503 UNAVAILABLE (document_store)
    expect((await request(own.app).get('/orders/A1').set(as(KEYS.admin))).status).toBe(503);
    expect((await request(own.app).get('/readyz')).status).toBe(503); // an UNAVAILABLE that names no service
    const text = await scrape(own.app);
    const unavailable = (cause: string) => sample(text, 'tixlock_unavailable_total', { cause });
    expect([unavailable('unavailable_document_store'), unavailable('unavailable')]).toEqual([1, 1]);
    expect(text.match(/^tixlock_unavailable_total\{/gm)).toHaveLength(2);
    expect(sample(text, 'tixlock_http_request_duration_seconds_count', { method: 'GET', route: '/readyz', status: '503' })).toBe(1);
  } finally {
    await own.close();
  }
});
