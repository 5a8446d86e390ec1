// HTTP: beginning a transaction (API.md "Transactions", POST /transaction): holds all-or-nothing, by ids or best
// available, and every error a hold can answer.
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, ISO_MS, KEYS, uniqueId, useTestApp } from './support/app';

const t = useTestApp();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const begin = (body: unknown, key = KEYS.alice, path = '/transaction') =>
  request(t.app).post(path).set(as(key)).send(body as object);
const ticketState = async (id: string) => (await request(t.app).get(`/tickets/${id}`).set(as(KEYS.admin))).body.ticket;

async function sell(ids: string[], key = KEYS.bob) {
  const hold = await begin({ tickets: ids }, key);
  expect(hold.status).toBe(201);
  const done = await request(t.app).put(`/transaction/${hold.body.transaction_id}`).set(as(key)).send({ status: 'complete' });
  expect(done.status).toBe(200);
}

describe('POST /transaction with ticket ids', () => {
  test('201 with the documented shape; every ticket locked by this transaction', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const wanted = p.ticketIds.slice(1, 3);
    const res = await begin({ tickets: wanted });
    expect(res.status).toBe(201);
    const body = res.body;
    expect(body).toMatchObject({ status: 'OK', transaction_status: 'open', performance_id: p.id });
    expect(body.transaction_id).toMatch(UUID);
    expect(body.lock_expires).toMatch(ISO_MS);
    expect(body.created_at).toMatch(ISO_MS);
    expect(body.hold_seconds).toBe(180); // LOCK_TTL_SECONDS of the test configuration
    expect(Date.parse(body.lock_expires) - Date.parse(body.created_at)).toBe(180_000);
    expect(body.order_number).toBeUndefined();
    expect(body.tickets.map((x: { id: string }) => x.id)).toEqual(wanted);
    for (const ticket of body.tickets) {
      expect(ticket).toMatchObject({
        performance_id: p.id,
        state: 'locked',
        sold: false,
        transaction_id: body.transaction_id,
        lock_expires: body.lock_expires,
        locked_by: 'alice',
        locked_ip: expect.any(String),
      });
    }
    expect(res.headers['transaction-status']).toBe('open');
    expect(res.headers['lock-expires']).toBe(body.lock_expires);
    expect(res.headers['x-request-id']).toBeTruthy();

    expect(await countsOf(t, p.id)).toEqual({ total: 4, available: 2, locked: 2, sold: 0 });
    for (const id of wanted) expect(await ticketState(id)).toMatchObject({ state: 'locked', transaction_id: body.transaction_id });
  });

  test('/transactions is an alias', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const res = await begin({ tickets: [p.ticketIds[0]] }, KEYS.alice, '/transactions');
    expect(res.status).toBe(201);
    expect(res.body.transaction_status).toBe('open');
    const read = await request(t.app).get(`/transaction/${res.body.transaction_id}`).set(as(KEYS.alice));
    expect(read.status).toBe(200);
  });

  test('the tickets keep the order the caller gave', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const wanted = [p.ticketIds[3], p.ticketIds[0], p.ticketIds[2]];
    const res = await begin({ tickets: wanted });
    expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual(wanted);
  });

  test('hold_seconds shortens or lengthens the hold within the bounds', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 3 });
    const short = await begin({ tickets: [p.ticketIds[0]], hold_seconds: 1 });
    expect(short.status).toBe(201);
    expect(short.body.hold_seconds).toBe(1);
    expect(Date.parse(short.body.lock_expires) - Date.parse(short.body.created_at)).toBe(1000);
    const long = await begin({ tickets: [p.ticketIds[1]], hold_seconds: 900 });
    expect(long.status).toBe(201);
    expect(Date.parse(long.body.lock_expires) - Date.parse(long.body.created_at)).toBe(900_000);
  });

  test('a buyer may be given', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const res = await begin({ tickets: [p.ticketIds[0]], buyer: { id: 'buyer-17', email: 'Joe@Example.com' } });
    expect(res.status).toBe(201);
  });

  test('the performance max_tickets_per_transaction may be above the default of 10', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 12, extra: { max_tickets_per_transaction: 12 } });
    const res = await begin({ tickets: p.ticketIds });
    expect(res.status).toBe(201);
    expect(res.body.tickets).toHaveLength(12);
  });
});

