// 200 concurrent completions through the HTTP API with the order writer running on PostgreSQL: every one reaches the
// document store once (Invariant 4). Prints the complete-to-persisted latency (order.created_at − order.completed_at);
// it is measured, not asserted.
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { createPerformance, KEYS, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { createTestDatabase } from './support/postgres';
import { pendingCount, percentile, sell, waitFor, type Sold } from './support/writer-tests';

const TRANSACTIONS = 200;
const K = 2; // tickets per transaction
const BATCH = 50; // completions in flight at once

let t: TestApp;
let http: Listening;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let writer: OrderWriter | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestApp({ DOCUMENT_STORE_URL: db.url });
  await t.redis.flushdb(); // the writer reads every performance in this database: start from none
  http = await listen(t);
});

afterAll(async () => {
  await writer?.stop();
  await http?.close();
  await t?.close();
  await db?.drop();
});

test(`${TRANSACTIONS} concurrent completions of ${K} tickets → ${TRANSACTIONS} orders and ${TRANSACTIONS * K} sales on PostgreSQL`, async () => {
  const perf = await createPerformance(t, { rows: 20, seats: (TRANSACTIONS * K) / 20 });
  expect(perf.ticketIds).toHaveLength(TRANSACTIONS * K);
  writer = await startTestWriter(t);

  const sold: Sold[] = [];
  for (let b = 0; b < TRANSACTIONS; b += BATCH) {
    const batch = [];
    for (let i = b; i < Math.min(TRANSACTIONS, b + BATCH); i++) {
      const tickets = perf.ticketIds.slice(i * K, i * K + K);
      batch.push(sell(http.server, tickets, { email: `buyer${i % 37}@example.com` }, i % 2 ? KEYS.bob : KEYS.alice));
    }
    sold.push(...(await Promise.all(batch)));
  }
  expect(new Set(sold.map((s) => s.order_number)).size).toBe(TRANSACTIONS);

  await waitFor(
    async () => (await t.documents.listSoldTickets(perf.id)).length === TRANSACTIONS * K,
    20_000,
    `${TRANSACTIONS * K} sales persisted`,
  );
  await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 'every entry acknowledged');

  const orders = await Promise.all(sold.map((s) => t.documents.getOrder(s.order_number)));
  expect(orders.filter((o) => o !== undefined)).toHaveLength(TRANSACTIONS);
  for (const [i, o] of orders.entries()) {
    expect(o?.tickets.map((x) => x.id)).toEqual(sold[i]?.tickets);
    expect(o?.transaction_id).toBe(sold[i]?.transaction_id);
  }

  const sales = await t.documents.listSoldTickets(perf.id);
  expect(sales).toHaveLength(TRANSACTIONS * K);
  expect(new Set(sales.map((s) => s.ticket_id))).toEqual(new Set(perf.ticketIds));
  const orderOfTicket = new Map(sold.flatMap((s) => s.tickets.map((id) => [id, s.order_number] as const)));
  for (const s of sales) expect(s.order_number).toBe(orderOfTicket.get(s.ticket_id));

  // people: each buyer lists each of their orders once
  const people = await Promise.all(Array.from({ length: 37 }, (_, i) => t.documents.getPerson(`buyer${i}@example.com`)));
  const listed = people.flatMap((p) => p?.order_numbers ?? []);
  expect(listed.sort()).toEqual(sold.map((s) => s.order_number).sort());

  expect(await t.documents.listConflicts(10)).toEqual([]);
  expect((await new DeadLetters(t.redis).list(perf.id)).dead_letters).toEqual([]);

  const latencies = orders.map((o) => Date.parse(o?.created_at ?? '') - Date.parse(o?.completed_at ?? ''));
  expect(latencies.every((ms) => Number.isFinite(ms))).toBe(true);
  const created = orders.map((o) => Date.parse(o?.created_at ?? ''));
  const completed = orders.map((o) => Date.parse(o?.completed_at ?? ''));
  console.log(
    `order writer on PostgreSQL, ${TRANSACTIONS} concurrent completions (${BATCH} in flight, ${TRANSACTIONS * K} tickets, ` +
      `API and writer in one process): complete-to-persisted latency over ${latencies.length} sales: ` +
      `median ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms; ` +
      `written over ${Math.max(...created) - Math.min(...completed)} ms from the first completion`,
  );
});

test('baseline: one completion at a time, the latency of a single sale', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 * 20 });
  writer ??= await startTestWriter(t);
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = await sell(http.server, perf.ticketIds.slice(2 * i, 2 * i + 2));
    const o = await waitFor(() => t.documents.getOrder(s.order_number), 5000, `order ${s.order_number}`);
    latencies.push(Date.parse(o.created_at) - Date.parse(o.completed_at));
  }
  expect(await t.documents.listSoldTickets(perf.id)).toHaveLength(40);
  console.log(
    `order writer on PostgreSQL, one completion at a time: complete-to-persisted latency over ${latencies.length} sales: ` +
      `median ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
  );
});
