// Idempotency-Key and answers a retry may change (src/http/idempotency.ts): a 429 or a 5xx is not remembered, so
// the same request under the same key is done again, not answered from memory; a 4xx like 409 is remembered.
// NOT_REPLICATED (503) comes from REDIS_WAIT_REPLICAS=1 on the test Redis, which has no replica.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, KEYS, useTestApp } from './support/app';

const t = useTestApp({ BUYER_MAX_TICKETS: '2', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100' });

const alice = as(KEYS.alice);
const idem = (key: string) => ({ 'Idempotency-Key': key });

test('a 429 is not remembered: once the buyer has room, the retry under the same key holds', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 4 });
  const buyer = { id: `buyer-${randomUUID().slice(0, 8)}` };
  const first = await request(t.app).post('/transaction').set(alice).send({ tickets: p.ticketIds.slice(0, 2), buyer });
  expect(first.status).toBe(201);
  const key = randomUUID();
  const body = { tickets: [p.ticketIds[2]], buyer };
  const over = await request(t.app).post('/transaction').set(alice).set(idem(key)).send(body);
  expectError(over, 429, 'BUYER_LIMIT');

  expect((await request(t.app).delete(`/transaction/${first.body.transaction_id as string}`).set(alice)).status).toBe(200);
  const retry = await request(t.app).post('/transaction').set(alice).set(idem(key)).send(body);
  expect(retry.status).toBe(201);
  expect(retry.headers['idempotent-replayed']).toBeUndefined();
  expect(await countsOf(t, p.id)).toMatchObject({ locked: 1, available: 3 });
});

test('a 503 is not remembered: the retry of a complete is worked again, not replayed', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 2 });
  const hold = await request(t.app).post('/transaction').set(alice).send({ tickets: [p.ticketIds[0]] });
  expect(hold.status).toBe(201);
  const key = randomUUID();
  const complete = () =>
    request(t.app).put(`/transaction/${hold.body.transaction_id as string}`).set(alice).set(idem(key)).send({ status: 'complete' });
  const first = await complete();
  expectError(first, 503, 'NOT_REPLICATED');
  const retry = await complete();
  expectError(retry, 503, 'NOT_REPLICATED');
  expect(retry.headers['idempotent-replayed']).toBeUndefined();
});

test('a 409 is remembered: the retry is its replay even once the tickets are free', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 2 });
  const bob = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [p.ticketIds[0]] });
  expect(bob.status).toBe(201);
  const key = randomUUID();
  const body = { tickets: [p.ticketIds[0]] };
  const first = await request(t.app).post('/transaction').set(alice).set(idem(key)).send(body);
  expectError(first, 409, 'TICKETS_UNAVAILABLE');
  expect((await request(t.app).delete(`/transaction/${bob.body.transaction_id as string}`).set(as(KEYS.bob))).status).toBe(200);
  const retry = await request(t.app).post('/transaction').set(alice).set(idem(key)).send(body);
  expect(retry.status).toBe(409);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(retry.body).toEqual(first.body);
});
