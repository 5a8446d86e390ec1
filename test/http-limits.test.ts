// Hardening against retries and hoarding (issue 5): Idempotency-Key on the transaction writes, the per-buyer limit
// (429 BUYER_LIMIT) and the per-client-key hold rate limit (429 RATE_LIMITED with Retry-After), all in the real Redis.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { holdRateKeyPrefix, idempotencyKey, performanceKeys } from '../src/redis/keys';
import { as, countsOf, createPerformance, expectError, KEYS, useTestApp } from './support/app';
import { untilGone } from './support/lapse';

const t = useTestApp({ LOCK_TTL_SECONDS: '60', BUYER_MAX_TICKETS: '4' });

const begin = (body: object, headers: Record<string, string> = {}, key = KEYS.alice) =>
  request(t.app).post('/transaction').set(as(key)).set(headers).send(body);
const update = (id: string, body: object, headers: Record<string, string> = {}, method: 'put' | 'post' = 'put', key = KEYS.alice) =>
  request(t.app)[method](`/transaction/${id}`).set(as(key)).set(headers).send(body);
const idem = (key: string) => ({ 'Idempotency-Key': key });
/** [name, value] pairs of the answer's headers as they came over the wire. */
const rawHeaders = (res: request.Response): [string, string][] => {
  const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  return raw.flatMap((name, i) => (i % 2 === 0 ? [[name, raw[i + 1] as string] as [string, string]] : []));
};

describe('Idempotency-Key', () => {
  test('a retried hold returns the first answer and holds nothing more', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 6 });
    const key = randomUUID();
    const first = await begin({ performance_id: p.id, quantity: 2 }, idem(key));
    expect(first.status).toBe(201);
    const again = await begin({ performance_id: p.id, quantity: 2 }, idem(key));
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['transaction-status']).toBe('open');
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 2, available: 4 });
    // without the key the same body is a new hold
    const fresh = await begin({ performance_id: p.id, quantity: 2 });
    expect(fresh.body.transaction_id).not.toBe(first.body.transaction_id);
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 4, available: 2 });
  });

  test('a replay sends the headers of the first answer under the same names, letter case included', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const key = randomUUID();
    const first = await begin({ tickets: [p.ticketIds[0]] }, idem(key));
    const again = await begin({ tickets: [p.ticketIds[0]] }, idem(key));
    expect(again.headers['idempotent-replayed']).toBe('true');
    // as sent on the wire (supertest's res.headers are lower-cased)
    const contract = (res: request.Response) =>
      rawHeaders(res).filter(([name]) => /^(transaction-status|lock-expires)$/i.test(name));
    expect(contract(first)).toEqual([
      ['Transaction-Status', 'open'],
      ['Lock-Expires', first.body.lock_expires],
    ]);
    expect(contract(again)).toEqual(contract(first));
  });

  test('a retried complete returns the same order; PUT and POST are one operation', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const hold = await begin({ tickets: p.ticketIds });
    const id = hold.body.transaction_id as string;
    const key = randomUUID();
    const body = { status: 'complete', customer: { email: 'ann@example.com' } };
    const first = await update(id, body, idem(key));
    expect(first.status).toBe(200);
    const again = await update(id, body, idem(key), 'post');
    expect(again.status).toBe(200);
    expect(again.body.order_number).toBe(first.body.order_number);
    expect(again.body).toEqual(first.body);
  });

  test('a hold whose answer was lost (a 503: its answer is not kept) is found again by the retry, not made twice', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 6 });
    const key = randomUUID();
    const first = await begin({ performance_id: p.id, quantity: 2 }, idem(key));
    expect(first.status).toBe(201);
    // what a 503 leaves behind: the hold happened in Redis, the remembered answer did not
    await t.redis.del(idempotencyKey('alice', key));
    const retry = await begin({ performance_id: p.id, quantity: 2 }, idem(key));
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined(); // done again, by the same transaction id
    expect(retry.body.transaction_id).toBe(first.body.transaction_id);
    expect(retry.body.tickets.map((x: { id: string }) => x.id)).toEqual(first.body.tickets.map((x: { id: string }) => x.id));
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 2, available: 4 });
    // bob's same key is another transaction
    const bob = await begin({ performance_id: p.id, quantity: 2 }, idem(key), KEYS.bob);
    expect(bob.body.transaction_id).not.toBe(first.body.transaction_id);
  });

  test('the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED and does nothing', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const key = randomUUID();
    expect((await begin({ tickets: [p.ticketIds[0]] }, idem(key))).status).toBe(201);
    const other = await begin({ tickets: [p.ticketIds[1]] }, idem(key));
    expectError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 1, available: 3 });
    // another route with the same key is a different request too
    const tx = (await begin({ tickets: [p.ticketIds[2]] })).body.transaction_id as string;
    expectError(await update(tx, { status: 'checkout' }, idem(key)), 422, 'IDEMPOTENCY_KEY_REUSED');
    // and the same update of another transaction
    const tx2 = (await begin({ tickets: [p.ticketIds[3]] })).body.transaction_id as string;
    const updateKey = randomUUID();
    expect((await update(tx, { status: 'checkout' }, idem(updateKey))).status).toBe(200);
    expectError(await update(tx2, { status: 'checkout' }, idem(updateKey)), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  test('keys are per client: another client with the same key does its own work', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const key = randomUUID();
    const a = await begin({ performance_id: p.id, quantity: 1 }, idem(key), KEYS.alice);
    const b = await begin({ performance_id: p.id, quantity: 1 }, idem(key), KEYS.bob);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.transaction_id).not.toBe(a.body.transaction_id);
  });

  test('an error answer is replayed too; a bad key is a 400', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    await begin({ tickets: [p.ticketIds[0]] }, {}, KEYS.bob);
    const key = randomUUID();
    const first = await begin({ tickets: p.ticketIds }, idem(key));
    expectError(first, 409, 'TICKETS_UNAVAILABLE');
    const again = await begin({ tickets: p.ticketIds }, idem(key));
    expect(again.status).toBe(409);
    expect(again.body).toEqual(first.body);
    expectError(await begin({ tickets: p.ticketIds }, idem('has space')), 400, 'INVALID_REQUEST');
    expectError(await begin({ tickets: p.ticketIds }, idem('x'.repeat(256))), 400, 'INVALID_REQUEST');
  });

  test('concurrent retries: one does the work, the others get its answer or 409 IDEMPOTENCY_IN_PROGRESS', async () => {
    const p = await createPerformance(t, { rows: 2, seats: 10 });
    for (let round = 0; round < 5; round++) {
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => begin({ performance_id: p.id, quantity: 2 }, idem(key))),
      );
      const ok = answers.filter((r) => r.status === 201);
      for (const r of answers.filter((x) => x.status !== 201)) expectError(r, 409, 'IDEMPOTENCY_IN_PROGRESS');
      expect(ok.length).toBeGreaterThan(0);
      expect(new Set(ok.map((r) => r.body.transaction_id)).size).toBe(1);
    }
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 10, available: 10 }); // 5 rounds × 2 tickets, no more
  });
});

