// PostgreSQL stopped for several seconds during a burst of completions, then started again: the order writer keeps
// the sales pending, retries, and persists every one exactly once (Invariant 4); nothing is dead-lettered.
import { jest } from '@jest/globals';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { startPostgres, type TestPostgres } from './support/postgres';
import { pendingCount, pendingIdleMs, sell, waitFor, type Sold } from './support/writer-tests';

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
  // what the writer met: each write's outcome or error code, and every ping that found the store down
  const failedWrites: string[] = [];
  let failedPings = 0;
  const real = t.documents.recordSale.bind(t.documents);
  jest.spyOn(t.documents, 'recordSale').mockImplementation(async (sale) => {
    try {
      const r = await real(sale);
      outcomes.push(`${sale.order_number}:${r.outcome}`);
      return r;
    } catch (err) {
      failedWrites.push(`${sale.order_number}:${(err as { code?: string }).code}`);
      throw err;
    }
  });
  const realPing = t.documents.ping.bind(t.documents);
  jest.spyOn(t.documents, 'ping').mockImplementation(() =>
    realPing().catch((err: unknown) => {
      failedPings++;
      throw err;
    }),
  );
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

  // The writer meets the outage, and stays in it long enough that a writer counting its retries as deliveries
  // would pass the poison threshold: a write of the burst failed as UNAVAILABLE; then the writer found the store
  // down more than maxDeliveries times more; and every pending entry has been idle longer than claimIdleMs, so a
  // sweep that ignored the outage would claim it (each claim counts a delivery). Events, not a sleep.
  const firstFailure = await waitFor(() => failedWrites[0], 20_000, 'a write of the burst failing on the outage');
  expect(firstFailure).toMatch(/:UNAVAILABLE$/);
  const pingsAtFailure = failedPings;
  await waitFor(() => failedPings > pingsAtFailure + 3, 20_000, 'the writer finding the store down 4 more times');
  await waitFor(
    async () => {
      const idle = await pendingIdleMs(t.redis, perf.id);
      return idle.length > 0 && idle.every((ms) => ms > 1000);
    },
    20_000,
    'every pending entry idle longer than claimIdleMs (1 s)',
  );
  expect(pg.running()).toBe(false);
  expect(outcomes).toEqual([`${before.order_number}:written`]); // nothing was written during the outage
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
