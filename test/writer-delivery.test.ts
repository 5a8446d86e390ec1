// The order writer in-process over the test Redis and an in-memory SQLite document store (Invariants 4 and 5 of
// DESIGN.md): a completed sale reaches the document store once and is acknowledged; a redelivered entry changes
// nothing; a second sale of one ticket is refused and recorded; a malformed entry goes to the dead letters and a
// replay writes it; entries pending for a dead consumer are reclaimed by one of two writers.
import { jest } from '@jest/globals';
import { outboxGroup, performanceKeys } from '../src/redis/keys';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { availableScore, createPerformance, KEYS, listen, putBackAvailable, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import {
  ensureGroup,
  pendingByConsumer,
  pendingCount,
  readAsGhost,
  sell,
  waitFor,
  waitHandled,
} from './support/writer-tests';

let t: TestApp;
let http: Listening;
const writers: OrderWriter[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await t.redis.flushdb(); // the writer reads every performance in this database: start from none
  http = await listen(t);
});

afterAll(async () => {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
  await http?.close();
  await t?.close();
});

/** Starts a writer that afterEach stops. */
async function writer(overrides: Parameters<typeof startTestWriter>[1] = {}): Promise<OrderWriter> {
  const w = await startTestWriter(t, overrides);
  writers.push(w);
  return w;
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(writers.splice(0).map((w) => w.stop()));
});

const orderOf = (n: string) => t.documents.getOrder(n);

test('a completed sale reaches the document store (order, person, sales) and its outbox entry is acknowledged', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4, price: 4200 });
  await writer();
  const customer = { email: 'Ada.Lovelace@Example.com', first_name: 'Ada', last_name: 'Lovelace', phone: '+44 1' };
  const tickets = perf.ticketIds.slice(0, 2);
  const sold = await sell(http.server, tickets, customer);

  const order = await waitFor(() => orderOf(sold.order_number), 10_000, 'the order in the document store');
  expect(order).toMatchObject({
    order_number: sold.order_number,
    transaction_id: sold.transaction_id,
    performance_id: perf.id,
    total: 8400,
    customer,
    person_id: 'ada.lovelace@example.com',
    payment_reference: null,
    client: 'alice',
  });
  expect(order.tickets.map((x) => x.id)).toEqual(tickets);
  expect(order.tickets.every((x) => x.price === 4200 && x.section === 'ORCH' && x.row === 'A')).toBe(true);
  expect(Date.parse(order.created_at)).toBeGreaterThanOrEqual(Date.parse(order.completed_at));

  const person = await t.documents.getPerson('ada.lovelace@example.com');
  expect(person).toMatchObject({
    person_id: 'ada.lovelace@example.com',
    email: 'Ada.Lovelace@Example.com',
    first_name: 'Ada',
    last_name: 'Lovelace',
    order_numbers: [sold.order_number],
  });

  const sales = await t.documents.listSoldTickets(perf.id);
  expect(sales).toEqual(
    tickets.map((id) => ({
      ticket_id: id,
      performance_id: perf.id,
      order_number: sold.order_number,
      transaction_id: sold.transaction_id,
    })),
  );

  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the entry acknowledged');
  const groups = (await t.redis.call('XINFO', 'GROUPS', performanceKeys(perf.id).outbox)) as unknown[];
  expect(JSON.stringify(groups)).toContain(outboxGroup);
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);
});

