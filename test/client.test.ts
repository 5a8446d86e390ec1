// The typed client (src/client) against a real listening tixlock (real Redis, SQLite, order writer): the seed flow,
// typed errors, idempotent retries, retries on 503 that honour Retry-After (a real HTTP gate in front answers the
// 503s), and timeouts. Also: the client loads nothing of the server at run time.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TixlockClient, TixlockError, type AttemptEvent, type ClientOptions, type Operation } from '../src/client';
import { parseRetryAfter, retryWait } from '../src/client/retry';
import type { OrderWriter } from '../src/writer/order-writer';
import { ISO_MS, KEYS, listen, startTestApp, startTestWriter, uniqueId, type Listening, type TestApp } from './support/app';
import { startHttpGate, unavailable, type GateAction, type HttpGate } from './support/http-gate';
import { REPO, waitFor } from './support/spawn';

let t: TestApp;
let http: Listening;
let baseUrl: string;
let writer: OrderWriter;
const gates: HttpGate[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await t.redis.flushdb(); // the writer reads every performance of this worker's database
  writer = await startTestWriter(t);
  http = await listen(t);
  baseUrl = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await Promise.all(gates.map((g) => g.close()));
  await http.close();
  await writer.stop();
  await t.close();
});

/** A client of the test server (or of a gate in front of it) that records its attempts. */
function client(key: string, options: Partial<ClientOptions> = {}) {
  const attempts: AttemptEvent<Operation>[] = [];
  const api = new TixlockClient({ baseUrl, apiKey: key, ...options, onAttempt: (a) => attempts.push(a) });
  return { api, attempts };
}

async function gate(plan: (index: number) => GateAction): Promise<HttpGate> {
  const g = await startHttpGate(baseUrl, (_req, i) => plan(i));
  gates.push(g);
  return g;
}

/** A performance of one row of `seats` seats at 5,000 cents; its id and ticket ids in seat order. */
async function performance(seats = 6) {
  const id = uniqueId('cli');
  const tickets = Array.from({ length: seats }, (_, i) => ({ id: `${id}-A${i + 1}`, section: 'ORCH', row: 'A', seat: i + 1, price: 5000 }));
  const admin = new TixlockClient({ baseUrl, apiKey: KEYS.admin });
  const created = await admin.putPerformance(id, { name: 'Client show', tickets });
  expect(created).toMatchObject({ id, added: seats, counts: { total: seats, available: seats } });
  return { id, ticketIds: tickets.map((x) => x.id) };
}

/** The TixlockError a call rejects with. */
async function failure(call: Promise<unknown>): Promise<TixlockError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TixlockError);
  return err as TixlockError;
}

describe('the seed flow', () => {
  test('create, search, hold, extend, complete, read the order', async () => {
    const admin = new TixlockClient({ baseUrl, apiKey: KEYS.admin });
    const { api } = client(KEYS.alice);
    const { id } = await performance();

    const found = await api.searchTickets({ performance_id: id, quantity: 2 });
    expect(found.map((x) => x.seat)).toEqual(['1', '2']);
    expect(found.every((x) => x.state === 'available')).toBe(true);

    const held = await api.holdTickets(found.map((x) => x.id));
    expect(held).toMatchObject({ transaction_status: 'open', performance_id: id, locked_by: 'alice' });
    expect(held).not.toHaveProperty('status'); // the body's "OK" is unwrapped
    expect(held.lock_expires).toMatch(ISO_MS);
    expect(await api.headTransaction(held.transaction_id)).toEqual({ transaction_status: 'open', lock_expires: held.lock_expires });

    const extended = await api.checkout(held.transaction_id);
    expect(extended.transaction_status).toBe('checkout');
    expect(Date.parse(extended.lock_expires ?? '')).toBeGreaterThanOrEqual(Date.parse(held.lock_expires ?? ''));

    const done = await api.complete(held.transaction_id, {
      customer: { email: 'Client.Test@example.com', first_name: 'Client' },
      payment_reference: 'pay-client-1',
    });
    expect(done.transaction_status).toBe('complete');
    expect(done.order_number).toMatch(/^[0-9A-Z]{1,12}$/);
    expect((await api.getTransaction(held.transaction_id)).order_number).toBe(done.order_number);
    expect(await api.getTicket(found[0]?.id ?? '')).toMatchObject({ state: 'sold', sold: true, order_number: done.order_number });

    const order = await waitFor('the order to be persisted', () =>
      api.getOrder(done.order_number).catch((e: unknown) => {
        if (e instanceof TixlockError && e.code === 'ORDER_NOT_FOUND') return undefined;
        throw e;
      }),
    );
    expect(order).toMatchObject({ order_number: done.order_number, transaction_id: held.transaction_id, total: 10_000, client: 'alice' });
    expect(order.tickets.map((x) => x.id)).toEqual(found.map((x) => x.id));
    expect((await admin.getPerson('client.test@example.com')).order_numbers).toEqual([done.order_number]);

    expect((await admin.getPerformance(id)).counts).toEqual({ total: 6, available: 4, locked: 0, sold: 2 });
    const sold = await admin.listTickets(id, { state: 'sold' });
    expect(sold).toEqual({ tickets: expect.any(Array), next_cursor: null });
    expect(sold.tickets.map((x) => x.id)).toEqual(found.map((x) => x.id));

    const closed = await admin.closePerformance(id);
    expect(closed).toMatchObject({ id, lifecycle: 'closed', counts: { sold: 2 } });
    const refused = await failure(api.holdBest({ performance_id: id, quantity: 1 }));
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 409, code: 'PERFORMANCE_CLOSED' });
  });

  test('best available in one step, then let it go; health and readiness', async () => {
    const { api } = client(KEYS.alice);
    const { id } = await performance();
    const held = await api.holdBest({ performance_id: id, quantity: 3, hold_seconds: 60 });
    expect(held.tickets).toHaveLength(3);
    expect(held.hold_seconds).toBe(60);
    expect((await api.release(held.transaction_id)).transaction_status).toBe('released');
    expect((await api.release(held.transaction_id)).transaction_status).toBe('released'); // twice is fine

    const anonymous = new TixlockClient({ baseUrl });
    await expect(anonymous.health()).resolves.toBeUndefined();
    expect((await anonymous.ready()).checks).toEqual({ redis: 'ok', document_store: 'ok' });
  });
});

