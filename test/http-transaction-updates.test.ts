// HTTP: a transaction after it began (API.md "Transactions"): checkout, complete, release, GET and HEAD, the
// aliases, state rules and lapsed locks.
import request from 'supertest';
import { performanceKeys } from '../src/redis/keys';
import { as, countsOf, createPerformance, expectError, ISO_MS, KEYS, startTestApp, useTestApp } from './support/app';
import { expectLockExpires, expectStillHeld, timed, untilGone, untilRedisTimeAdvances } from './support/lapse';

const t = useTestApp();

const ORDER_NUMBER = /^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/;
const alice = as(KEYS.alice);
const unknownTx = '00000000-0000-4000-8000-000000000000';

async function open(opts: { seats?: number; take?: number; key?: string; hold_seconds?: number } = {}) {
  const perf = await createPerformance(t, { rows: 1, seats: opts.seats ?? 4 });
  const ids = perf.ticketIds.slice(0, opts.take ?? 2);
  const body: Record<string, unknown> = { tickets: ids };
  if (opts.hold_seconds) body.hold_seconds = opts.hold_seconds;
  const res = await request(t.app).post('/transaction').set(as(opts.key ?? KEYS.alice)).send(body);
  expect(res.status).toBe(201);
  return { perf, ids, txid: res.body.transaction_id as string, begun: res.body };
}

const update = (txid: string, body: unknown, key = KEYS.alice, method: 'put' | 'post' = 'put', base = '/transaction') =>
  request(t.app)[method](`${base}/${txid}`).set(as(key)).send(body as object);
const read = (txid: string, key = KEYS.alice) => request(t.app).get(`/transaction/${txid}`).set(as(key));
const lockKeys = (perfId: string, ids: string[]) => ids.map((id) => performanceKeys(perfId).lockPrefix + id);
/** Waits until these tickets' locks lapsed: their lock keys gone (Redis's own expiry). */
const lapsed = (perfId: string, ids: string[]) => untilGone(t.redis, lockKeys(perfId, ids));
const release = (txid: string, key = KEYS.alice) => request(t.app).delete(`/transaction/${txid}`).set(as(key));
const ticket = async (id: string) => (await request(t.app).get(`/tickets/${id}`).set(as(KEYS.admin))).body.ticket;

