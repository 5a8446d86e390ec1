import request from 'supertest';
import { as, createPerformance, KEYS, useTestApp } from './support/app';

const t = useTestApp();

test('the seed flow: search, hold, checkout, complete', async () => {
  const perf = await createPerformance(t);
  const search = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=2`).set(as(KEYS.alice));
  expect(search.status).toBe(200);
  const ids = search.body.tickets.map((x: { id: string }) => x.id);
  expect(ids).toEqual([`${perf.id}-A1`, `${perf.id}-A2`]);

  const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: ids });
  expect(hold.status).toBe(201);
  expect(hold.body).toMatchObject({ status: 'OK', transaction_status: 'open', performance_id: perf.id });
  const txid = hold.body.transaction_id;

  const checkout = await request(t.app).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status: 'checkout', tickets: ids, id: txid });
  expect(checkout.status).toBe(200);
  expect(checkout.body.transaction_status).toBe('checkout');

  const complete = await request(t.app)
    .post(`/transaction/${txid}`)
    .set(as(KEYS.alice))
    .send({ status: 'complete', customer: { email: 'joe@example.com' } });
  expect(complete.status).toBe(200);
  expect(complete.body.transaction_status).toBe('complete');
  expect(complete.body.order_number).toMatch(/^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/);
  expect(complete.body.tickets.every((x: { state: string }) => x.state === 'sold')).toBe(true);

  const entries = await t.redis.xrange(`tix:{p:${perf.id}}:outbox`, '-', '+');
  expect(entries).toHaveLength(1);
});