describe('typed errors', () => {
  test('a conflict carries status, code, message, details and the request id; it is not retried', async () => {
    const { ticketIds } = await performance();
    await client(KEYS.bob).api.holdTickets(ticketIds.slice(0, 2));
    const { api, attempts } = client(KEYS.alice);
    const err = await failure(api.holdTickets(ticketIds.slice(1, 3)));
    expect({ status: err.status, code: err.code, retryAfter: err.retryAfter }).toEqual({ status: 409, code: 'TICKETS_UNAVAILABLE', retryAfter: undefined });
    expect(err.message).toMatch(/nothing was locked/);
    expect(err.details).toEqual({ tickets: [{ id: ticketIds[1], reason: 'locked' }] });
    expect(err.requestId).toBe(attempts[0]?.requestId);
    expect(err.requestId).toEqual(expect.any(String));
    expect(attempts.map((a) => [a.operation, a.status, a.code])).toEqual([['holdTickets', 409, 'TICKETS_UNAVAILABLE']]);
  });

  test('validation, not found, not authenticated, not enough tickets', async () => {
    const { id } = await performance(2);
    const { api } = client(KEYS.alice);
    const invalid = await failure(api.searchTickets({ performance_id: 'no spaces allowed', quantity: 1 }));
    expect({ status: invalid.status, code: invalid.code }).toEqual({ status: 400, code: 'INVALID_REQUEST' });
    expect(invalid.details.issues).toEqual([{ path: 'performance_id', message: expect.any(String) }]);

    const missing = await failure(api.getTransaction(randomUUID()));
    expect({ status: missing.status, code: missing.code }).toEqual({ status: 404, code: 'TRANSACTION_NOT_FOUND' });

    const short = await failure(api.searchTickets({ performance_id: id, quantity: 3 }));
    expect({ status: short.status, code: short.code, available: short.details.available }).toEqual({ status: 409, code: 'NOT_ENOUGH_TICKETS', available: 2 });

    const stranger = await failure(new TixlockClient({ baseUrl, apiKey: 'not-a-key' }).getPerformance(id));
    expect({ status: stranger.status, code: stranger.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });

    // HEAD has no body: the status alone
    const head = await failure(api.headTransaction(randomUUID()));
    expect({ status: head.status, code: head.code }).toEqual({ status: 404, code: 'HTTP_ERROR' });
  });
});