describe('checkout', () => {
  test.each([
    ['PUT /transaction/{id}', 'put', '/transaction'],
    ['POST /transaction/{id}', 'post', '/transaction'],
    ['PUT /transactions/{id}', 'put', '/transactions'],
    ['POST /transactions/{id}', 'post', '/transactions'],
  ] as const)('%s: 200, status checkout, a later lock_expires on every ticket', async (_name, method, base) => {
    const { txid, ids, begun } = await open();
    await untilRedisTimeAdvances(t.redis); // so the checkout's now is later than the hold's
    const res = await update(txid, { status: 'checkout' }, KEYS.alice, method, base);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'OK', transaction_id: txid, transaction_status: 'checkout' });
    expect(res.body.lock_expires).toMatch(ISO_MS);
    expect(Date.parse(res.body.lock_expires)).toBeGreaterThan(Date.parse(begun.lock_expires));
    expect(res.headers['transaction-status']).toBe('checkout');
    expect(res.headers['lock-expires']).toBe(res.body.lock_expires);
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'locked', transaction_id: txid, lock_expires: res.body.lock_expires });
  });

  test('checkout twice extends again', async () => {
    const { txid } = await open();
    const first = await update(txid, { status: 'checkout' });
    await untilRedisTimeAdvances(t.redis);
    const second = await update(txid, { status: 'checkout' });
    expect(second.status).toBe(200);
    expect(second.body.transaction_status).toBe('checkout');
    expect(Date.parse(second.body.lock_expires)).toBeGreaterThan(Date.parse(first.body.lock_expires));
  });

  test('id and tickets, when given, must match: equal ones (any order) are fine', async () => {
    const { txid, ids } = await open({ take: 3 });
    const res = await update(txid, { status: 'checkout', id: txid, tickets: [...ids].reverse() });
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('checkout');
  });

  test.each([
    ['another id in the body', (txid: string, _ids: string[]) => ({ status: 'checkout', id: txid.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }), 'id'],
    ['a ticket missing', (_txid: string, ids: string[]) => ({ status: 'checkout', tickets: ids.slice(0, 1) }), 'tickets'],
    ['an extra ticket', (_txid: string, ids: string[]) => ({ status: 'checkout', tickets: [...ids, 'extra-ticket'] }), 'tickets'],
    ['a ticket twice', (_txid: string, ids: string[]) => ({ status: 'checkout', tickets: [ids[0], ...ids] }), 'tickets'],
    ['an empty ticket list', () => ({ status: 'checkout', tickets: [] }), 'tickets'],
    ['no status', () => ({}), 'status'],
    ['an unknown status', () => ({ status: 'cancel' }), 'status'],
    ['a bad customer email on complete', () => ({ status: 'complete', customer: { email: 'not-an-email' } }), 'customer.email'],
    ['another id on complete', () => ({ status: 'complete', id: '11111111-1111-4111-8111-111111111111' }), 'id'],
    ['a ticket missing on complete', (_txid: string, ids: string[]) => ({ status: 'complete', tickets: ids.slice(1) }), 'tickets'],
  ])('%s -> 400 INVALID_REQUEST naming it, nothing changes', async (_name, body, path) => {
    const { txid, ids, begun } = await open();
    const error = expectError(await update(txid, body(txid, ids)), 400, 'INVALID_REQUEST');
    expect((error.issues as { path: string }[]).map((i) => i.path)).toContain(path);
    const now = await read(txid);
    expect(now.body).toMatchObject({ transaction_status: 'open', lock_expires: begun.lock_expires });
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'locked', transaction_id: txid });
  });

  test('the lock life is capped by MAX_HOLD_SECONDS from creation; past it -> 409 HOLD_LIMIT_REACHED', async () => {
    const capped = await startTestApp({ MAX_HOLD_SECONDS: '2', LOCK_TTL_SECONDS: '2' });
    try {
      const perf = await createPerformance(capped, { rows: 1, seats: 2 });
      const begun = await request(capped.app).post('/transaction').set(alice).send({ tickets: perf.ticketIds });
      expect(begun.status).toBe(201);
      await untilRedisTimeAdvances(capped.redis);
      const res = await request(capped.app).put(`/transaction/${begun.body.transaction_id}`).set(alice).send({ status: 'checkout' });
      expect(res.status).toBe(200);
      // now + 2 s would be later than created + 2 s: the cap wins
      expect(Date.parse(res.body.lock_expires)).toBe(Date.parse(begun.body.created_at) + 2000);
      await untilGone(capped.redis, lockKeys(perf.id, perf.ticketIds)); // the lock ended at the cap
      const late = await request(capped.app).put(`/transaction/${begun.body.transaction_id}`).set(alice).send({ status: 'checkout' });
      const error = expectError(late, 409, 'HOLD_LIMIT_REACHED');
      expect(error.hold_limit).toBe(new Date(Date.parse(begun.body.created_at) + 2000).toISOString());
    } finally {
      await capped.close();
    }
  });
});

