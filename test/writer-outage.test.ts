// PostgreSQL stopped for several seconds during a burst of completions, then started again: the order writer keeps
// the sales pending, retries, and persists every one exactly once (Invariant 4); nothing is dead-lettered.
import { jest } from '@jest/globals';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { startPostgres, type TestPostgres } from './support/postgres';
import { pendingCount, sell, waitFor, type Sold } from './support/writer-tests';

const TRANSACTIONS = 30;
const K = 2;

let pg: TestPostgres;
let t: TestApp;
let http: Listening;
let writer: OrderWriter | undefined;

beforeAll(async () => {
  pg = await startPostgres();
  t = await startTestApp({ DOCUMENT_STORE_URL: pg.url });
  await t.redis.flushdb(); // the writer reads every performance in this database: start from none
  http = await listen(t);
}, 60_000);

afterAll(async () => {
  await writer?.stop();
  await http?.close();
  await t?.close();
  await pg?.destroy();
}, 30_000);

test(`PostgreSQL down during a burst of ${TRANSACTIONS} completions, then up → every sale persisted once`, async () => {
  const perf = await createPerformance(t, { rows: 3, seats: (TRANSACTIONS * K) / 3 });
  const outcomes: string[] = [];
  const real = t.documents.recordSale.bind(t.documents);
  jest.spyOn(t.documents, 'recordSale').mockImplementation(async (sale) => {
    const r = await real(sale);
    outcomes.push(`${sale.order_number}:${r.outcome}`);
    return r;
  });
  // A low poison threshold: an entry re-read while the store is down must not count towards it (the writer once
  // dead-lettered the sale at the head of the outbox after an outage of a few seconds).
  writer = await startTestWriter(t, { maxDeliveries: 3 });

  // the writer works before the outage
  const before = await sell(http.server, perf.ticketIds.slice(0, K), { email: 'early@example.com' });
  await waitFor(() => t.documents.getOrder(before.order_number), 10_000, 'the first order');

  await pg.stop();
  await expect(t.documents.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });

  // the API completes without the document store
  const sold: Sold[] = [before];
  const burst = [];
  for (let i = 1; i < TRANSACTIONS; i++) {
    burst.push(sell(http.server, perf.ticketIds.slice(i * K, i * K + K), { email: `buyer${i % 7}@example.com` }));
  }
  sold.push(...(await Promise.all(burst)));
  expect(new Set(sold.map((s) => s.order_number)).size).toBe(TRANSACTIONS);

  await new Promise((r) => setTimeout(r, 3000)); // the writer meets the outage for a while
  expect(pg.running()).toBe(false);
  await pg.start();

  await waitFor(
    async () => (await t.documents.listSoldTickets(perf.id)).length === TRANSACTIONS * K,
    20_000,
    `${TRANSACTIONS * K} sales persisted`,
  );
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 10_000, 'every entry acknowledged');

  const orders = await Promise.all(sold.map((s) => t.documents.getOrder(s.order_number)));
  expect(orders.filter((o) => o !== undefined)).toHaveLength(TRANSACTIONS);
  const sales = await t.documents.listSoldTickets(perf.id);
  expect(sales).toHaveLength(TRANSACTIONS * K);
  const orderOfTicket = new Map(sold.flatMap((s) => s.tickets.map((id) => [id, s.order_number] as const)));
  for (const s of sales) expect(s.order_number).toBe(orderOfTicket.get(s.ticket_id));

  // written once each: any other delivery found a duplicate
  const written = outcomes.filter((o) => o.endsWith(':written')).map((o) => o.split(':')[0]);
  expect(written.sort()).toEqual(sold.map((s) => s.order_number).sort());
  expect(outcomes.filter((o) => o.endsWith(':conflict'))).toEqual([]);

  const people = await Promise.all(Array.from({ length: 7 }, (_, i) => t.documents.getPerson(`buyer${i}@example.com`)));
  expect(people.flatMap((p) => p?.order_numbers ?? []).sort()).toEqual(
    sold.slice(1).map((s) => s.order_number).sort(),
  );

  expect((await new DeadLetters(t.redis).list()).dead_letters).toEqual([]);
  expect(await t.documents.listConflicts(10)).toEqual([]);
  expect(await pendingCount(t.redis, perf.id)).toBe(0);
}, 45_000);