describe('idempotency', () => {
  test('the same Idempotency-Key twice gives the same transaction, replayed', async () => {
    const { ticketIds } = await performance();
    const { api, attempts } = client(KEYS.alice);
    const key = randomUUID();
    const first = await api.holdTickets(ticketIds.slice(0, 2), {}, { idempotencyKey: key });
    const again = await api.holdTickets(ticketIds.slice(0, 2), {}, { idempotencyKey: key });
    expect(again.transaction_id).toBe(first.transaction_id);
    expect(attempts.map((a) => [a.status, a.replayed])).toEqual([
      [201, false],
      [201, true],
    ]);
    // a new call gets a new key: the same tickets are now taken
    expect((await failure(api.holdTickets(ticketIds.slice(0, 2)))).code).toBe('TICKETS_UNAVAILABLE');
  });

  test('a hold whose answer was lost is retried with its key and answers the hold that was made', async () => {
    const { id, ticketIds } = await performance();
    const g = await gate((i) => (i === 0 ? 'lose-answer' : 'forward'));
    const { api, attempts } = client(KEYS.alice, { baseUrl: g.url });
    const held = await api.holdTickets(ticketIds.slice(0, 2));

    expect(attempts.map((a) => [a.status, a.replayed])).toEqual([
      [503, false],
      [201, true],
    ]);
    const keys = g.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(keys[1]).toBe(keys[0]);
    expect((await client(KEYS.alice).api.getTransaction(held.transaction_id)).transaction_status).toBe('open');
    const admin = new TixlockClient({ baseUrl, apiKey: KEYS.admin });
    expect((await admin.getPerformance(id)).counts).toMatchObject({ locked: 2, available: 4 });
  });

  test('without keys, a hold is never retried', async () => {
    const { ticketIds } = await performance();
    const g = await gate((i) => (i === 0 ? 'lose-answer' : 'forward'));
    const { api } = client(KEYS.alice, { baseUrl: g.url, idempotencyKeys: false });
    const err = await failure(api.holdTickets(ticketIds.slice(0, 2)));
    expect({ status: err.status, code: err.code, attempts: err.attempts, key: err.idempotencyKey }).toEqual({
      status: 503,
      code: 'UNAVAILABLE',
      attempts: 1,
      key: undefined,
    });
    expect(g.requests).toHaveLength(1);
    expect(g.requests[0]?.headers).not.toHaveProperty('idempotency-key');
  });
});

