// Idempotency-Key when the key is held by a request still at work (src/http/idempotency.ts): its twin (same client,
// key, operation and body) waits up to a second for that answer, then gets 409 IDEMPOTENCY_IN_PROGRESS; a different
// request gets 422 IDEMPOTENCY_KEY_REUSED at once. The request at work is played by its record in Redis, written as
// the store writes it (a pending claim under the request's fingerprint, then the answer), so the timing is the test's.
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { encodeDone, encodePending } from '../src/redis/idempotency-store';
import { idempotencyKey } from '../src/redis/keys';
import { as, countsOf, createPerformance, expectError, KEYS, sleep, useTestApp } from './support/app';

const t = useTestApp();

const hold = (body: object, key: string) =>
  request(t.app).post('/transaction').set(as(KEYS.alice)).set('Idempotency-Key', key).send(body);
/** The fingerprint of a POST /transaction with this body, as the middleware makes it (operation, then the body). */
const beginFingerprint = (body: object) => createHash('sha256').update(`begin\n${JSON.stringify(body)}`).digest('hex');
/** Alice's key as held by a request at work with this fingerprint, for leaseMs. */
const heldAtWork = (key: string, fingerprint: string, leaseMs: number) =>
  t.redis.set(idempotencyKey('alice', key), encodePending(fingerprint), 'PX', leaseMs);

test("a retry that finds its twin at work waits for the twin's answer and replays it", async () => {
  const p = await createPerformance(t, { rows: 1, seats: 4 });
  const body = { performance_id: p.id, quantity: 2 };
  // the twin's answer: a real hold's (made under another key)
  const twinAnswer = await hold(body, randomUUID());
  expect(twinAnswer.status).toBe(201);
  const key = randomUUID();
  await heldAtWork(key, beginFingerprint(body), 30_000);

  const retry = hold(body, key).then((res) => res);
  await sleep(300);
  await t.redis.set(idempotencyKey('alice', key), encodeDone(beginFingerprint(body), { status: 201, body: twinAnswer.body }), 'PX', 60_000);
  const res = await retry;
  expect(res.status).toBe(201);
  expect(res.headers['idempotent-replayed']).toBe('true');
  expect(res.body).toEqual(twinAnswer.body);
  expect(await countsOf(t, p.id)).toMatchObject({ locked: 2, available: 2 }); // the twin's hold only
});

test('a twin still at work after that wait: 409 IDEMPOTENCY_IN_PROGRESS, nothing done', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 4 });
  const body = { performance_id: p.id, quantity: 1 };
  const key = randomUUID();
  await heldAtWork(key, beginFingerprint(body), 30_000);
  const res = await hold(body, key);
  expect(expectError(res, 409, 'IDEMPOTENCY_IN_PROGRESS').message).toMatch(/^A request with this Idempotency-Key/);
  expect(res.headers['idempotent-replayed']).toBeUndefined();
  expect(await countsOf(t, p.id)).toMatchObject({ locked: 0, available: 4 });
});

test('a key held by a different request: 422 IDEMPOTENCY_KEY_REUSED at once, not after that claim lapses', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 4 });
  const key = randomUUID();
  // another body under the key, at work with a lease shorter than a twin's wait
  await heldAtWork(key, beginFingerprint({ performance_id: p.id, quantity: 3 }), 600);
  const res = await hold({ performance_id: p.id, quantity: 1 }, key);
  expect(expectError(res, 422, 'IDEMPOTENCY_KEY_REUSED').message).toMatch(/^This Idempotency-Key/);
  expect(await countsOf(t, p.id)).toMatchObject({ locked: 0, available: 4 });
});

test('a key that is not 1-255 visible ASCII characters: 400 naming the header', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 1 });
  const res = await hold({ performance_id: p.id, quantity: 1 }, 'tab\there');
  expect(expectError(res, 400, 'INVALID_REQUEST').issues).toEqual([
    { path: 'Idempotency-Key', message: expect.stringMatching(/visible ASCII/) },
  ]);
});
