// Idempotency-Key as a client sees it when the first request is elsewhere (src/http/idempotency.ts): a twin at work
// on another replica (a claim in the shared Redis, made here with the same store the API uses), answers that are
// kept or not (5xx and 429 are not: a retry runs again), and what the stored record holds. docs/api.md "Idempotent
// retries".
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { decodeRecord, RedisIdempotencyStore } from '../src/redis/idempotency-store';
import { idempotencyKey, performanceKeys } from '../src/redis/keys';
import { as, countsOf, createPerformance, expectError, KEYS, useTestApp } from './support/app';

const t = useTestApp({ BUYER_MAX_TICKETS: '2' });

const idem = (key: string) => ({ 'Idempotency-Key': key });
const begin = (body: object, headers: Record<string, string> = {}) =>
  request(t.app).post('/transaction').set(as(KEYS.alice)).set(headers).send(body);
/** The fingerprint the API computes for POST /transaction with this body (operation "begin", then the JSON). */
const beginFingerprint = (body: object) => createHash('sha256').update(`begin\n${JSON.stringify(body)}`).digest('hex');
/** Another replica's view of the same Redis. */
const replica = () => new RedisIdempotencyStore(t.redis);

/** Resolves once the API has sent its first claim of alice's `key` to Redis (seen on a MONITOR connection). */
async function watchClaims(key: string): Promise<{ claimed: Promise<void>; stop: () => void }> {
  const record = idempotencyKey('alice', key);
  const monitor = await t.redis.monitor();
  let seen: () => void = () => undefined;
  const claimed = new Promise<void>((resolve) => (seen = resolve));
  monitor.on('monitor', (_time: string, args: unknown[]) => {
    if (args.some((a) => String(a) === record)) seen();
  });
  return { claimed, stop: () => monitor.disconnect() };
}

describe('a twin at work on another replica', () => {
  test('the retry waits for the twin and answers with its answer, replayed', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const body = { tickets: [p.ticketIds[0]] };
    // the twin's answer, as it would have sent it (a real hold)
    const twin = await begin(body);
    expect(twin.status).toBe(201);
    const key = randomUUID();
    const store = replica();
    expect(await store.claim('alice', key, beginFingerprint(body), 30_000)).toEqual({ kind: 'claimed' });
    const watch = await watchClaims(key);
    try {
      const retry = begin(body, idem(key)).then((r) => r);
      await watch.claimed; // the retry found the twin at work
      await store.save('alice', key, beginFingerprint(body), { status: 201, body: twin.body }, 60_000);
      const res = await retry;
      expect([res.status, res.headers['idempotent-replayed']]).toEqual([201, 'true']);
      expect(res.body).toEqual(twin.body);
      // headers recomputed from the stored body
      expect([res.headers['transaction-status'], res.headers['lock-expires']]).toEqual(['open', twin.body.lock_expires]);
      expect(await countsOf(t, p.id)).toMatchObject({ locked: 1, available: 3 }); // the twin's hold only
    } finally {
      watch.stop();
    }
  });

  test('a twin that never answers: 409 IDEMPOTENCY_IN_PROGRESS after the wait, and nothing done', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const body = { tickets: [p.ticketIds[0]] };
    const key = randomUUID();
    // held well past the retry's wait (so a retry that kept waiting would get the key and do the work)
    await replica().claim('alice', key, beginFingerprint(body), 5_000);
    const res = await begin(body, idem(key));
    const error = expectError(res, 409, 'IDEMPOTENCY_IN_PROGRESS');
    expect(error.message).toMatch(/^A request with this Idempotency-Key/);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 0, available: 2 });
  });

  test('another request holding the key: 422 at once, even when its lease lapses a moment later', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const key = randomUUID();
    // a different request (another body) at work with a short lease: a retry that waited for it would outlive it
    await replica().claim('alice', key, beginFingerprint({ tickets: [p.ticketIds[1]] }), 800);
    const res = await begin({ tickets: [p.ticketIds[0]] }, idem(key));
    const error = expectError(res, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(error.message).toMatch(/^This Idempotency-Key/);
    expect(await countsOf(t, p.id)).toMatchObject({ locked: 0, available: 2 });
  });

  test('an answer near the end of its time to live is replayed at once, not waited on', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 3 });
    const body = { tickets: [p.ticketIds[0]] };
    const first = await begin(body);
    await request(t.app).delete(`/transaction/${first.body.transaction_id as string}`).set(as(KEYS.alice));
    const key = randomUUID();
    // kept for 900 ms more: a retry that polled the key for its wait would see it lapse and hold again
    await replica().save('alice', key, beginFingerprint(body), { status: 201, body: first.body }, 900);
    const res = await begin(body, idem(key));
    expect([res.status, res.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(res.body.transaction_id).toBe(first.body.transaction_id);
  });
});

describe('answers that are not kept: a retry runs again', () => {
  test('429: a hold over the buyer limit, retried once the buyer released, holds', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const buyer = { id: `buyer-${randomUUID().slice(0, 8)}` };
    const full = await begin({ tickets: p.ticketIds.slice(0, 2), buyer });
    expect(full.status).toBe(201);
    const key = randomUUID();
    const body = { tickets: [p.ticketIds[2]], buyer };
    expectError(await begin(body, idem(key)), 429, 'BUYER_LIMIT');
    await request(t.app).delete(`/transaction/${full.body.transaction_id as string}`).set(as(KEYS.alice));
    const retry = await begin(body, idem(key));
    expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([201, undefined]);
    // and that answer is kept
    const again = await begin(body, idem(key));
    expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([201, 'true', retry.body]);
  });

  test('500: a hold that failed on a bug, retried once the cause is gone, holds', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const tickets = performanceKeys(p.id).tickets;
    // a ticket record of the wrong type: the hold script fails (WRONGTYPE), which is no Redis outage but a 500
    const saved = await t.redis.dumpBuffer(tickets);
    await t.redis.del(tickets);
    await t.redis.set(tickets, 'not a hash');
    const key = randomUUID();
    const body = { tickets: [p.ticketIds[0]] };
    try {
      expectError(await begin(body, idem(key)), 500, 'INTERNAL');
    } finally {
      await t.redis.del(tickets);
      await t.redis.restore(tickets, 0, saved);
    }
    const retry = await begin(body, idem(key));
    expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([201, undefined]);
  });
});

describe('the stored record', () => {
  const recordOf = async (key: string) => {
    const raw = await t.redis.getBuffer(idempotencyKey('alice', key));
    if (raw === null) throw new Error(`no record for ${key}`);
    return decodeRecord(raw);
  };

  test('keeps no headers for a transaction answer or an error (a replay recomputes them from the body)', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const held = randomUUID();
    expect((await begin({ tickets: [p.ticketIds[0]] }, idem(held))).status).toBe(201);
    const refused = randomUUID();
    expect((await begin({ tickets: [p.ticketIds[0]] }, idem(refused))).status).toBe(409);
    for (const key of [held, refused]) {
      const record = await recordOf(key);
      expect(record.state).toBe('done');
      expect(record.state === 'done' && record.answer.headers).toBeUndefined();
    }
  });
});

test('a malformed key: 400 naming the header and the rule', async () => {
  const error = expectError(await begin({ tickets: ['x'] }, idem('has space')), 400, 'INVALID_REQUEST');
  expect(error.issues).toEqual([{ path: 'Idempotency-Key', message: expect.stringMatching(/visible ASCII/) }]);
});