describe('complete', () => {
  test('from checkout: 200, status complete, order_number, every ticket sold', async () => {
    const { txid, ids, perf } = await open();
    expect((await update(txid, { status: 'checkout', id: txid, tickets: ids })).status).toBe(200);
    const res = await update(txid, {
      status: 'complete',
      id: txid,
      tickets: ids,
      customer: { email: 'Joe@Example.com', first_name: 'Joe', last_name: 'Doe', phone: '+1 555 0100' },
      payment_reference: 'pay-123',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'OK', transaction_id: txid, transaction_status: 'complete', performance_id: perf.id });
    expect(res.body.order_number).toMatch(ORDER_NUMBER);
    expect(res.body.lock_expires).toBeUndefined();
    expect(res.headers['transaction-status']).toBe('complete');
    expect(res.headers['lock-expires']).toBeUndefined();
    expect(res.body.tickets).toHaveLength(2);
    for (const x of res.body.tickets) {
      expect(x).toMatchObject({ state: 'sold', sold: true, order_number: res.body.order_number, transaction_id: txid });
      expect(x.lock_expires).toBeUndefined();
    }
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'sold', order_number: res.body.order_number });
    expect(await countsOf(t, perf.id)).toEqual({ total: 4, available: 2, locked: 0, sold: 2 });
  });

  test('straight from open, by the POST alias on /transactions', async () => {
    const { txid } = await open();
    const res = await update(txid, { status: 'complete' }, KEYS.alice, 'post', '/transactions');
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('complete');
    expect(res.body.order_number).toMatch(ORDER_NUMBER);
  });

  test('completing twice returns the same order and records one sale', async () => {
    const { txid, perf } = await open();
    const first = await update(txid, { status: 'complete' });
    const second = await update(txid, { status: 'complete', customer: { email: 'someone@else.example' } });
    expect(second.status).toBe(200);
    expect(second.body.transaction_status).toBe('complete');
    expect(second.body.order_number).toBe(first.body.order_number);
    expect(await t.redis.xlen(`tix:{p:${perf.id}}:outbox`)).toBe(1);
  });

  test('order numbers differ between transactions and performances', async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    const numbers = new Set<string>();
    for (const x of [a, b, c]) numbers.add((await update(x.txid, { status: 'complete' })).body.order_number);
    // a second transaction of one performance
    const more = await request(t.app).post('/transaction').set(alice).send({ tickets: [a.perf.ticketIds[3]] });
    numbers.add((await update(more.body.transaction_id, { status: 'complete' })).body.order_number);
    expect(numbers.size).toBe(4);
  });

  test('checkout after complete -> 409 INVALID_TRANSACTION_STATE; the sale stands', async () => {
    const { txid, ids } = await open();
    const done = await update(txid, { status: 'complete' });
    const error = expectError(await update(txid, { status: 'checkout' }), 409, 'INVALID_TRANSACTION_STATE');
    expect(error).toMatchObject({ transaction_status: 'complete', operation: 'checkout' });
    expect(error.message).toBe('The transaction is complete, so it cannot be checked out.');
    expect((await read(txid)).body).toMatchObject({ transaction_status: 'complete', order_number: done.body.order_number });
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'sold' });
  });

  test('DELETE of a completed transaction -> 409 INVALID_TRANSACTION_STATE; tickets stay sold', async () => {
    const { txid, ids } = await open();
    await update(txid, { status: 'complete' });
    const error = expectError(await release(txid), 409, 'INVALID_TRANSACTION_STATE');
    expect(error).toMatchObject({ transaction_status: 'complete', operation: 'release' });
    expect(error.message).toBe('The transaction is complete, so it cannot be released.');
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'sold' });
  });
});

describe('release (DELETE)', () => {
  test('200 released; the tickets are available again at once', async () => {
    const { txid, ids, perf } = await open();
    expect(await countsOf(t, perf.id)).toMatchObject({ locked: 2 });
    const res = await release(txid);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'OK', transaction_id: txid, transaction_status: 'released' });
    expect(res.body.lock_expires).toBeUndefined();
    expect(res.headers['transaction-status']).toBe('released');
    expect(res.headers['lock-expires']).toBeUndefined();
    for (const x of res.body.tickets) expect(x.state).toBe('available');
    expect(await countsOf(t, perf.id)).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
    // bob can take them straight away
    expect((await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: ids })).status).toBe(201);
  });

  test('releasing twice is 200, and the second changes nothing of the next holder', async () => {
    const { txid, ids } = await open();
    expect((await release(txid)).status).toBe(200);
    const bob = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: ids });
    const again = await release(txid);
    expect(again.status).toBe(200);
    expect(again.body.transaction_status).toBe('released');
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'locked', transaction_id: bob.body.transaction_id });
  });

  test('/transactions/{id} is an alias', async () => {
    const { txid } = await open();
    const res = await request(t.app).delete(`/transactions/${txid}`).set(alice);
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('released');
  });

  test.each([
    ['checkout', { status: 'checkout' }, 'checked out'],
    ['complete', { status: 'complete' }, 'completed'],
  ])('%s after release -> 409 INVALID_TRANSACTION_STATE naming the operation, nothing locked or sold', async (_name, body, refused) => {
    const { txid, ids, perf } = await open();
    await release(txid);
    const error = expectError(await update(txid, body), 409, 'INVALID_TRANSACTION_STATE');
    expect(error).toMatchObject({ transaction_status: 'released', operation: body.status });
    expect(error.message).toBe(`The transaction is released, so it cannot be ${refused}.`);
    expect(await countsOf(t, perf.id)).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'available' });
    expect((await read(txid)).body.transaction_status).toBe('released');
  });
});