test('a redelivered sale entry changes nothing: one order, the order number once on the person, same sales', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const customer = { email: 'grace@example.com', first_name: 'Grace' };
  const first = await sell(http.server, perf.ticketIds.slice(0, 2), customer);
  // the entry as the complete wrote it (read before a writer runs: its sweep trims acknowledged entries)
  const outbox = performanceKeys(perf.id).outbox;
  const entries = await t.redis.xrange(outbox, '-', '+');
  expect(entries).toHaveLength(1);
  const [, fields] = entries[0] as [string, string[]];
  await writer();
  const order = await waitFor(() => orderOf(first.order_number), 10_000, 'the order');
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the entry acknowledged');
  const personBefore = await t.documents.getPerson(customer.email);
  const salesBefore = await t.documents.listSoldTickets(perf.id);

  // the same entry again, twice (as a writer that died between write and XACK would leave it)
  const copies = [await t.redis.xadd(outbox, '*', ...fields), await t.redis.xadd(outbox, '*', ...fields)];

  await waitHandled(t.redis, perf.id, copies[1] as string);

  expect(await orderOf(first.order_number)).toEqual(order); // not rewritten: same created_at
  const person = await t.documents.getPerson(customer.email);
  expect(person?.order_numbers).toEqual([first.order_number]);
  expect(person).toEqual(personBefore);
  expect(await t.documents.listSoldTickets(perf.id)).toEqual(salesBefore);
  expect(await t.documents.listConflicts(100)).not.toContainEqual(expect.objectContaining({ order_number: first.order_number }));
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);

  // a second order of the same person is appended to the person once
  const second = await sell(http.server, perf.ticketIds.slice(2, 4), { email: 'GRACE@example.com' });
  await waitFor(() => orderOf(second.order_number), 10_000, 'the second order');
  expect((await t.documents.getPerson(customer.email))?.order_numbers).toEqual([first.order_number, second.order_number]);
});

test('a second sale of a sold ticket (Redis lost the sale) is refused by the document store and recorded', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  await writer();
  const x = perf.ticketIds[0] as string;
  const k = performanceKeys(perf.id);
  const score = await availableScore(t.redis, perf.id, x);
  expect(score).not.toBeNull();

  const first = await sell(http.server, [x, perf.ticketIds[1] as string], { email: 'first@example.com' });
  const firstOrder = await waitFor(() => orderOf(first.order_number), 10_000, 'the first order');

  // Redis loses the sale of x: no longer sold, back in the available index as the scripts put it
  await t.redis.hdel(k.sold, x);
  await putBackAvailable(t.redis, perf.id, x, score as number);
  expect(await availableScore(t.redis, perf.id, x)).toBe(score);

  // so the API sells it again, to another order
  const second = await sell(http.server, [x, perf.ticketIds[2] as string], { email: 'second@example.com' }, KEYS.bob);
  expect(second.order_number).not.toBe(first.order_number);

  const conflict = await waitFor(
    async () => (await t.documents.listConflicts(100)).find((c) => c.order_number === second.order_number),
    10_000,
    'the conflict recorded',
  );
  expect(conflict).toMatchObject({
    order_number: second.order_number,
    transaction_id: second.transaction_id,
    performance_id: perf.id,
    tickets: [{ id: x, sold_to_order: first.order_number }],
  });
  expect(conflict.sale.tickets.map((s) => s.id)).toEqual([x, perf.ticketIds[2]]);

  // the first order intact, the second absent, nothing of it written (not even its free ticket)
  expect(await orderOf(first.order_number)).toEqual(firstOrder);
  expect(await orderOf(second.order_number)).toBeUndefined();
  expect(await t.documents.getPerson('second@example.com')).toBeUndefined();
  const sales = await t.documents.listSoldTickets(perf.id);
  expect(sales.map((s) => [s.ticket_id, s.order_number])).toEqual([
    [x, first.order_number],
    [perf.ticketIds[1], first.order_number],
  ]);

  // acknowledged and kept aside in the dead letters, with why
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the conflicting entry acknowledged');
  const dead = (await new DeadLetters(t.redis).list(perf.id)).dead_letters;
  expect(dead.map((d) => [d.fields.order_number, d.fields.error])).toEqual([
    [second.order_number, `conflict: tickets sold to other orders: ${x}→${first.order_number}`],
  ]);
  // Redis lost data: the performance is marked recovering, rehydrated from the store (x sold to the first order
  // again) and then sells on
  await waitFor(async () => (await t.redis.hget(k.sold, x))?.startsWith(`${first.order_number}|`), 10_000, 'x sold to the first order again');
  await waitFor(async () => (await t.redis.hget(k.performance, 'recovering')) === null, 10_000, 'the mark cleared');

  // the conflicting entry redelivered (its fields from the dead letter: the sweep has trimmed it from the outbox):
  // still one conflict on record
  const secondFields = Object.entries(dead[0]?.fields ?? {})
    .filter(([name]) => !['original_id', 'error', 'failed_at'].includes(name))
    .flat();
  expect(secondFields).toContain(second.order_number);
  await waitHandled(t.redis, perf.id, (await t.redis.xadd(k.outbox, '*', ...secondFields)) as string);
  const all = (await t.documents.listConflicts(1000)).filter((c) => c.order_number === second.order_number);
  expect(all).toHaveLength(1);
  expect(await orderOf(second.order_number)).toBeUndefined();
});