describe('per-buyer limit (BUYER_MAX_TICKETS=4 here)', () => {
  test('a buyer may hold at most 4 tickets at once per performance; others and other performances are apart', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 10 });
    const q = await createPerformance(t, { rows: 1, seats: 10 });
    const buyer = { id: `buyer-${randomUUID().slice(0, 8)}` };
    expect((await begin({ performance_id: p.id, quantity: 3, buyer })).status).toBe(201);
    const over = await begin({ performance_id: p.id, quantity: 2, buyer });
    const e = expectError(over, 429, 'BUYER_LIMIT');
    expect(e).toMatchObject({ limit: 4, locked: 3 });
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 3 });
    // by ids too, and the one remaining ticket is fine
    expectError(await begin({ tickets: p.ticketIds.slice(5, 7), buyer }), 429, 'BUYER_LIMIT');
    expect((await begin({ tickets: [p.ticketIds[8]], buyer })).status).toBe(201);
    // another buyer, another performance, or no buyer: not counted together
    expect((await begin({ performance_id: p.id, quantity: 2, buyer: { id: 'someone-else' } })).status).toBe(201);
    expect((await begin({ performance_id: q.id, quantity: 4, buyer })).status).toBe(201);
    expect((await begin({ performance_id: p.id, quantity: 2 })).status).toBe(201);
  });

  test('an email identifies the buyer case-insensitively; release and complete give the allowance back', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 12 });
    const email = `Fan.${randomUUID().slice(0, 6)}@Example.com`;
    const a = await begin({ performance_id: p.id, quantity: 4, buyer: { email } });
    expect(a.status).toBe(201);
    expectError(await begin({ performance_id: p.id, quantity: 1, buyer: { email: email.toLowerCase() } }), 429, 'BUYER_LIMIT');
    await request(t.app).delete(`/transaction/${a.body.transaction_id}`).set(as(KEYS.alice)).expect(200);
    const b = await begin({ performance_id: p.id, quantity: 4, buyer: { email } });
    expect(b.status).toBe(201);
    await update(b.body.transaction_id, { status: 'complete' }).expect(200);
    expect((await begin({ performance_id: p.id, quantity: 4, buyer: { email } })).status).toBe(201);
  });

  test('a lapsed hold no longer counts', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 10 });
    const buyer = { id: `lapse-${randomUUID().slice(0, 8)}` };
    const lapsing = await begin({ performance_id: p.id, quantity: 4, buyer, hold_seconds: 1 });
    expect(lapsing.status).toBe(201);
    expectError(await begin({ performance_id: p.id, quantity: 1, buyer }), 429, 'BUYER_LIMIT');
    await untilGone(t.redis, lapsing.body.tickets.map((x: { id: string }) => performanceKeys(p.id).lockPrefix + x.id));
    expect((await begin({ performance_id: p.id, quantity: 4, buyer })).status).toBe(201);
  });
});

describe('hold rate limit per client key', () => {
  const limited = useTestApp({ LOCK_TTL_SECONDS: '60', HOLD_RATE_LIMIT: '3', HOLD_RATE_WINDOW_SECONDS: '60' });

  test('the 4th hold in the window is 429 RATE_LIMITED with Retry-After; another key is not affected', async () => {
    // the window lives in the shared test Redis: start it empty
    await limited.redis.del(`${holdRateKeyPrefix}:alice`, `${holdRateKeyPrefix}:bob`);
    const p = await createPerformance(limited, { rows: 1, seats: 10 });
    const hold = (key: string) => request(limited.app).post('/transaction').set(as(key)).send({ performance_id: p.id, quantity: 1 });
    for (let i = 0; i < 3; i++) expect((await hold(KEYS.alice)).status).toBe(201);
    const over = await hold(KEYS.alice);
    const e = expectError(over, 429, 'RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(e.retry_after_seconds).toBe(Number(over.headers['retry-after']));
    expect(await countsOf(limited, p.id)).toMatchObject({ locked: 3 });
    expect((await hold(KEYS.bob)).status).toBe(201);
    // reads and updates are not holds
    expect((await request(limited.app).get(`/tickets?performance_id=${p.id}&quantity=1`).set(as(KEYS.alice))).status).toBe(200);
  });
});