describe('GET and HEAD /transaction/{id}', () => {
  test('GET shows each status: open, checkout, complete, released', async () => {
    const a = await open();
    const got = await read(a.txid);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      status: 'OK',
      transaction_id: a.txid,
      transaction_status: 'open',
      performance_id: a.perf.id,
      lock_expires: a.begun.lock_expires,
      created_at: a.begun.created_at,
      locked_by: 'alice',
    });
    expect(got.body.tickets.map((x: { id: string }) => x.id)).toEqual(a.ids);
    expect(got.headers['transaction-status']).toBe('open');
    await update(a.txid, { status: 'checkout' });
    expect((await read(a.txid)).body.transaction_status).toBe('checkout');
    await update(a.txid, { status: 'complete' });
    expect((await read(a.txid)).body).toMatchObject({ transaction_status: 'complete', order_number: expect.stringMatching(ORDER_NUMBER) });
    const b = await open();
    await release(b.txid);
    expect((await read(b.txid)).body.transaction_status).toBe('released');
    expect((await request(t.app).get(`/transactions/${b.txid}`).set(alice)).body.transaction_status).toBe('released');
  });

  test('GET shows expired once the lock lapsed', async () => {
    const { txid, perf, ids } = await open({ hold_seconds: 1 });
    await lapsed(perf.id, ids);
    const res = await read(txid);
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('expired');
    expect(res.headers['transaction-status']).toBe('expired');
    expect(res.headers['lock-expires']).toBeUndefined();
    for (const x of res.body.tickets) expect(x.state).toBe('available');
  });

  test('HEAD: the same status code as GET, Transaction-Status and Lock-Expires headers, no body', async () => {
    const { txid, begun } = await open();
    for (const base of ['/transaction', '/transactions']) {
      const res = await request(t.app).head(`${base}/${txid}`).set(alice);
      expect(res.status).toBe(200);
      expect(res.headers['transaction-status']).toBe('open');
      expect(res.headers['lock-expires']).toBe(begun.lock_expires);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.text ?? '').toBe('');
      expect(res.body).toEqual({});
    }
    await update(txid, { status: 'complete' });
    const done = await request(t.app).head(`/transaction/${txid}`).set(alice);
    expect(done.status).toBe(200);
    expect(done.headers['transaction-status']).toBe('complete');
    expect(done.headers['lock-expires']).toBeUndefined();
  });

  test('HEAD of an unknown transaction -> 404, of a bad id -> 400, without a key -> 401; no body', async () => {
    const unknown = await request(t.app).head(`/transaction/${unknownTx}`).set(alice);
    expect(unknown.status).toBe(404);
    expect(unknown.text ?? '').toBe('');
    expect(unknown.headers['transaction-status']).toBeUndefined();
    expect(unknown.headers['x-request-id']).toBeTruthy();
    expect((await request(t.app).head('/transaction/not-a-uuid').set(alice)).status).toBe(400);
    expect((await request(t.app).head(`/transaction/${unknownTx}`)).status).toBe(401);
  });

  test('GET of an unknown transaction -> 404 TRANSACTION_NOT_FOUND', async () => {
    expectError(await read(unknownTx), 404, 'TRANSACTION_NOT_FOUND');
  });

  test.each([
    ['GET', () => request(t.app).get('/transaction/not-a-uuid')],
    ['GET (almost a UUID)', () => request(t.app).get('/transaction/00000000-0000-4000-8000-00000000000g')],
    ['PUT', () => request(t.app).put('/transaction/12345').send({ status: 'checkout' })],
    ['POST', () => request(t.app).post('/transaction/12345').send({ status: 'complete' })],
    ['DELETE', () => request(t.app).delete('/transactions/abc')],
  ])('%s with an invalid UUID path -> 400 INVALID_REQUEST', async (_name, call) => {
    const error = expectError(await call().set(alice), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'id' })]);
  });

  test('PUT and DELETE of an unknown transaction -> 404 TRANSACTION_NOT_FOUND', async () => {
    expectError(await update(unknownTx, { status: 'checkout' }), 404, 'TRANSACTION_NOT_FOUND');
    expectError(await update(unknownTx, { status: 'complete' }, KEYS.admin), 404, 'TRANSACTION_NOT_FOUND');
    expectError(await release(unknownTx), 404, 'TRANSACTION_NOT_FOUND');
  });
});

