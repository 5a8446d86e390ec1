// The document store contract: one suite, run against both adapters (SQLite in a temporary file, PostgreSQL on the
// run's test server in a database of its own). Invariants 4 and 5 of DESIGN.md rest on what it proves: a redelivered
// sale changes nothing, and no ticket is ever sold to two orders.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Customer, DocumentStore, Sale, TicketDoc } from '../src/domain/documents';
import { Unavailable } from '../src/errors';
import { freePort } from '../src/redis/embedded';
import { openDocumentStore, PostgresDocumentStore, SqliteDocumentStore } from '../src/store';
import { createTestDatabase, startPostgres } from './support/postgres';

interface Adapter {
  store: DocumentStore;
  /** a second, independent store on the same database (another writer process) */
  openAnother(): DocumentStore;
  /** the rows of schema_version */
  versions(): Promise<number[]>;
  cleanup(): Promise<void>;
}

const ADAPTERS: [string, () => Promise<Adapter>][] = [
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-store-'));
      const file = path.join(dir, 'contract.sqlite');
      const store = new SqliteDocumentStore(file);
      return {
        store,
        openAnother: () => new SqliteDocumentStore(file),
        versions: async () =>
          (store.db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]).map(
            (r) => r.version,
          ),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      const store = new PostgresDocumentStore(db.url);
      return {
        store,
        openAnother: () => new PostgresDocumentStore(db.url),
        versions: async () =>
          (await store.pool.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).rows.map(
            (r) => r.version,
          ),
        cleanup: () => db.drop(),
      };
    },
  ],
];

const uid = () => randomUUID().slice(0, 8);

function ticketsOf(performanceId: string, n: number, price = 5000, from = 0): TicketDoc[] {
  const out: TicketDoc[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      id: `${performanceId}-T${String(i).padStart(7, '0')}`,
      performance_id: performanceId,
      section: i % 2 ? 'BALC' : 'ORCH',
      row: String.fromCharCode(65 + (Math.floor(i / 100) % 26)),
      seat: String((i % 100) + 1),
      price,
      price_level: price > 6000 ? 'A' : 'B',
      ord: i,
    });
  }
  return out;
}

/** What recordSale answers for a refused sale: the conflict it recorded. */
function conflictOutcome(sale: Sale, tickets: { id: string; sold_to_order: string }[], extra: Record<string, unknown> = {}) {
  return {
    outcome: 'conflict',
    conflict: {
      order_number: sale.order_number,
      transaction_id: sale.transaction_id,
      performance_id: sale.performance_id,
      tickets,
      ...extra,
      sale: JSON.parse(JSON.stringify(sale)),
      recorded_at: expect.stringMatching(ISO_MS),
    },
  };
}

