// HTTP: orders and people as the order writer persisted them (API.md "Orders and people"), and /readyz
// (API.md "Operations"). Sales are persisted by an in-process order writer over the app's document store.
import request from 'supertest';
import type { OrderWriter } from '../src/writer/order-writer';
import {
  as,
  expectError,
  ISO_MS,
  KEYS,
  putPerformance,
  startTestApp,
  startTestWriter,
  uniqueId,
  type TestApp,
} from './support/app';
import { waitFor } from './support/spawn';

let t: TestApp;
let writer: OrderWriter | undefined;

beforeAll(async () => {
  t = await startTestApp();
  // the writer reads every performance in this worker's database: start from an empty one
  await t.redis.flushdb();
});
afterAll(async () => {
  await writer?.stop();
  await t.close();
});

async function startWriter() {
  writer ??= await startTestWriter(t);
}
async function stopWriter() {
  await writer?.stop();
  writer = undefined;
}

const ORDER_NUMBER = /^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/;

/** A performance of priced tickets in two sections; returns its id and ticket ids. */
async function performance() {
  const id = uniqueId('ord');
  const tickets = [
    { id: `${id}-A1`, section: 'ORCH', row: 'A', seat: 1, price: 7500, price_level: 'P1' },
    { id: `${id}-A2`, section: 'ORCH', row: 'A', seat: 2, price: 7500, price_level: 'P1' },
    { id: `${id}-B1`, section: 'ORCH', row: 'B', seat: 1, price: 5000, price_level: 'P2' },
    { id: `${id}-B2`, section: 'ORCH', row: 'B', seat: 2, price: 5000, price_level: 'P2' },
    { id: `${id}-C1`, section: 'BALC', row: 'C', seat: 1, price: 2500 },
    { id: `${id}-C2`, section: 'BALC', row: 'C', seat: 2, price: 2500 },
  ];
  await putPerformance(t, id, tickets, { name: 'Orders show' });
  return { id, tickets };
}

/** Holds and completes `ticketIds` as `key`; returns the transaction id and order number. */
async function sell(ticketIds: string[], key: string, extra: Record<string, unknown> = {}) {
  const hold = await request(t.app).post('/transaction').set(as(key)).send({ tickets: ticketIds });
  expect(hold.status).toBe(201);
  const txid = hold.body.transaction_id as string;
  const done = await request(t.app)
    .put(`/transaction/${txid}`)
    .set(as(key))
    .send({ status: 'complete', ...extra });
  expect(done.status).toBe(200);
  expect(done.body.order_number).toMatch(ORDER_NUMBER);
  return { txid, orderNumber: done.body.order_number as string };
}

const getOrder = (orderNumber: string, key = KEYS.admin) => request(t.app).get(`/orders/${orderNumber}`).set(as(key));

/** Waits (bounded) until the document store has the order. */
async function persisted(orderNumber: string) {
  await startWriter();
  return waitFor(`order ${orderNumber} persisted`, async () => {
    const res = await getOrder(orderNumber);
    return res.status === 200 ? res : undefined;
  });
}

describe('GET /orders/{order_number}', () => {
  test('not yet persisted (no writer running) → 404 ORDER_NOT_FOUND; once the writer ran → 200', async () => {
    await stopWriter();
    const p = await performance();
    const { orderNumber } = await sell([p.tickets[4]!.id], KEYS.alice);
    // the sale is complete in Redis, but nothing wrote it to the document store
    await new Promise((r) => setTimeout(r, 300));
    expectError(await getOrder(orderNumber), 404, 'ORDER_NOT_FOUND');
    expectError(await getOrder(orderNumber, KEYS.alice), 404, 'ORDER_NOT_FOUND');
    expect(await t.documents.getOrder(orderNumber)).toBeUndefined();

    const res = await persisted(orderNumber);
    expect(res.body.order.order_number).toBe(orderNumber);
  });

  test('the client that completed it gets the order in the API.md shape; an admin gets the same', async () => {
    const p = await performance();
    const sold = [p.tickets[0]!, p.tickets[1]!, p.tickets[4]!];
    const { txid, orderNumber } = await sell(
      sold.map((x) => x.id),
      KEYS.alice,
      { customer: { email: 'Ann.Lee@Example.com', first_name: 'Ann', last_name: 'Lee' }, payment_reference: 'pay-123' },
    );
    await persisted(orderNumber);

    const mine = await getOrder(orderNumber, KEYS.alice);
    expect(mine.status).toBe(200);
    expect(mine.headers['content-type']).toMatch(/^application\/json/);
    expect(mine.headers['x-request-id']).toBeTruthy();
    const order = mine.body.order;
    expect(mine.body.status).toBe('OK');
    expect(order).toEqual(
      expect.objectContaining({
        order_number: orderNumber,
        transaction_id: txid,
        performance_id: p.id,
        total: 7500 + 7500 + 2500,
        customer: { email: 'Ann.Lee@Example.com', first_name: 'Ann', last_name: 'Lee' },
        person_id: 'ann.lee@example.com',
        client: 'alice',
        ip: expect.stringMatching(/\S/),
        created_at: expect.stringMatching(ISO_MS),
      }),
    );
    expect(order.tickets).toHaveLength(3);
    expect([...order.tickets].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id))).toEqual(
      [...sold]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((x) => expect.objectContaining({ id: x.id, price: x.price, section: x.section, row: x.row, seat: String(x.seat) })),
    );
    expect(order.total).toBe(order.tickets.reduce((sum: number, x: { price: number }) => sum + x.price, 0));
    expect(Date.parse(order.created_at)).toBeLessThanOrEqual(Date.now());

    const admin = await getOrder(orderNumber, KEYS.admin);
    expect(admin.status).toBe(200);
    expect(admin.body.order).toEqual(order);

    // the sold tickets point at the order
    for (const x of sold) {
      const ticket = await request(t.app).get(`/tickets/${x.id}`).set(as(KEYS.admin));
      expect(ticket.body.ticket).toMatchObject({ state: 'sold', order_number: orderNumber, transaction_id: txid });
    }
  });

  test('an order without a customer has customer and person_id null', async () => {
    const p = await performance();
    const { orderNumber } = await sell([p.tickets[5]!.id], KEYS.bob);
    const res = await persisted(orderNumber);
    expect(res.body.order).toMatchObject({ order_number: orderNumber, customer: null, person_id: null, client: 'bob', total: 2500 });
  });

  test("another client's order → 404 ORDER_NOT_FOUND, the same answer as an order that does not exist", async () => {
    const p = await performance();
    const { orderNumber } = await sell([p.tickets[2]!.id], KEYS.alice, { customer: { email: 'private@example.com' } });
    await persisted(orderNumber);

    const theirs = expectError(await getOrder(orderNumber, KEYS.bob), 404, 'ORDER_NOT_FOUND');
    const none = expectError(await getOrder('3333344444', KEYS.bob), 404, 'ORDER_NOT_FOUND');
    expect(theirs.message).toBe(none.message);
    expect(none.message).toBe('No such order (or it is not persisted yet).');
    expect(JSON.stringify(theirs)).not.toContain('private@example.com');
    expect(JSON.stringify(theirs)).not.toContain('alice');
    expectError(await getOrder('3333344444', KEYS.admin), 404, 'ORDER_NOT_FOUND');
  });

  test('no key → 401', async () => {
    expectError(await request(t.app).get('/orders/3333344444'), 401, 'UNAUTHENTICATED');
  });

  test.each([
    ['lower case', 'abcdefghij'],
    ['too long', '3333344444333'],
    ['punctuation', '33333-4444'],
    ['non-ASCII', encodeURIComponent('3333344444é')],
  ])('malformed order number (%s) → 400 INVALID_REQUEST', async (_why, bad) => {
    const error = expectError(await getOrder(bad, KEYS.admin), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'order_number' })]);
  });
});