describe('a lapsed lock', () => {
  test('checkout after expiry succeeds when every ticket is still free, and locks them again', async () => {
    // the checkout relocks for the transaction's own hold: 3 s, for the "still held" checks after it
    const { txid, ids, perf } = await open({ hold_seconds: 3 });
    await lapsed(perf.id, ids);
    expect((await read(txid)).body.transaction_status).toBe('expired');
    const res = await timed(t.redis, () => update(txid, { status: 'checkout' }));
    expect(res.answer.status).toBe(200);
    expect(res.answer.body.transaction_status).toBe('checkout');
    expectLockExpires(res.answer.body.lock_expires, res, 3000); // now + the hold on Redis's clock: in the future
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'locked', transaction_id: txid });
    expect(await countsOf(t, perf.id)).toMatchObject({ locked: 2, available: 2 });
    await expectStillHeld(t.redis, lockKeys(perf.id, ids));
  });

  test('complete after expiry succeeds when every ticket is still free', async () => {
    const { txid, ids, perf } = await open({ hold_seconds: 1 });
    await lapsed(perf.id, ids);
    const res = await update(txid, { status: 'complete' });
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('complete');
    for (const id of ids) expect(await ticket(id)).toMatchObject({ state: 'sold', order_number: res.body.order_number });
  });

  test('a ticket taken meanwhile -> 409 TICKETS_UNAVAILABLE, the transaction becomes expired, the taker keeps it', async () => {
    const { txid, ids, perf } = await open({ hold_seconds: 1 });
    const [first, second] = ids as [string, string];
    await lapsed(perf.id, ids);
    const bob = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [second] });
    expect(bob.status).toBe(201);

    const error = expectError(await update(txid, { status: 'checkout' }), 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual([{ id: second, reason: 'locked' }]);
    expect((await read(txid)).body.transaction_status).toBe('expired');
    expect(await ticket(first)).toMatchObject({ state: 'available' });
    expect(await ticket(second)).toMatchObject({ state: 'locked', transaction_id: bob.body.transaction_id });
    expect(await countsOf(t, perf.id)).toEqual({ total: 4, available: 3, locked: 1, sold: 0 });

    // an expired transaction can no longer be checked out or completed
    const again = expectError(await update(txid, { status: 'complete' }), 409, 'INVALID_TRANSACTION_STATE');
    expect(again.transaction_status).toBe('expired');
    // and releasing it leaves bob's lock alone
    expect((await release(txid)).status).toBe(200);
    expect(await ticket(second)).toMatchObject({ state: 'locked', transaction_id: bob.body.transaction_id });
  });

  test('a ticket sold meanwhile -> complete answers 409 TICKETS_UNAVAILABLE with reason sold', async () => {
    const { txid, ids, perf } = await open({ hold_seconds: 1 });
    await lapsed(perf.id, ids);
    const bob = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [ids[0]] });
    const bobDone = await update(bob.body.transaction_id, { status: 'complete' }, KEYS.bob);
    expect(bobDone.status).toBe(200);
    const error = expectError(await update(txid, { status: 'complete' }), 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual([{ id: ids[0], reason: 'sold' }]);
    expect(await ticket(ids[0] as string)).toMatchObject({ state: 'sold', order_number: bobDone.body.order_number });
    expect(await ticket(ids[1] as string)).toMatchObject({ state: 'available' });
  });
});
