// Role checks and client isolation on every endpoint, as one matrix: no key, the owning client (alice), another
// client (bob) and the admin. Another client's attempts change nothing.
import request from 'supertest';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, expectError, KEYS, startTestApp, startTestWriter, type TestApp } from './support/app';
import { waitFor } from './support/spawn';

let t: TestApp;
let writer: OrderWriter;
beforeAll(async () => {
  t = await startTestApp({ LOCK_TTL_SECONDS: '60' });
  await t.redis.flushdb(); // the writer reads every performance of this worker's database
  writer = await startTestWriter(t);
});
afterAll(async () => {
  await writer.stop();
  await t.close();
});

type Who = 'none' | 'alice' | 'bob' | 'admin';
const WHO: Who[] = ['none', 'bob', 'alice', 'admin']; // bob before alice: his attempts come first
const headers = (who: Who) => (who === 'none' ? {} : as(KEYS[who]));

let perf: { id: string; ticketIds: string[] };
let open: string; // alice's open transaction
let orderNumber: string; // alice's completed order
const email = 'matrix.buyer@example.com';

beforeAll(async () => {
  perf = await createPerformance(t, { rows: 2, seats: 10 });
  const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: perf.ticketIds.slice(0, 2) });
  open = hold.body.transaction_id;
  const sold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: perf.ticketIds.slice(2, 4) });
  const done = await request(t.app)
    .put(`/transaction/${sold.body.transaction_id}`)
    .set(as(KEYS.alice))
    .send({ status: 'complete', customer: { email } });
  orderNumber = done.body.order_number;
  await waitFor('the order persisted', () => t.documents.getOrder(orderNumber));
});

interface Row {
  name: string;
  call: (who: Who) => request.Test;
  /** expected status per caller (none is always 401) */
  expect: Record<Exclude<Who, 'none'>, number>;
}

const ROWS: Row[] = [
  { name: 'PUT /performances/{id}', call: (w) => request(t.app).put(`/performances/${perf.id}`).set(headers(w)).send({ tickets: [] }), expect: { bob: 403, alice: 403, admin: 200 } },
  { name: 'GET /performances/{id}', call: (w) => request(t.app).get(`/performances/${perf.id}`).set(headers(w)), expect: { bob: 403, alice: 403, admin: 200 } },
  { name: 'GET /performances/{id}/tickets', call: (w) => request(t.app).get(`/performances/${perf.id}/tickets`).set(headers(w)), expect: { bob: 403, alice: 403, admin: 200 } },
  { name: 'GET /tickets (search)', call: (w) => request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1`).set(headers(w)), expect: { bob: 200, alice: 200, admin: 200 } },
  { name: 'GET /tickets/{id}', call: (w) => request(t.app).get(`/tickets/${perf.ticketIds[0]}`).set(headers(w)), expect: { bob: 200, alice: 200, admin: 200 } },
  { name: 'POST /transaction', call: (w) => request(t.app).post('/transaction').set(headers(w)).send({ performance_id: perf.id, quantity: 1 }), expect: { bob: 201, alice: 201, admin: 201 } },
  { name: 'GET /transaction/{id}', call: (w) => request(t.app).get(`/transaction/${open}`).set(headers(w)), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'GET /transactions/{id}', call: (w) => request(t.app).get(`/transactions/${open}`).set(headers(w)), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'HEAD /transaction/{id}', call: (w) => request(t.app).head(`/transaction/${open}`).set(headers(w)), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'PUT /transaction/{id} checkout', call: (w) => request(t.app).put(`/transaction/${open}`).set(headers(w)).send({ status: 'checkout' }), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'POST /transactions/{id} checkout', call: (w) => request(t.app).post(`/transactions/${open}`).set(headers(w)).send({ status: 'checkout' }), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'GET /orders/{n}', call: (w) => request(t.app).get(`/orders/${orderNumber}`).set(headers(w)), expect: { bob: 404, alice: 200, admin: 200 } },
  { name: 'GET /people?email=', call: (w) => request(t.app).get(`/people?email=${encodeURIComponent(email)}`).set(headers(w)), expect: { bob: 403, alice: 403, admin: 200 } },
  // last: ends alice's transaction (bob's attempt first, which must change nothing)
  { name: 'DELETE /transaction/{id}', call: (w) => request(t.app).delete(`/transaction/${open}`).set(headers(w)), expect: { bob: 404, alice: 200, admin: 200 } },
];

const CODE: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };

test.each(ROWS.map((r) => [r.name, r] as const))('%s: no key 401, then bob / alice / admin as expected', async (_name, row) => {
  const before = (await request(t.app).get(`/transaction/${open}`).set(as(KEYS.admin))).body;
  for (const who of WHO) {
    const res = await row.call(who);
    const want = who === 'none' ? 401 : row.expect[who];
    expect({ who, status: res.status }).toEqual({ who, status: want });
    if (want >= 400 && !row.name.startsWith('HEAD')) {
      expectError(res, want, CODE[want] ?? (row.name.includes('orders') ? 'ORDER_NOT_FOUND' : 'TRANSACTION_NOT_FOUND'));
    }
    if (who === 'bob' && want >= 400) {
      // bob changed nothing of alice's transaction
      const now = (await request(t.app).get(`/transaction/${open}`).set(as(KEYS.admin))).body;
      expect(now).toEqual(before);
    }
  }
});

test('healthz and readyz answer everyone', async () => {
  for (const who of WHO) {
    expect((await request(t.app).get('/healthz').set(headers(who))).status).toBe(200);
    expect((await request(t.app).get('/readyz').set(headers(who))).status).toBe(200);
  }
});
