// Rehydrate (src/domain/rehydrate.ts, `tixlock rehydrate`): after Redis lost everything, its state is rebuilt from
// the document store: inventory, seat order, sold tickets and their orders, the order sequences and the global
// performance counter. Holds are not restored. Run once on PostgreSQL and once on an SQLite file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { rehydrate } from '../src/domain/rehydrate';
import { performanceKeys, performanceSequenceKey } from '../src/redis/keys';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, expectError, KEYS, putPerformance, startTestApp, startTestWriter, testRedisUrl, uniqueId, type TestApp } from './support/app';
import { createTestDatabase } from './support/postgres';
import { runCli, waitFor } from './support/spawn';

interface Backend {
  url: string;
  cleanup(): Promise<void>;
}

async function postgresBackend(): Promise<Backend> {
  const db = await createTestDatabase();
  return { url: db.url, cleanup: () => db.drop() };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-rehydrate-'));
  return { url: `sqlite:${path.join(dir, 'documents.sqlite')}`, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

type Ticket = { id: string; state: string; order_number?: string; transaction_id?: string; [k: string]: unknown };

const SEARCHES = [
  'quantity=1',
  'quantity=2',
  'quantity=3',
  'quantity=4',
  'quantity=6',
  'quantity=2&section=BALC',
  'quantity=2&price_level=P2',
  'quantity=3&max_price=6000',
];

describe.each([
  ['PostgreSQL', postgresBackend],
  ['SQLite file', sqliteBackend],
])('rehydrate on %s', (_name, makeBackend) => {
  let backend: Backend;
  let t: TestApp;
  let writer: OrderWriter | undefined;
  /** performance id -> its ticket ids */
  const performances = new Map<string, string[]>();
  /** every order number handed out so far */
  const orderNumbers: string[] = [];

  beforeAll(async () => {
    backend = await makeBackend();
    t = await startTestApp({ DOCUMENT_STORE_URL: backend.url });
    // the writer reads every performance in this worker's database, and rehydrate starts from an empty one
    await t.redis.flushdb();
    writer = await startTestWriter(t);
  });

  afterAll(async () => {
    await writer?.stop();
    await t?.close();
    await backend?.cleanup();
  });

  const admin = (req: request.Test) => req.set(as(KEYS.admin));

  /** Stops the order writer (its running sweep included) until the test starts a new one. */
  async function pauseWriter() {
    await writer?.stop();
    writer = undefined;
  }

  /** Rows A-C of 6 seats (A 9000 P1, B 6000 P2 in ORCH; C 3000 P3 in BALC), then row D (9000) in a second PUT. */
  async function loadPerformance(): Promise<{ id: string; ticketIds: string[] }> {
    const id = uniqueId('rh');
    const row = (r: string, price: number, section: string, level: string) =>
      Array.from({ length: 6 }, (_, i) => ({ id: `${id}-${r}${i + 1}`, section, row: r, seat: i + 1, price, price_level: level }));
    const first = [...row('A', 9000, 'ORCH', 'P1'), ...row('B', 6000, 'ORCH', 'P2'), ...row('C', 3000, 'BALC', 'P3')];
    await putPerformance(t, id, first, {
      name: 'Rehydrate show',
      starts_at: '2030-12-01T19:30:00.000Z',
      hold_seconds: 120,
      max_tickets_per_transaction: 6,
    });
    const second = row('D', 9000, 'ORCH', 'P1');
    await putPerformance(t, id, second);
    const ticketIds = [...first, ...second].map((x) => x.id);
    performances.set(id, ticketIds);
    return { id, ticketIds };
  }

  async function hold(key: string, body: Record<string, unknown>) {
    const res = await request(t.app).post('/transaction').set(as(key)).send(body);
    expect(res.status).toBe(201);
    return res.body as { transaction_id: string; tickets: { id: string }[] };
  }

  async function sell(key: string, body: Record<string, unknown>, email?: string) {
    const h = await hold(key, body);
    const done = await request(t.app)
      .put(`/transaction/${h.transaction_id}`)
      .set(as(key))
      .send({ status: 'complete', ...(email ? { customer: { email } } : {}) });
    expect(done.status).toBe(200);
    const orderNumber = done.body.order_number as string;
    expect(orderNumber).toMatch(/^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/);
    orderNumbers.push(orderNumber);
    return { orderNumber, transactionId: h.transaction_id, ticketIds: h.tickets.map((x) => x.id) };
  }

  /** Waits (bounded) until the writer has persisted every order handed out so far. */
  async function allPersisted() {
    for (const n of orderNumbers) {
      await waitFor(`order ${n} persisted`, async () => (await t.documents.getOrder(n)) !== undefined, { timeoutMs: 15_000 });
    }
  }

  /** What a client of the API sees of a performance: settings, counts, every ticket, best-available answers. */
  async function observe(app: TestApp['app'], id: string) {
    const perf = await admin(request(app).get(`/performances/${id}`));
    expect(perf.status).toBe(200);
    const { created_at: _c, updated_at: _u, ...performance } = perf.body.performance;
    const page = await admin(request(app).get(`/performances/${id}/tickets?limit=1000`));
    expect(page.status).toBe(200);
    expect(page.body.next_cursor).toBeNull();
    const tickets = [...(page.body.tickets as Ticket[])].sort((a, b) => a.id.localeCompare(b.id));
    // the best seats for each query, or how many there are when too few (409 NOT_ENOUGH_TICKETS)
    const searches: Record<string, string[] | { available: number }> = {};
    for (const q of SEARCHES) {
      const res = await request(app).get(`/tickets?performance_id=${id}&${q}`).set(as(KEYS.alice));
      if (res.status === 409) searches[q] = { available: expectError(res, 409, 'NOT_ENOUGH_TICKETS').available as number };
      else searches[q] = res.body.tickets.map((x: Ticket) => x.id);
    }
    return { performance, tickets, searches };
  }

  const prefix = (orderNumber: string) => orderNumber.slice(0, 5);
  const codeOf = async (id: string) => Number(await t.redis.hget(performanceKeys(id).performance, 'code'));

  /** Checks the rebuilt state against what was seen before the holds and the flush. */
  async function expectRestored(before: Map<string, Awaited<ReturnType<typeof observe>>>) {
    for (const [id, seen] of before) {
      const now = await observe(t.app, id);
      expect(now.performance.counts).toEqual({ ...seen.performance.counts, locked: 0 });
      expect(now).toEqual(seen);
      // a replica started now (cold caches) finds every ticket through the rebuilt global index
      const replica = await startTestApp({ DOCUMENT_STORE_URL: backend.url });
      try {
        expect(await observe(replica.app, id)).toEqual(seen);
        for (const ticket of seen.tickets) {
          const res = await admin(request(replica.app).get(`/tickets/${ticket.id}`));
          expect(res.status).toBe(200);
          expect(res.body.ticket).toEqual(ticket);
        }
      } finally {
        await replica.close();
      }
    }
  }

  const snapshot = async () => {
    const out = new Map<string, Awaited<ReturnType<typeof observe>>>();
    for (const id of performances.keys()) out.set(id, await observe(t.app, id));
    return out;
  };

  /** Holds that must not survive: an open hold, a checkout, and a released transaction. */
  async function holdSome(id: string) {
    const open = await hold(KEYS.alice, { performance_id: id, quantity: 2, section: 'BALC' });
    const checkout = await hold(KEYS.bob, { performance_id: id, quantity: 1, price_level: 'P2' });
    const co = await request(t.app).put(`/transaction/${checkout.transaction_id}`).set(as(KEYS.bob)).send({ status: 'checkout' });
    expect(co.status).toBe(200);
    const released = await hold(KEYS.alice, { performance_id: id, quantity: 1, price_level: 'P1' });
    expect((await request(t.app).delete(`/transaction/${released.transaction_id}`).set(as(KEYS.alice))).status).toBe(200);
    return [...open.tickets, ...checkout.tickets].map((x) => x.id);
  }

  test('rehydrate(): counts, sold tickets with their orders, seat order and search are back; holds are not', async () => {
    const p = await loadPerformance();
    const q = await loadPerformance();
    expect(await codeOf(p.id)).toBe(1); // a fresh database: the first performances are numbers 1 and 2
    expect(await codeOf(q.id)).toBe(2);

    const soldC = await sell(KEYS.alice, { tickets: [`${p.id}-C1`, `${p.id}-C2`] }, 'Fan@Example.com');
    const soldB = await sell(KEYS.bob, { tickets: [`${p.id}-B3`] });
    const soldBest = await sell(KEYS.alice, { performance_id: p.id, quantity: 3, section: 'ORCH' });
    await sell(KEYS.bob, { performance_id: q.id, quantity: 2 }, 'fan@example.com');
    await allPersisted();

    const before = await snapshot();
    const seenP = before.get(p.id)!;
    expect(seenP.performance.counts).toEqual({ total: 24, available: 18, locked: 0, sold: 6 });
    expect(seenP.performance).toMatchObject({
      id: p.id,
      name: 'Rehydrate show',
      starts_at: '2030-12-01T19:30:00.000Z',
      hold_seconds: 120,
      max_tickets_per_transaction: 6,
    });

    const held = await holdSome(p.id);
    expect((await observe(t.app, p.id)).performance.counts).toEqual({ total: 24, available: 15, locked: 3, sold: 6 });

    // Redis loses everything. The writer is stopped meanwhile: its sweep would find the loss and rehydrate on its own
    // (WRITER_AUTO_REHYDRATE, tested in redis-data-loss), and this test is of rehydrate() itself.
    await pauseWriter();
    const sequences = async (id: string) => (await t.redis.hmget(performanceKeys(id).performance, 'order_seq', 'next_ord')).map(Number);
    const [orderSeqP, nextOrdP] = await sequences(p.id);
    await t.redis.flushdb();
    expectError(await admin(request(t.app).get(`/performances/${p.id}`)), 404, 'PERFORMANCE_NOT_FOUND');

    const results = await rehydrate(t.documents, t.store);
    writer = await startTestWriter(t);
    expect([...results].sort((a, b) => a.performance_id.localeCompare(b.performance_id))).toEqual(
      [
        { performance_id: p.id, tickets: 24, sold: 6 },
        { performance_id: q.id, tickets: 24, sold: 2 },
      ].sort((a, b) => a.performance_id.localeCompare(b.performance_id)),
    );

    await expectRestored(before);
    // the order sequence and the next new ticket's seat order are back where they were (both only ever grow)
    expect(await sequences(p.id)).toEqual([orderSeqP, nextOrdP]);

    // held-but-unsold tickets are simply available again
    for (const id of held) {
      const res = await admin(request(t.app).get(`/tickets/${id}`));
      expect(res.body.ticket).toMatchObject({ id, state: 'available', sold: false });
      expect(res.body.ticket.transaction_id).toBeUndefined();
    }
    // sold tickets are still sold, to their orders
    for (const sale of [soldC, soldB, soldBest]) {
      for (const id of sale.ticketIds) {
        const res = await request(t.app).get(`/tickets/${id}`).set(as(KEYS.alice));
        expect(res.status).toBe(200);
        expect(res.body.ticket).toMatchObject({
          id,
          state: 'sold',
          sold: true,
          order_number: sale.orderNumber,
          transaction_id: sale.transactionId,
        });
      }
    }
    // and cannot be held again
    const again = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [`${p.id}-C1`] });
    expectError(again, 409, 'TICKETS_UNAVAILABLE');
    expect(again.body.error.tickets).toEqual([{ id: `${p.id}-C1`, reason: 'sold' }]);
    expect(Number(await t.redis.get(performanceSequenceKey))).toBe(2);
  });

  test('after rehydrate: a new sale gets a new order number; a new performance a new order-number prefix', async () => {
    const [p, q] = [...performances.keys()] as [string, string];
    const oldPrefixes = new Set(orderNumbers.map(prefix));
    expect(oldPrefixes.size).toBe(2);

    const nextP = await sell(KEYS.alice, { performance_id: p, quantity: 2 });
    const nextQ = await sell(KEYS.bob, { performance_id: q, quantity: 1 });
    for (const sale of [nextP, nextQ]) {
      expect(orderNumbers.filter((n) => n === sale.orderNumber)).toHaveLength(1); // new
      expect(oldPrefixes.has(prefix(sale.orderNumber))).toBe(true); // the performance kept its number
    }
    expect(new Set(orderNumbers).size).toBe(orderNumbers.length);

    // the writer finds the rebuilt outboxes and persists the new sales
    await allPersisted();

    const r = await loadPerformance();
    expect(await codeOf(r.id)).toBe(3);
    const first = await sell(KEYS.alice, { performance_id: r.id, quantity: 1 });
    expect(oldPrefixes.has(prefix(first.orderNumber))).toBe(false);
    expect(new Set(orderNumbers).size).toBe(orderNumbers.length);
    await allPersisted();
  });

  test('tixlock rehydrate (the CLI) after another flush: exit 0, JSON on stdout, the same state', async () => {
    await allPersisted();
    const before = await snapshot();
    const [p] = [...performances.keys()] as [string];
    await holdSome(p);
    const codes = new Map<string, number>();
    for (const id of performances.keys()) codes.set(id, await codeOf(id));

    await pauseWriter(); // as in the first test: the CLI is under test, not the writer's own recovery
    await t.redis.flushdb();
    const run = await runCli(['rehydrate'], { NODE_ENV: 'test', REDIS_URL: testRedisUrl(), DOCUMENT_STORE_URL: backend.url });
    writer = await startTestWriter(t);
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const out = JSON.parse(run.stdout);
    expect(out.status).toBe('OK');
    expect([...out.rehydrated].map((x: { performance_id: string }) => x.performance_id).sort()).toEqual(
      [...performances.keys()].sort(),
    );
    for (const x of out.rehydrated as { performance_id: string; tickets: number; sold: number }[]) {
      const counts = before.get(x.performance_id)!.performance.counts;
      expect(x).toEqual({ performance_id: x.performance_id, tickets: counts.total, sold: counts.sold });
    }

    await expectRestored(before);
    for (const [id, code] of codes) expect(await codeOf(id)).toBe(code);
    expect(Number(await t.redis.get(performanceSequenceKey))).toBe(Math.max(...codes.values()));

    // order numbers stay unique, performance numbers too
    const oldPrefixes = new Set(orderNumbers.map(prefix));
    const next = await sell(KEYS.bob, { performance_id: p, quantity: 2 });
    expect(orderNumbers.filter((n) => n === next.orderNumber)).toHaveLength(1);
    const s = await loadPerformance();
    expect(await codeOf(s.id)).toBe(Math.max(...codes.values()) + 1);
    const first = await sell(KEYS.alice, { performance_id: s.id, quantity: 1 });
    expect(oldPrefixes.has(prefix(first.orderNumber))).toBe(false);
    expect(new Set(orderNumbers).size).toBe(orderNumbers.length);
    await allPersisted();
  });

  test('rehydrate over a live Redis changes nothing: holds, sales and counts stay as they are', async () => {
    await allPersisted();
    const [p] = [...performances.keys()] as [string];
    const live = await hold(KEYS.alice, { tickets: [`${p}-D5`, `${p}-D6`] });
    const before = await snapshot();

    await rehydrate(t.documents, t.store);
    await rehydrate(t.documents, t.store, [p]);

    expect(await snapshot()).toEqual(before);
    const res = await admin(request(t.app).get(`/tickets/${p}-D5`));
    expect(res.body.ticket).toMatchObject({ state: 'locked', transaction_id: live.transaction_id });
    await expect(rehydrate(t.documents, t.store, ['no-such-performance'])).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
  });
});