test('a malformed entry goes to the dead letters with its error and is acknowledged; a replay of the fixed entry is written', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const k = performanceKeys(perf.id);
  // a real sale, to take well-formed fields from (read before a writer runs: its sweep trims acknowledged entries)
  const real = await sell(http.server, [perf.ticketIds[0] as string]);
  const [, good] = (await t.redis.xrange(k.outbox, '-', '+'))[0] as [string, string[]];
  await writer();
  await waitFor(() => orderOf(real.order_number), 10_000, 'the real order');

  // the same sale under a new order number for another ticket, without its client field
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < good.length; i += 2) fields.set(good[i] as string, good[i + 1] as string);
  const tickets = JSON.parse(fields.get('tickets') as string) as { id: string }[];
  const forgedOrder = `${real.order_number}Q`;
  fields.set('order_number', forgedOrder);
  fields.set('transaction_id', 'forged-transaction');
  fields.set('tickets', JSON.stringify([{ ...tickets[0], id: perf.ticketIds[3] }]));
  const fixed = [...fields].flat();
  fields.delete('client');
  const broken = [...fields].flat();
  const badId = await t.redis.xadd(k.outbox, '*', ...broken);

  const dead = await waitFor(
    async () => {
      const d = (await new DeadLetters(t.redis).list(perf.id)).dead_letters;
      return d.length > 0 ? d : undefined;
    },
    10_000,
    'the dead letter',
  );
  expect(dead).toHaveLength(1);
  expect(dead[0]).toMatchObject({
    performance_id: perf.id,
    fields: expect.objectContaining({ original_id: badId, error: 'sale entry lacks client', order_number: forgedOrder }),
  });
  expect(dead[0]?.fields.failed_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the bad entry acknowledged');
  expect(await orderOf(forgedOrder)).toBeUndefined();

  // an operator fixes the dead letter (puts the missing field back) and replays it
  await t.redis
    .multi()
    .xdel(k.deadLetters, dead[0]?.id as string)
    .xadd(k.deadLetters, '*', 'original_id', badId as string, 'error', 'sale entry lacks client', ...fixed)
    .exec();
  expect(await new DeadLetters(t.redis).replay(perf.id)).toEqual({ replayed: 1 });
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);

  const order = await waitFor(() => orderOf(forgedOrder), 10_000, 'the replayed order');
  expect(order).toMatchObject({ client: 'alice', transaction_id: 'forged-transaction' });
  expect(order.tickets.map((x) => x.id)).toEqual([perf.ticketIds[3]]);
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the replay acknowledged');
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);
});