describe('retries on 503 and 429', () => {
  test('a 503 is retried after its Retry-After', async () => {
    const { id } = await performance();
    const g = await gate((i) => (i === 0 ? unavailable('1') : 'forward'));
    const { api, attempts } = client(KEYS.alice, { baseUrl: g.url });
    const found = await api.searchTickets({ performance_id: id, quantity: 1 });
    expect(found).toHaveLength(1);
    expect(attempts.map((a) => [a.attempt, a.status, a.code])).toEqual([
      [1, 503, 'UNAVAILABLE'],
      [2, 200, undefined],
    ]);
    const [first, second] = g.requests;
    // honoured: the retry came no earlier than the second the gate asked for (timer granularity aside)
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  test('retries are bounded: the last 503 goes to the caller with its Retry-After', async () => {
    const g = await gate(() => unavailable('0'));
    const { api } = client(KEYS.alice, { baseUrl: g.url, retries: 3 });
    const err = await failure(api.getTicket('any-ticket'));
    expect({ status: err.status, code: err.code, retryAfter: err.retryAfter, attempts: err.attempts }).toEqual({
      status: 503,
      code: 'UNAVAILABLE',
      retryAfter: 0,
      attempts: 4,
    });
    expect(g.requests).toHaveLength(4);
  });

  test('a Retry-After beyond maxRetryWaitMs is not waited for', async () => {
    const g = await gate(() => unavailable('30'));
    const { api } = client(KEYS.alice, { baseUrl: g.url, maxRetryWaitMs: 5_000 });
    const err = await failure(api.getTicket('any-ticket'));
    expect({ code: err.code, retryAfter: err.retryAfter, attempts: err.attempts }).toEqual({ code: 'UNAVAILABLE', retryAfter: 30, attempts: 1 });
  });

  test('a 429 with Retry-After is retried; one without (a limit that waiting does not lift) is not', async () => {
    const limited = (retryAfter?: string): GateAction => ({
      status: 429,
      headers: retryAfter ? { 'retry-after': retryAfter } : {},
      body: { status: 'ERROR', error: { code: retryAfter ? 'RATE_LIMITED' : 'BUYER_LIMIT', message: 'slow down', request_id: 'gate' } },
    });
    const { id } = await performance();
    const timed = await gate((i) => (i === 0 ? limited('0') : 'forward'));
    expect(await client(KEYS.alice, { baseUrl: timed.url }).api.searchTickets({ performance_id: id, quantity: 1 })).toHaveLength(1);
    expect(timed.requests).toHaveLength(2);

    const untimed = await gate(() => limited());
    const err = await failure(client(KEYS.alice, { baseUrl: untimed.url }).api.searchTickets({ performance_id: id, quantity: 1 }));
    expect({ status: err.status, code: err.code, attempts: err.attempts }).toEqual({ status: 429, code: 'BUYER_LIMIT', attempts: 1 });
  });

  test('readiness is a probe: a 503 is the answer, not retried', async () => {
    const g = await gate(() => unavailable('1'));
    const err = await failure(new TixlockClient({ baseUrl: g.url }).ready());
    expect({ status: err.status, code: err.code, attempts: err.attempts }).toEqual({ status: 503, code: 'UNAVAILABLE', attempts: 1 });
  });

  test('no connection: reads are retried, then NETWORK_ERROR', async () => {
    const g = await gate(() => 'forward');
    await g.close(); // nothing listens on its port now
    const { api, attempts } = client(KEYS.alice, { baseUrl: g.url, retries: 1, retryDelayMs: 10 });
    const err = await failure(api.getTicket('any-ticket'));
    expect({ status: err.status, code: err.code, attempts: err.attempts }).toEqual({ status: 0, code: 'NETWORK_ERROR', attempts: 2 });
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(attempts.map((a) => a.status)).toEqual([0, 0]);
  });
});

describe('timeouts', () => {
  test('no answer within timeoutMs is a TIMEOUT, not retried', async () => {
    const g = await gate(() => 'hang');
    const { api } = client(KEYS.alice, { baseUrl: g.url, timeoutMs: 300 });
    const err = await failure(api.holdTickets(['x-1']));
    expect({ status: err.status, code: err.code, attempts: err.attempts }).toEqual({ status: 0, code: 'TIMEOUT', attempts: 1 });
    expect(err.message).toBe('no answer within 300 ms');
    // the outcome is unknown: the key to repeat the call with is on the error
    expect(err.idempotencyKey).toBe(g.requests[0]?.headers['idempotency-key']);
    expect(g.requests).toHaveLength(1);
  });

  test("a call's own timeoutMs wins over the client's; a caller's signal cancels with its reason", async () => {
    const g = await gate(() => 'hang');
    const { api } = client(KEYS.alice, { baseUrl: g.url, timeoutMs: 60_000 });
    expect((await failure(api.getTicket('x-1', { timeoutMs: 200 }))).message).toBe('no answer within 200 ms');

    const controller = new AbortController();
    const call = api.getTicket('x-1', { signal: controller.signal });
    await waitFor('the request to reach the gate', () => g.requests.length === 2);
    const reason = new Error('the buyer left');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });
});

describe('the retry policy', () => {
  const policy = { retries: 2, maxRetryWaitMs: 5_000, retryDelayMs: 200 };
  const fixed = () => 0.5;

  test('waits: Retry-After as given, else back-off within its bounds; never for unsafe calls or other errors', () => {
    expect(retryWait(policy, 1, { status: 503, code: 'UNAVAILABLE', retryAfterMs: 1000 }, true)).toBe(1000);
    expect(retryWait(policy, 1, { status: 503, code: 'UNAVAILABLE', retryAfterMs: 1000 }, false)).toBeUndefined();
    expect(retryWait(policy, 3, { status: 503, code: 'UNAVAILABLE', retryAfterMs: 1000 }, true)).toBeUndefined();
    expect(retryWait(policy, 2, { status: 0, code: 'NETWORK_ERROR', retryAfterMs: undefined }, true, fixed)).toBe(300);
    expect(retryWait(policy, 1, { status: 0, code: 'TIMEOUT', retryAfterMs: undefined }, true)).toBeUndefined();
    expect(retryWait(policy, 1, { status: 409, code: 'TICKETS_UNAVAILABLE', retryAfterMs: undefined }, true)).toBeUndefined();
    expect(retryWait(policy, 1, { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS', retryAfterMs: undefined }, true, fixed)).toBe(150);
    expect(retryWait(policy, 1, { status: 500, code: 'INTERNAL', retryAfterMs: undefined }, true)).toBeUndefined();
  });

  test('Retry-After: seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-29T16:05:00.000Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 16:05:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 16:04:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

test('the client loads nothing of the server at run time (no express, ioredis, zod)', () => {
  // in a fresh node with the tests' TypeScript hook: which modules does requiring the client add?
  const script = [
    'const before = new Set(Object.keys(require.cache));',
    "require('./src/client');",
    "const added = Object.keys(require.cache).filter((f) => !before.has(f) && !f.includes('/node_modules/@swc/'));",
    'console.log(JSON.stringify(added));',
  ].join('\n');
  const register = path.join(REPO, 'test', 'support', 'swc-register.js');
  const run = spawnSync(process.execPath, ['-r', register, '-e', script], { cwd: REPO, encoding: 'utf8' });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  const added = (JSON.parse(run.stdout) as string[]).map((f) => path.relative(REPO, f)).sort();
  // types.ts is type-only (erased): it is what would pull in the server's schemas and zod
  expect(added).toEqual(['src/client/client.ts', 'src/client/errors.ts', 'src/client/index.ts', 'src/client/retry.ts', 'src/client/transport.ts']);
});