describe('GET /people?email=', () => {
  test('a client → 403 FORBIDDEN, whatever the query', async () => {
    expectError(await request(t.app).get('/people?email=joe@example.com').set(as(KEYS.alice)), 403, 'FORBIDDEN');
    expectError(await request(t.app).get('/people').set(as(KEYS.bob)), 403, 'FORBIDDEN');
    expectError(await request(t.app).get('/people?email=joe@example.com'), 401, 'UNAUTHENTICATED');
  });

  test('looked up by lower-cased email: two orders as Joe@Example.com and joe@example.com → one person with both', async () => {
    const p = await performance();
    const first = await sell([p.tickets[0]!.id], KEYS.alice, { customer: { email: 'Joe@Example.com', first_name: 'Joe' } });
    const second = await sell([p.tickets[1]!.id], KEYS.bob, { customer: { email: 'joe@example.com', phone: '+1 555 0100' } });
    await persisted(first.orderNumber);
    await persisted(second.orderNumber);

    for (const email of ['joe@example.com', 'Joe@Example.com', 'JOE@EXAMPLE.COM']) {
      const res = await request(t.app).get('/people').query({ email }).set(as(KEYS.admin));
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('OK');
      const person = res.body.person;
      expect(person).toMatchObject({ person_id: 'joe@example.com', first_name: 'Joe', phone: '+1 555 0100' });
      expect(person.email.toLowerCase()).toBe('joe@example.com');
      expect(person.order_numbers).toHaveLength(2);
      expect([...person.order_numbers].sort()).toEqual([first.orderNumber, second.orderNumber].sort());
      expect(person.created_at).toMatch(ISO_MS);
      expect(person.updated_at).toMatch(ISO_MS);
    }
    // both orders carry the same person id
    expect((await getOrder(first.orderNumber)).body.order.person_id).toBe('joe@example.com');
    expect((await getOrder(second.orderNumber)).body.order.person_id).toBe('joe@example.com');
  });

  test('unknown email → 404 PERSON_NOT_FOUND', async () => {
    const res = await request(t.app).get('/people').query({ email: 'nobody-here@example.com' }).set(as(KEYS.admin));
    expect(expectError(res, 404, 'PERSON_NOT_FOUND').message).toBe('No person with that email.');
  });

  test.each([
    ['missing', ''],
    ['empty', '?email='],
    ['not an email', '?email=not-an-email'],
    ['given twice', '?email=a@example.com&email=b@example.com'],
    ['too long', `?email=${'a'.repeat(250)}@example.com`],
  ])('%s email → 400 INVALID_REQUEST', async (_why, query) => {
    const error = expectError(await request(t.app).get(`/people${query}`).set(as(KEYS.admin)), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'email' })]);
  });
});

describe('/readyz', () => {
  test('200 with both checks (redis, document_store), no key needed', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'OK', checks: { redis: 'ok', document_store: 'ok' } });
  });

  test('503 UNAVAILABLE naming the document store when it does not answer', async () => {
    const other = await startTestApp();
    try {
      await other.documents.close();
      const res = await request(other.app).get('/readyz');
      const error = expectError(res, 503, 'UNAVAILABLE');
      expect(error.checks).toEqual({ redis: 'ok', document_store: 'unavailable' });
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await other.close();
    }
  });
});