test('a sale the store keeps failing goes to the dead letters after maxDeliveries; once fixed, a replay writes it', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const k = performanceKeys(perf.id);
  const recordSale = jest
    .spyOn(t.documents, 'recordSale')
    .mockRejectedValue(new Error('value too long for type character varying(10)'));
  await writer({ maxDeliveries: 3 });
  const sold = await sell(http.server, perf.ticketIds.slice(0, 2), { email: 'poison@example.com' });

  const dead = await waitFor(
    async () => {
      const d = (await new DeadLetters(t.redis).list(perf.id)).dead_letters;
      return d.length > 0 ? d : undefined;
    },
    15_000,
    'the dead letter',
  );
  expect(recordSale).toHaveBeenCalledTimes(3);
  expect(dead).toHaveLength(1);
  expect(dead[0]?.fields).toMatchObject({
    order_number: sold.order_number,
    transaction_id: sold.transaction_id,
    error: 'value too long for type character varying(10)',
  });
  expect(await pendingCount(t.redis, perf.id)).toBe(0);
  expect(await orderOf(sold.order_number)).toBeUndefined();

  // the cause is fixed; the replay is written once
  recordSale.mockRestore();
  expect(await new DeadLetters(t.redis).replay(perf.id)).toEqual({ replayed: 1 });
  const order = await waitFor(() => orderOf(sold.order_number), 10_000, 'the replayed order');
  expect(order.tickets.map((x) => x.id)).toEqual(perf.ticketIds.slice(0, 2));
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'the replay acknowledged');
  expect((await t.documents.listSoldTickets(perf.id)).map((s) => s.order_number)).toEqual([
    sold.order_number,
    sold.order_number,
  ]);
  expect(await t.redis.xlen(k.deadLetters)).toBe(0);
});

test('entries pending for a dead consumer are claimed after claimIdleMs by one of two writers and written once', async () => {
  const perf = await createPerformance(t, { rows: 2, seats: 5 });
  await ensureGroup(t.redis, perf.id);
  const sales = [];
  for (let i = 0; i < 5; i++) sales.push(await sell(http.server, perf.ticketIds.slice(2 * i, 2 * i + 2)));
  // a writer that read them and died before acknowledging
  expect(await readAsGhost(t.redis, perf.id, 'ghost', 100)).toHaveLength(5);
  expect(await pendingByConsumer(t.redis, perf.id)).toEqual({ ghost: 5 });

  // every outcome of the store, to see that each sale is written once (any redelivery finds it a duplicate)
  const outcomes: string[] = [];
  const real = t.documents.recordSale.bind(t.documents);
  jest.spyOn(t.documents, 'recordSale').mockImplementation(async (sale) => {
    const r = await real(sale);
    outcomes.push(`${sale.order_number}:${r.outcome}`);
    return r;
  });

  await writer({ consumer: 'w1', claimIdleMs: 1000 });
  await writer({ consumer: 'w2', claimIdleMs: 1000 });

  for (const s of sales) await waitFor(() => orderOf(s.order_number), 15_000, `order ${s.order_number}`);
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'every entry acknowledged');
  expect(await pendingByConsumer(t.redis, perf.id)).toEqual({});

  const written = outcomes.filter((o) => o.endsWith(':written')).map((o) => o.split(':')[0]);
  expect(written.sort()).toEqual(sales.map((s) => s.order_number).sort()); // each written once
  const sold = await t.documents.listSoldTickets(perf.id);
  expect(sold).toHaveLength(10);
  expect(new Set(sold.map((s) => s.ticket_id)).size).toBe(10);
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);
});

test('an entry that keeps killing its writers (delivered more than maxDeliveries times) is swept to the dead letters', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const k = performanceKeys(perf.id);
  await ensureGroup(t.redis, perf.id);
  const poison = await sell(http.server, perf.ticketIds.slice(0, 2));
  const [id] = await readAsGhost(t.redis, perf.id, 'ghost', 10);
  // as if eleven writers had read it and died: the delivery count Redis keeps
  await t.redis.call('XCLAIM', k.outbox, outboxGroup, 'ghost', 0, id as string, 'RETRYCOUNT', 11);

  await writer({ consumer: 'w1', claimIdleMs: 500, maxDeliveries: 10 });
  const dead = await waitFor(
    async () => {
      const d = (await new DeadLetters(t.redis).list(perf.id)).dead_letters;
      return d.length > 0 ? d : undefined;
    },
    10_000,
    'the dead letter',
  );
  expect(dead[0]?.fields).toMatchObject({
    original_id: id,
    error: 'delivered more than 10 times',
    order_number: poison.order_number,
  });
  expect(await pendingCount(t.redis, perf.id)).toBe(0);
  expect(await orderOf(poison.order_number)).toBeUndefined();
});