function saleOf(
  opts: { order?: string; performance?: string; tickets?: string[]; customer?: Customer; payment?: string } = {},
): Sale {
  const performance = opts.performance ?? `perf-${uid()}`;
  const ticketIds = opts.tickets ?? [`${performance}-A1`, `${performance}-A2`];
  return {
    order_number: opts.order ?? `1001-${uid()}`,
    transaction_id: `tx-${uid()}`,
    performance_id: performance,
    client: 'alice',
    ip: '10.0.0.1',
    completed_at: '2030-01-02T03:04:05.678Z',
    tickets: ticketIds.map((id, i) => ({
      id,
      price: 5000 + i,
      section: 'ORCH',
      row: 'A',
      seat: String(i + 1),
      price_level: 'B',
    })),
    total: ticketIds.reduce((sum, _id, i) => sum + 5000 + i, 0),
    customer: opts.customer,
    payment_reference: opts.payment,
  };
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(ADAPTERS)('document store contract: %s', (_name, make) => {
  let a: Adapter;
  let store: DocumentStore;
  /** two more writers on the same database, connected (so races really overlap) */
  let others: DocumentStore[] = [];

  beforeAll(async () => {
    a = await make();
    store = a.store;
    await store.migrate();
    others = [a.openAnother(), a.openAnother()];
    await Promise.all(others.map((o) => Promise.all([o.ping(), o.ping(), o.ping()])));
    await Promise.all([store.ping(), store.ping(), store.ping()]);
  });
  afterAll(async () => {
    await Promise.all(others.map((o) => o.close()));
    await store?.close();
    await a?.cleanup();
  });

  describe('schema', () => {
    test('migrate() twice (and concurrently from two stores) is harmless and keeps the data', async () => {
      const sale = saleOf();
      await store.recordSale(sale);
      const before = await a.versions();
      expect(before.length).toBeGreaterThanOrEqual(1);
      await store.migrate();
      const other = a.openAnother();
      try {
        await Promise.all([store.migrate(), other.migrate(), store.migrate()]);
      } finally {
        await other.close();
      }
      expect(await a.versions()).toEqual(before);
      expect(await store.getOrder(sale.order_number)).toBeDefined();
    });

    test('ping() answers; getOrder/getPerson of unknown keys are undefined', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await expect(store.getOrder('no-such-order')).resolves.toBeUndefined();
      await expect(store.getPerson('nobody@example.com')).resolves.toBeUndefined();
      await expect(store.listTickets('no-such-perf')).resolves.toEqual([]);
      await expect(store.listSoldTickets('no-such-perf')).resolves.toEqual([]);
    });
  });

  describe('recordSale', () => {
    test('writes the order, the person and one sale per ticket', async () => {
      const customer = { email: '  Ann.Lee@Example.com ', first_name: 'Ann', last_name: 'Lee', phone: '+1 555 0100' };
      const sale = saleOf({ customer, payment: 'pay-123' });
      const t0 = Date.now();
      await expect(store.recordSale(sale)).resolves.toEqual({ outcome: 'written' });

      const order = await store.getOrder(sale.order_number);
      expect(order).toEqual({
        order_number: sale.order_number,
        transaction_id: sale.transaction_id,
        performance_id: sale.performance_id,
        tickets: sale.tickets,
        total: sale.total,
        customer,
        person_id: 'ann.lee@example.com',
        payment_reference: 'pay-123',
        client: 'alice',
        ip: '10.0.0.1',
        completed_at: sale.completed_at,
        created_at: expect.stringMatching(ISO_MS),
      });
      expect(Date.parse(order?.created_at as string)).toBeGreaterThanOrEqual(t0 - 1000);

      const person = await store.getPerson('ann.lee@example.com');
      expect(person).toEqual({
        person_id: 'ann.lee@example.com',
        email: 'Ann.Lee@Example.com',
        first_name: 'Ann',
        last_name: 'Lee',
        phone: '+1 555 0100',
        order_numbers: [sale.order_number],
        created_at: expect.stringMatching(ISO_MS),
        updated_at: expect.stringMatching(ISO_MS),
      });
      expect(await store.getPerson(' ANN.LEE@example.COM')).toEqual(person);

      expect(await store.listSoldTickets(sale.performance_id)).toEqual(
        sale.tickets.map((t) => ({
          ticket_id: t.id,
          performance_id: sale.performance_id,
          order_number: sale.order_number,
          transaction_id: sale.transaction_id,
        })),
      );
    });

    test('a sale without a customer: customer null, person_id null, no person', async () => {
      const sale = saleOf();
      expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
      const order = await store.getOrder(sale.order_number);
      expect(order).toMatchObject({ customer: null, person_id: null, payment_reference: null });
      expect(await store.listSoldTickets(sale.performance_id)).toHaveLength(2);
    });

    test('a redelivered sale is a duplicate and changes nothing', async () => {
      const email = `red-${uid()}@example.com`;
      const sale = saleOf({ customer: { email, first_name: 'Red' } });
      expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
      const order = await store.getOrder(sale.order_number);
      const person = await store.getPerson(email);
      const sold = await store.listSoldTickets(sale.performance_id);
      const conflicts = await store.listConflicts(1000);

      await new Promise((r) => setTimeout(r, 5)); // so a rewrite would show in a timestamp
      for (let i = 0; i < 3; i++) expect(await store.recordSale(sale)).toEqual({ outcome: 'duplicate' });
      // the same order redelivered with other details still changes nothing
      const altered = { ...sale, customer: { email, first_name: 'Changed', phone: '123' } };
      expect(await store.recordSale(altered)).toEqual({ outcome: 'duplicate' });

      expect(await store.getOrder(sale.order_number)).toEqual(order);
      expect(await store.getPerson(email)).toEqual(person);
      expect(person?.order_numbers).toEqual([sale.order_number]);
      expect(await store.listSoldTickets(sale.performance_id)).toEqual(sold);
      expect(await store.listConflicts(1000)).toEqual(conflicts);
    });

    test('one person per lower-cased email across orders; names and phone updated when given', async () => {
      const local = `joe-${uid()}`;
      const first = saleOf({ customer: { email: `${local.toUpperCase()}@Example.com`, first_name: 'Joe', last_name: 'Bloggs' } });
      const second = saleOf({ customer: { email: `${local}@example.com`, phone: '+44 20 7946 0000' } });
      expect(await store.recordSale(first)).toEqual({ outcome: 'written' });
      const created = await store.getPerson(`${local}@example.com`);
      await new Promise((r) => setTimeout(r, 5));
      expect(await store.recordSale(second)).toEqual({ outcome: 'written' });

      const person = await store.getPerson(`${local}@EXAMPLE.COM`);
      expect(person).toMatchObject({
        person_id: `${local}@example.com`,
        email: `${local.toUpperCase()}@Example.com`, // as first given
        first_name: 'Joe', // kept: the second order gave none
        last_name: 'Bloggs',
        phone: '+44 20 7946 0000', // given by the second order
        order_numbers: [first.order_number, second.order_number],
        created_at: created?.created_at,
      });
      expect(person?.updated_at).not.toBe(created?.updated_at);
      expect((await store.getOrder(second.order_number))?.person_id).toBe(`${local}@example.com`);
      expect((await store.getOrder(first.order_number))?.person_id).toBe(`${local}@example.com`);
    });

    test('a second sale of a sold ticket is refused: conflict recorded, first order intact, second absent', async () => {
      const perf = `perf-${uid()}`;
      const email1 = `first-${uid()}@example.com`;
      const email2 = `second-${uid()}@example.com`;
      const first = saleOf({ performance: perf, tickets: [`${perf}-A1`, `${perf}-A2`], customer: { email: email1 } });
      const second = saleOf({
        performance: perf,
        tickets: [`${perf}-A3`, `${perf}-A2`], // A3 is free, A2 is sold
        customer: { email: email2 },
      });
      expect(await store.recordSale(first)).toEqual({ outcome: 'written' });
      const firstOrder = await store.getOrder(first.order_number);

      const outcome = await store.recordSale(second);
      expect(outcome).toEqual(conflictOutcome(second, [{ id: `${perf}-A2`, sold_to_order: first.order_number }]));
      expect(await store.getOrder(first.order_number)).toEqual(firstOrder);
      expect(await store.getOrder(second.order_number)).toBeUndefined();
      expect(await store.getPerson(email2)).toBeUndefined(); // nothing else written
      const sold = await store.listSoldTickets(perf);
      expect(sold.map((s) => [s.ticket_id, s.order_number])).toEqual([
        [`${perf}-A1`, first.order_number],
        [`${perf}-A2`, first.order_number],
      ]); // A3 not sold

      const [latest] = await store.listConflicts(1);
      expect(latest).toEqual(outcome.outcome === 'conflict' ? outcome.conflict : undefined);

      // the conflicting sale redelivered: the same conflict, not a second record
      const count = (await store.listConflicts(10_000)).length;
      const again = await store.recordSale(second);
      expect(again).toEqual(outcome);
      expect((await store.listConflicts(10_000)).length).toBe(count);
    });

    test('an order number given again to another transaction (Redis rolled back) is a conflict, never a duplicate', async () => {
      const perf = `perf-${uid()}`;
      const joe = saleOf({ performance: perf, tickets: [`${perf}-A1`], customer: { email: `joe-${uid()}@example.com` } });
      const bobEmail = `bob-${uid()}@example.com`;
      // the same number, the same ticket, another transaction: what a rolled-back Redis gives the next buyer
      const bob = { ...saleOf({ performance: perf, tickets: [`${perf}-A1`], customer: { email: bobEmail } }), order_number: joe.order_number };
      // the same number on another ticket
      const carol = { ...saleOf({ performance: perf, tickets: [`${perf}-A9`] }), order_number: joe.order_number };
      expect(await store.recordSale(joe)).toEqual({ outcome: 'written' });
      const joeOrder = await store.getOrder(joe.order_number);

      const outcome = await store.recordSale(bob);
      expect(outcome).toEqual(
        conflictOutcome(bob, [{ id: `${perf}-A1`, sold_to_order: joe.order_number }], { order_number_taken_by: joe.transaction_id }),
      );
      const other = await store.recordSale(carol);
      expect(other).toMatchObject({ outcome: 'conflict', conflict: { tickets: [], order_number_taken_by: joe.transaction_id } });
      // Joe's order untouched; nothing of Bob's or Carol's written; each conflict recorded once
      expect(await store.getOrder(joe.order_number)).toEqual(joeOrder);
      expect(await store.getPerson(bobEmail)).toBeUndefined();
      expect((await store.listSoldTickets(perf)).map((x) => [x.ticket_id, x.transaction_id])).toEqual([[`${perf}-A1`, joe.transaction_id]]);
      const count = (await store.listConflicts(10_000)).length;
      expect(await store.recordSale(bob)).toEqual(outcome);
      expect(await store.recordSale(carol)).toEqual(other);
      expect((await store.listConflicts(10_000)).length).toBe(count);
      // Joe's sale redelivered is still a duplicate
      expect(await store.recordSale(joe)).toEqual({ outcome: 'duplicate' });
    });

    test('lastOrderNumber: the longest, then the greatest, of the performance; undefined when none', async () => {
      const perf = `perf-${uid()}`;
      expect(await store.lastOrderNumber(perf)).toBeUndefined();
      for (const [order, ticket] of [
        ['AAAAA3333Y', 'A1'],
        ['AAAAA433333', 'A2'],
        ['AAAAA34333', 'A3'],
        ['AAAAA3333C', 'A4'],
      ] as const) {
        expect((await store.recordSale(saleOf({ performance: perf, tickets: [`${perf}-${ticket}`], order }))).outcome).toBe('written');
      }
      expect(await store.recordSale(saleOf({ performance: `other-${uid()}`, order: 'AAAAA4333333' }))).toEqual({ outcome: 'written' });
      expect(await store.lastOrderNumber(perf)).toBe('AAAAA433333');
    });

    test('listConflicts(limit) lists the newest first', async () => {
      const perf = `perf-${uid()}`;
      const winner = saleOf({ performance: perf, tickets: [`${perf}-B1`, `${perf}-B2`] });
      await store.recordSale(winner);
      const losers = [1, 2, 3].map(() => saleOf({ performance: perf, tickets: [`${perf}-B1`] }));
      for (const l of losers) expect((await store.recordSale(l)).outcome).toBe('conflict');
      const listed = await store.listConflicts(2);
      expect(listed.map((c) => c.order_number)).toEqual([losers[2]?.order_number, losers[1]?.order_number]);
      expect(listed[0]?.tickets).toEqual([{ id: `${perf}-B1`, sold_to_order: winner.order_number }]);
      expect(await store.listConflicts(0)).toEqual([]);
    });
  });

  describe('concurrency', () => {
    test('200 concurrent sales of distinct orders (2 tickets each): 200 orders, 400 sales', async () => {
      const perf = `perf-${uid()}`;
      const sales = Array.from({ length: 200 }, (_x, i) =>
        saleOf({
          performance: perf,
          tickets: [`${perf}-${i}a`, `${perf}-${i}b`],
          customer: i % 10 === 0 ? { email: `c${i}-${uid()}@example.com` } : undefined,
        }),
      );
      const outcomes = await Promise.all(sales.map((s) => store.recordSale(s)));
      expect(outcomes.every((o) => o.outcome === 'written')).toBe(true);
      const orders = await Promise.all(sales.map((s) => store.getOrder(s.order_number)));
      expect(orders.filter(Boolean)).toHaveLength(200);
      const sold = await store.listSoldTickets(perf);
      expect(sold).toHaveLength(400);
      const byTicket = new Map(sold.map((s) => [s.ticket_id, s.order_number]));
      for (const s of sales) for (const t of s.tickets) expect(byTicket.get(t.id)).toBe(s.order_number);
    });

    test('two different orders racing for a shared ticket: exactly one written, one conflict (repeated)', async () => {
      for (let round = 0; round < 15; round++) {
        const perf = `perf-${uid()}`;
        // overlapping in opposite orders, the shape that deadlocks a naive writer
        const x = saleOf({ performance: perf, tickets: [`${perf}-A1`, `${perf}-A2`, `${perf}-A3`] });
        const y = saleOf({ performance: perf, tickets: [`${perf}-A4`, `${perf}-A3`, `${perf}-A2`] });
        const outcomes = await Promise.all([store.recordSale(x), (others[round % 2] as DocumentStore).recordSale(y)]);
        expect(outcomes.map((o) => o.outcome).sort()).toEqual(['conflict', 'written']);
        const winner = outcomes[0]?.outcome === 'written' ? x : y;
        const loser = winner === x ? y : x;
        expect(await store.getOrder(winner.order_number)).toBeDefined();
        expect(await store.getOrder(loser.order_number)).toBeUndefined();
        const sold = await store.listSoldTickets(perf);
        expect(sold).toHaveLength(3);
        expect(new Set(sold.map((s) => s.order_number))).toEqual(new Set([winner.order_number]));
        const conflict = outcomes.find((o) => o.outcome === 'conflict');
        expect(conflict?.outcome === 'conflict' && conflict.conflict.tickets).toEqual([
          { id: `${perf}-A2`, sold_to_order: winner.order_number },
          { id: `${perf}-A3`, sold_to_order: winner.order_number },
        ].sort((p, q) => loser.tickets.findIndex((t) => t.id === p.id) - loser.tickets.findIndex((t) => t.id === q.id)));
      }
    });

    test('one sale delivered to several writers at once: one written, the rest duplicates', async () => {
      const email = `dup-${uid()}@example.com`;
      const sale = saleOf({ customer: { email } });
      const outcomes = await Promise.all([store, ...others, store].map((s) => s.recordSale(sale)));
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'written']);
      expect((await store.getPerson(email))?.order_numbers).toEqual([sale.order_number]);
      expect(await store.listSoldTickets(sale.performance_id)).toHaveLength(2);
    });

    test('concurrent orders of one person all land in its order numbers', async () => {
      const email = `many-${uid()}@example.com`;
      const sales = Array.from({ length: 12 }, (_x, i) =>
        saleOf({ customer: { email: i % 2 ? email : email.toUpperCase(), first_name: `N${i}` } }),
      );
      const writers = [store, ...others];
      const outcomes = await Promise.all(sales.map((s, i) => (writers[i % 3] as DocumentStore).recordSale(s)));
      expect(outcomes.every((o) => o.outcome === 'written')).toBe(true);
      const person = await store.getPerson(email);
      expect([...(person?.order_numbers ?? [])].sort()).toEqual(sales.map((s) => s.order_number).sort());
    });
  });

  describe('inventory', () => {
    test('upserts 50,000 tickets, then re-upserts with a changed price (sold tickets kept, nothing deleted)', async () => {
      const perf = `perf-${uid()}`;
      const tickets = ticketsOf(perf, 50_000, 5000);
      const t0 = Date.now();
      await store.upsertInventory({ id: perf, code: 1001, name: 'Big show' }, tickets);
      const firstMs = Date.now() - t0;

      const listed = await store.listTickets(perf);
      expect(listed).toHaveLength(50_000);
      expect(listed[0]).toEqual(tickets[0]);
      expect(listed[49_999]).toEqual(tickets[49_999]);
      expect(listed.every((t, i) => t.ord === i)).toBe(true);

      // sell two tickets, then change every price; add 10 tickets; omit the last 100
      const soldIds = [tickets[10]?.id as string, tickets[11]?.id as string];
      expect(await store.recordSale(saleOf({ performance: perf, tickets: soldIds }))).toEqual({ outcome: 'written' });
      const repriced = [...ticketsOf(perf, 49_900, 7000), ...ticketsOf(perf, 10, 7000, 50_000)];
      const t1 = Date.now();
      await store.upsertInventory({ id: perf, code: 1001, name: 'Big show (moved)', hold_seconds: 300 }, repriced);
      const secondMs = Date.now() - t1;
      if (process.env.STORE_TIMING) {
        process.stdout.write(`[${_name}] upsert 50,000 tickets: ${firstMs} ms; re-upsert 49,910: ${secondMs} ms\n`);
      }

      const after = await store.listTickets(perf);
      expect(after).toHaveLength(50_010);
      const byId = new Map(after.map((t) => [t.id, t]));
      expect(byId.get(tickets[0]?.id as string)?.price).toBe(7000);
      expect(byId.get(tickets[0]?.id as string)?.price_level).toBe('A');
      expect(byId.get(soldIds[0] as string)?.price).toBe(5000); // sold: left as it was
      expect(byId.get(soldIds[1] as string)?.price).toBe(5000);
      expect(byId.get(tickets[49_950]?.id as string)?.price).toBe(5000); // not in the second call: kept
      expect(byId.get(`${perf}-T0050009`)).toMatchObject({ price: 7000, ord: 50_009 });
      expect(after.filter((t) => t.price === 7000)).toHaveLength(49_908);

      const performances = await store.listPerformances();
      expect(performances.find((p) => p.id === perf)).toEqual({
        id: perf,
        code: 1001,
        name: 'Big show (moved)',
        hold_seconds: 300,
      });
    }, 60_000);

    test('tickets come back in ord order; a ticket never moves to another performance', async () => {
      const perf = `perf-${uid()}`;
      const tickets = ticketsOf(perf, 5).reverse().map((t, i) => ({ ...t, ord: 100 - i * 10 }));
      await store.upsertInventory({ id: perf, code: 7 }, tickets);
      expect((await store.listTickets(perf)).map((t) => t.ord)).toEqual([60, 70, 80, 90, 100]);

      const thief = `perf-${uid()}`;
      await store.upsertInventory({ id: thief, code: 8 }, [{ ...(tickets[0] as TicketDoc), performance_id: thief }]);
      expect(await store.listTickets(thief)).toEqual([]);
      expect(await store.listTickets(perf)).toHaveLength(5);
      // duplicates within one call: the last one wins
      const t = tickets[1] as TicketDoc;
      await store.upsertInventory({ id: perf, code: 7 }, [{ ...t, price: 1 }, { ...t, price: 2 }]);
      expect((await store.listTickets(perf)).find((x) => x.id === t.id)?.price).toBe(2);
      expect((await store.listPerformances()).filter((p) => p.id === perf || p.id === thief)).toHaveLength(2);
    });
  });

  describe('what the archive reads and writes', () => {
    test('getPerformance and ticketPerformances answer what upsertInventory wrote (unknown ids are absent)', async () => {
      const perf = `perf-${uid()}`;
      const doc = { id: perf, code: 41, name: 'Gala', starts_at: '2030-01-01T20:00:00.000Z', ends_at: '2030-01-01T23:00:00.000Z', ends_ms: 1893538800000 };
      const tickets = ticketsOf(perf, 1200);
      await store.upsertInventory(doc, tickets);
      expect(await store.getPerformance(perf)).toEqual(doc);
      expect(await store.getPerformance(`perf-${uid()}`)).toBeUndefined();
      const ids = [...tickets.map((t) => t.id), 'no-such-ticket'];
      const owners = await store.ticketPerformances(ids);
      expect(owners.size).toBe(1200);
      expect([...owners.values()].every((p) => p === perf)).toBe(true);
      expect(owners.has('no-such-ticket')).toBe(false);
      expect(await store.ticketPerformances([])).toEqual(new Map());
    });

    test("listPerformanceOrders: the performance's orders with their transaction and tickets, no other's", async () => {
      const perf = `perf-${uid()}`;
      const one = saleOf({ performance: perf, tickets: [`${perf}-A1`, `${perf}-A2`] });
      const two = saleOf({ performance: perf, tickets: [`${perf}-B1`] });
      const other = saleOf();
      for (const sale of [one, two, other]) await store.recordSale(sale);
      const orders = await store.listPerformanceOrders(perf);
      expect(orders.sort((x, y) => x.order_number.localeCompare(y.order_number))).toEqual(
        [one, two]
          .map((sale) => ({ order_number: sale.order_number, transaction_id: sale.transaction_id, performance_id: perf, ticket_ids: sale.tickets.map((t) => t.id) }))
          .sort((x, y) => x.order_number.localeCompare(y.order_number)),
      );
      expect(await store.listPerformanceOrders(`perf-${uid()}`)).toEqual([]);
    });

    test("an archived performance's document never changes again; its tickets may still be upserted", async () => {
      const perf = `perf-${uid()}`;
      await store.upsertInventory({ id: perf, code: 42, name: 'Before' }, ticketsOf(perf, 2));
      const archive = { archived_at: '2030-01-02T00:00:00.000Z', closed_at: '2030-01-01T23:00:00.000Z', counts: { total: 2, sold: 0 }, orders: 0 };
      await store.upsertInventory({ id: perf, code: 42, name: 'Archived', archive }, []);
      const [first] = ticketsOf(perf, 1, 6100);
      await store.upsertInventory({ id: perf, code: 42, name: 'After' }, [first as TicketDoc]);
      expect((await store.listTickets(perf)).map((t) => t.price)).toEqual([6100, 5000]);
      await store.upsertInventory({ id: perf, code: 42, name: 'Again', archive: { ...archive, archived_at: '2031-01-01T00:00:00.000Z' } }, []);
      expect(await store.getPerformance(perf)).toEqual({ id: perf, code: 42, name: 'Archived', archive });
      expect((await store.listPerformances()).find((p) => p.id === perf)).toEqual({ id: perf, code: 42, name: 'Archived', archive });
    });
  });
});