describe('POST /transaction best available', () => {
  test('picks and locks the best available tickets in one step', async () => {
    const p = await createPerformance(t, { rows: 2, seats: 5 });
    const search = await request(t.app).get(`/tickets?performance_id=${p.id}&quantity=3`).set(as(KEYS.alice));
    const res = await begin({ performance_id: p.id, quantity: 3 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'OK', transaction_status: 'open', performance_id: p.id });
    expect(res.body.lock_expires).toMatch(ISO_MS);
    expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual(search.body.tickets.map((x: { id: string }) => x.id));
    for (const ticket of res.body.tickets) expect(ticket).toMatchObject({ state: 'locked', transaction_id: res.body.transaction_id });
    expect(await countsOf(t, p.id)).toEqual({ total: 10, available: 7, locked: 3, sold: 0 });
    // the next pick skips them
    const next = await begin({ performance_id: p.id, quantity: 2 }, KEYS.bob, '/transactions');
    expect(next.status).toBe(201);
    expect(next.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${p.id}-A4`, `${p.id}-A5`]);
  });

  test('filters section, price_level and max_price apply', async () => {
    const id = uniqueId();
    const tickets = [
      { id: `${id}-cheap`, section: 'BALC', row: 'A', seat: 1, price: 1000, price_level: 'C' },
      { id: `${id}-mid1`, section: 'ORCH', row: 'B', seat: 1, price: 3000, price_level: 'B' },
      { id: `${id}-mid2`, section: 'ORCH', row: 'B', seat: 2, price: 3000, price_level: 'B' },
      { id: `${id}-top`, section: 'ORCH', row: 'A', seat: 1, price: 9000, price_level: 'A' },
    ];
    expect((await request(t.app).put(`/performances/${id}`).set(as(KEYS.admin)).send({ tickets })).status).toBe(200);
    const bySection = await begin({ performance_id: id, quantity: 1, section: 'ORCH' });
    expect(bySection.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${id}-mid1`]);
    const byLevel = await begin({ performance_id: id, quantity: 1, price_level: 'A' });
    expect(byLevel.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${id}-top`]);
    const byPrice = await begin({ performance_id: id, quantity: 1, max_price: 3000 });
    expect(byPrice.body.tickets.map((x: { id: string }) => x.id)).toEqual([`${id}-cheap`]);
    const error = expectError(await begin({ performance_id: id, quantity: 2, max_price: 3000 }), 409, 'NOT_ENOUGH_TICKETS');
    expect(error.available).toBe(1);
  });

  test('fewer available -> 409 NOT_ENOUGH_TICKETS with available, nothing locked', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 5 });
    expect((await begin({ tickets: p.ticketIds.slice(0, 2) }, KEYS.bob)).status).toBe(201);
    const error = expectError(await begin({ performance_id: p.id, quantity: 4 }), 409, 'NOT_ENOUGH_TICKETS');
    expect(error.available).toBe(3);
    expect(await countsOf(t, p.id)).toEqual({ total: 5, available: 3, locked: 2, sold: 0 });
  });

  test('unknown performance -> 404 PERFORMANCE_NOT_FOUND', async () => {
    expectError(await begin({ performance_id: uniqueId('none'), quantity: 1 }), 404, 'PERFORMANCE_NOT_FOUND');
  });

  test('more than the per-transaction maximum -> 400, nothing locked', async () => {
    const p = await createPerformance(t, { rows: 2, seats: 6 });
    const error = expectError(await begin({ performance_id: p.id, quantity: 11 }), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'tickets', message: expect.stringContaining('10') })]);
    expect((await countsOf(t, p.id)).locked).toBe(0);
    expect((await begin({ performance_id: p.id, quantity: 10 })).status).toBe(201);
  });
});

describe('POST /transaction: conflicts', () => {
  test('a ticket locked by another transaction -> 409 TICKETS_UNAVAILABLE reason locked, nothing locked', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 4 });
    const [a1, a2, a3] = p.ticketIds;
    expect((await begin({ tickets: [a2] }, KEYS.bob)).status).toBe(201);
    const before = await countsOf(t, p.id);
    const error = expectError(await begin({ tickets: [a1, a2, a3] }), 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual([{ id: a2, reason: 'locked' }]);
    expect(await countsOf(t, p.id)).toEqual(before);
    expect(await ticketState(a1 as string)).toMatchObject({ state: 'available' });
    expect(await ticketState(a3 as string)).toMatchObject({ state: 'available' });
  });

  test('the same client cannot hold a ticket twice either (another transaction of its own)', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    expect((await begin({ tickets: [p.ticketIds[0]] })).status).toBe(201);
    const error = expectError(await begin({ tickets: [p.ticketIds[0]] }), 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual([{ id: p.ticketIds[0], reason: 'locked' }]);
  });

  test('sold and locked tickets are each named with their reason', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 5 });
    const [a1, a2, a3, a4, a5] = p.ticketIds as [string, string, string, string, string];
    await sell([a1, a3]);
    expect((await begin({ tickets: [a4] }, KEYS.bob)).status).toBe(201);
    const before = await countsOf(t, p.id);
    const error = expectError(await begin({ tickets: [a1, a2, a3, a4, a5] }), 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual([
      { id: a1, reason: 'sold' },
      { id: a3, reason: 'sold' },
      { id: a4, reason: 'locked' },
    ]);
    expect(await countsOf(t, p.id)).toEqual(before);
    expect(await ticketState(a2)).toMatchObject({ state: 'available' });
    expect(await ticketState(a5)).toMatchObject({ state: 'available' });
  });

  test('unknown ids -> 404 TICKETS_NOT_FOUND listing them, nothing locked', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const ghost1 = uniqueId('ghost');
    const ghost2 = uniqueId('ghost');
    const error = expectError(await begin({ tickets: [p.ticketIds[0], ghost1, ghost2] }), 404, 'TICKETS_NOT_FOUND');
    expect(error.tickets).toEqual([ghost1, ghost2]);
    expect((await countsOf(t, p.id)).locked).toBe(0);
  });
});

describe('POST /transaction: 400 INVALID_REQUEST', () => {
  let p: { id: string; ticketIds: string[] };
  let q: { id: string; ticketIds: string[] };
  beforeAll(async () => {
    p = await createPerformance(t, { rows: 2, seats: 6 });
    q = await createPerformance(t, { rows: 1, seats: 2 });
  });

  // [name, body, an issue path that must be named ('' = any)]; every row has all three (see test.each and done)
  const cases: [string, () => unknown, string][] = [
    ['an empty list', () => ({ tickets: [] }), 'tickets'],
    ['a ticket listed twice', () => ({ tickets: [p.ticketIds[0], p.ticketIds[1], p.ticketIds[0]] }), 'tickets'],
    ['tickets of two performances', () => ({ tickets: [p.ticketIds[0], q.ticketIds[0]] }), 'tickets'],
    ['11 tickets (default maximum 10)', () => ({ tickets: p.ticketIds.slice(0, 11) }), 'tickets'],
    ['a bad id (space)', () => ({ tickets: ['bad id'] }), 'tickets.0'],
    ['a bad id (129 characters)', () => ({ tickets: ['x'.repeat(129)] }), ''],
    ['an empty id', () => ({ tickets: [''] }), ''],
    ['an id that is a number', () => ({ tickets: [12] }), ''],
    ['tickets not a list', () => ({ tickets: p.ticketIds[0] }), ''],
    ['an empty body', () => ({}), 'tickets'],
    ['tickets and performance_id together', () => ({ tickets: [p.ticketIds[0]], performance_id: p.id, quantity: 1 }), 'tickets'],
    ['performance_id without quantity', () => ({ performance_id: p.id }), 'tickets'],
    ['quantity without performance_id', () => ({ quantity: 1 }), 'tickets'],
    ['quantity 0', () => ({ performance_id: p.id, quantity: 0 }), ''],
    ['quantity as a string', () => ({ performance_id: p.id, quantity: '2' }), ''],
    ['hold_seconds 0', () => ({ tickets: [p.ticketIds[0]], hold_seconds: 0 }), 'hold_seconds'],
    ['hold_seconds above MAX_HOLD_SECONDS', () => ({ tickets: [p.ticketIds[0]], hold_seconds: 901 }), 'hold_seconds'],
    ['hold_seconds fractional', () => ({ tickets: [p.ticketIds[0]], hold_seconds: 1.5 }), 'hold_seconds'],
    ['hold_seconds above MAX for best available', () => ({ performance_id: p.id, quantity: 1, hold_seconds: 1000 }), 'hold_seconds'],
    ['a buyer email that is not one', () => ({ tickets: [p.ticketIds[0]], buyer: { email: 'nope' } }), ''],
    ['a JSON array body', () => [p.ticketIds[0]], '(body)'],
  ];

  test.each(cases)('%s -> 400 with issues, nothing locked', async (_name, body, path) => {
    const error = expectError(await begin(body()), 400, 'INVALID_REQUEST');
    const issues = error.issues as { path: string; message: string }[];
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue).toEqual({ path: expect.any(String), message: expect.stringMatching(/\S/) });
    if (path) expect(issues.map((i) => i.path)).toContain(path);
    expect((await countsOf(t, p.id)).locked).toBe(0);
    expect((await countsOf(t, q.id)).locked).toBe(0);
  });

  test('the either/or issue says what to send', async () => {
    // tickets with a whole best-available query, or with either half of one: refused, nothing held
    for (const best of [{ performance_id: p.id, quantity: 1 }, { performance_id: p.id }, { quantity: 1 }]) {
      const both = expectError(await begin({ tickets: [p.ticketIds[0]], ...best }), 400, 'INVALID_REQUEST');
      expect(both.issues).toEqual([{ path: 'tickets', message: 'give either tickets or performance_id + quantity, not both' }]);
    }
    expect((await countsOf(t, p.id)).locked).toBe(0);
    // a best-available query lacking either half is refused by the schema, whichever half is missing
    for (const half of [{ quantity: 1 }, { performance_id: p.id }]) {
      const neither = expectError(await begin(half), 400, 'INVALID_REQUEST');
      expect(neither.issues).toEqual([{ path: 'tickets', message: 'give tickets, or performance_id and quantity' }]);
    }
  });

  test("a performance's max_tickets_per_transaction applies to ids and to best available", async () => {
    const small = await createPerformance(t, { rows: 1, seats: 5, extra: { max_tickets_per_transaction: 3 } });
    const e1 = expectError(await begin({ tickets: small.ticketIds.slice(0, 4) }), 400, 'INVALID_REQUEST');
    expect(e1.issues).toEqual([expect.objectContaining({ path: 'tickets', message: expect.stringContaining('3') })]);
    expectError(await begin({ performance_id: small.id, quantity: 4 }), 400, 'INVALID_REQUEST');
    expect((await countsOf(t, small.id)).locked).toBe(0);
    expect((await begin({ tickets: small.ticketIds.slice(0, 3) })).status).toBe(201);
  });
});