describe('PostgreSQL unavailable', () => {
  test('a store pointed at a closed port answers Unavailable at once, not a hang', async () => {
    const port = await freePort();
    const store = new PostgresDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`);
    try {
      const t0 = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
      await expect(store.recordSale(saleOf())).rejects.toBeInstanceOf(Unavailable);
      await expect(store.getOrder('x')).rejects.toBeInstanceOf(Unavailable);
      await expect(store.upsertInventory({ id: 'p', code: 1 }, [])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(Date.now() - t0).toBeLessThan(3000);
      await expect(openDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`, os.tmpdir())).rejects.toBeInstanceOf(
        Unavailable,
      );
    } finally {
      await store.close();
    }
  });

  test('a server that accepts but never answers: Unavailable within the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => void sockets.push(s)); // accepts, says nothing
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const store = new PostgresDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`, { connectTimeoutMs: 1000 });
    try {
      const t0 = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(5000);
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('PostgreSQL stopped mid-run: Unavailable quickly; after a restart the same store works again', async () => {
    const pg = await startPostgres();
    const store = new PostgresDocumentStore(pg.url);
    try {
      await store.migrate();
      const first = saleOf();
      expect(await store.recordSale(first)).toEqual({ outcome: 'written' });

      await pg.stop(); // pooled idle connections are terminated: the pool's error listener keeps the process alive
      const t0 = Date.now();
      await expect(store.recordSale(saleOf())).rejects.toBeInstanceOf(Unavailable);
      await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
      expect(Date.now() - t0).toBeLessThan(5000);

      await pg.start();
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.recordSale(first)).toEqual({ outcome: 'duplicate' });
      const second = saleOf();
      expect(await store.recordSale(second)).toEqual({ outcome: 'written' });
      expect(await store.getOrder(second.order_number)).toBeDefined();
    } finally {
      await store.close();
      await pg.destroy();
    }
  }, 60_000);
});

describe('openDocumentStore', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-open-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('unset: an SQLite file <dataDir>/tixlock.sqlite, migrated', async () => {
    const dataDir = path.join(dir, 'data');
    const store = await openDocumentStore(undefined, dataDir);
    try {
      expect(store).toBeInstanceOf(SqliteDocumentStore);
      expect(fs.existsSync(path.join(dataDir, 'tixlock.sqlite'))).toBe(true);
      expect(((store as SqliteDocumentStore).db.pragma('journal_mode', { simple: true }) as string).toLowerCase()).toBe('wal');
      expect(await store.recordSale(saleOf())).toEqual({ outcome: 'written' });
    } finally {
      await store.close();
    }
  });

  test('sqlite:PATH and sqlite::memory:', async () => {
    const file = path.join(dir, 'sub', 'x.sqlite');
    const onFile = await openDocumentStore(`sqlite:${file}`, '/nonexistent');
    await onFile.close();
    expect(fs.existsSync(file)).toBe(true);
    const mem = await openDocumentStore('sqlite::memory:', '/nonexistent');
    try {
      expect((mem as SqliteDocumentStore).file).toBe(':memory:');
      await expect(mem.listPerformances()).resolves.toEqual([]);
    } finally {
      await mem.close();
    }
  });

  test('postgres:// and postgresql:// open PostgreSQL', async () => {
    const db = await createTestDatabase();
    try {
      for (const url of [db.url, db.url.replace(/^postgres:/, 'postgresql:')]) {
        const store = await openDocumentStore(url, dir);
        try {
          expect(store).toBeInstanceOf(PostgresDocumentStore);
          await expect(store.ping()).resolves.toBeUndefined();
        } finally {
          await store.close();
        }
      }
    } finally {
      await db.drop();
    }
  });

  test('anything else is refused, naming DOCUMENT_STORE_URL', async () => {
    for (const url of ['mysql://x@y/z', 'redis://localhost', 'sqlite:', '/tmp/file.sqlite']) {
      await expect(openDocumentStore(url, dir)).rejects.toThrow(/DOCUMENT_STORE_URL/);
    }
  });
});
