// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL, read across page ends:
// PostgreSQL lists tickets, sold tickets and orders in pages (keyset reads, 20,000 rows by default) and upserts
// tickets in batches (5,000); here the PostgreSQL stores page and batch by PAGE rows, so every listing below has
// exactly a page, a page and one more, several pages, or less than a page. Every row comes back once, in order.
import type { DocumentStore, Sale, TicketDoc } from '../src/domain/documents';
import type { PostgresDocumentStore } from '../src/store';
import { describeStoreContract, saleOf, ticketsOf, uid } from './support/store-contract';

const PAGE = 3;
/** less than a page, exactly one, one more, two exactly, two and one more */
const SIZES = [2, PAGE, PAGE + 1, 2 * PAGE, 2 * PAGE + 1];

/** Sales of `perf` that sell `ticketCount` tickets, `perSale` tickets a sale; order numbers in ticket order. */
function salesOf(perf: string, ticketCount: number, perSale: number): Sale[] {
  const sales: Sale[] = [];
  for (let i = 0; i < ticketCount; i += perSale) {
    const ids = Array.from({ length: Math.min(perSale, ticketCount - i) }, (_, k) => `${perf}-S${String(i + k).padStart(4, '0')}`);
    sales.push(saleOf({ performance: perf, tickets: ids, order: `${perf}-O${String(sales.length).padStart(4, "0")}` }));
  }
  return sales;
}

async function recordAll(store: DocumentStore, sales: Sale[]) {
  for (const sale of sales) expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
}

describeStoreContract(
  (ctx) => {
    describe('reads across page ends', () => {
      test.each(SIZES)('listTickets of %i tickets: each once, in ord order; none of another performance', async (n) => {
        const perf = `perf-${uid()}`;
        const neighbour = `perf-${uid()}`;
        const tickets = ticketsOf(perf, n);
        await ctx.store.upsertInventory({ id: neighbour, code: 2 }, ticketsOf(neighbour, n + 1));
        await ctx.store.upsertInventory({ id: perf, code: 1 }, [...tickets].reverse());
        expect(await ctx.store.listTickets(perf)).toEqual(tickets);
      });

      test('listTickets: tickets of one ord across page ends come in ticket id order, none skipped', async () => {
        const perf = `perf-${uid()}`;
        // every ticket at ord 5 but the last two: the keyset's ticket id carries the reads over the page ends
        const tickets = ticketsOf(perf, 2 * PAGE + 3).map((t, i) => ({ ...t, ord: i < 2 * PAGE + 1 ? 5 : 6 + i }));
        await ctx.store.upsertInventory({ id: perf, code: 1 }, [...tickets].reverse());
        expect(await ctx.store.listTickets(perf)).toEqual(tickets);
      });

      test.each(SIZES)('listSoldTickets of %i tickets: each once, in ticket id order', async (n) => {
        const perf = `perf-${uid()}`;
        const sales = salesOf(perf, n, 2);
        await recordAll(ctx.store, sales);
        await recordAll(ctx.store, salesOf(`perf-${uid()}`, n, 2)); // another performance's
        expect(await ctx.store.listSoldTickets(perf)).toEqual(
          sales.flatMap((s) =>
            s.tickets.map((t) => ({ ticket_id: t.id, performance_id: perf, order_number: s.order_number, transaction_id: s.transaction_id })),
          ),
        );
      });

      test.each(SIZES)('listPerformanceOrders of %i orders: each once, with its tickets', async (n) => {
        const perf = `perf-${uid()}`;
        const sales = salesOf(perf, 2 * n, 2); // n orders of two tickets
        await recordAll(ctx.store, sales);
        await recordAll(ctx.store, salesOf(`perf-${uid()}`, 2, 2));
        const listed = await ctx.store.listPerformanceOrders(perf); // in no set order (the port says so)
        expect([...listed].sort((a, b) => (a.order_number < b.order_number ? -1 : 1))).toEqual(
          sales.map((s) => ({
            order_number: s.order_number,
            transaction_id: s.transaction_id,
            performance_id: perf,
            ticket_ids: s.tickets.map((t) => t.id),
          })),
        );
      });
    });

    describe('writes across batch ends', () => {
      test('upsertInventory of more tickets than a batch, again with new prices: every ticket once, the last price', async () => {
        const perf = `perf-${uid()}`;
        const n = 2 * PAGE + 2;
        await ctx.store.upsertInventory({ id: perf, code: 1 }, ticketsOf(perf, n, 1000));
        const sold = ticketsOf(perf, n)[PAGE] as TicketDoc; // in the second batch: keeps its price
        expect(await ctx.store.recordSale(saleOf({ performance: perf, tickets: [sold.id] }))).toEqual({ outcome: 'written' });
        // the second call lists the first ticket again at its end (the last occurrence wins)
        const repriced = [...ticketsOf(perf, n, 2000), { ...(ticketsOf(perf, 1)[0] as TicketDoc), price: 3000 }];
        await ctx.store.upsertInventory({ id: perf, code: 1 }, repriced);
        const prices = (await ctx.store.listTickets(perf)).map((t) => [t.id, t.price]);
        expect(prices).toEqual(ticketsOf(perf, n).map((t, i) => [t.id, i === 0 ? 3000 : i === PAGE ? 1000 : 2000]));

        const ids = ticketsOf(perf, n).map((t) => t.id);
        const where = await ctx.store.ticketPerformances([...ids, `${perf}-unknown`]);
        expect([...where.entries()].sort()).toEqual(ids.map((id) => [id, perf]));
      });
    });

    // SQLite reads a listing in one statement
    if (ctx.name === 'postgres') describe('PostgreSQL reads at most a page a statement and stops at the first short page', () => {
      test.each(SIZES)('%i sold tickets and orders', async (n) => {
        const perf = `perf-${uid()}`;
        await recordAll(ctx.store, salesOf(perf, n, 1));
        const store = ctx.store as PostgresDocumentStore;
        const pages = await pagesRead(store, async () => {
          expect(await store.listSoldTickets(perf)).toHaveLength(n);
          expect(await store.listPerformanceOrders(perf)).toHaveLength(n);
        });
        // one page more than the full ones: the short (maybe empty) last page ends the listing
        const full = Math.floor(n / PAGE);
        const expected = [...Array<number>(full).fill(PAGE), n % PAGE];
        expect(pages).toEqual([...expected, ...expected]);
      });

      test.each(SIZES)('%i tickets', async (n) => {
        const perf = `perf-${uid()}`;
        await ctx.store.upsertInventory({ id: perf, code: 1 }, ticketsOf(perf, n));
        const store = ctx.store as PostgresDocumentStore;
        const pages = await pagesRead(store, async () => expect(await store.listTickets(perf)).toHaveLength(n));
        expect(pages).toEqual([...Array<number>(Math.floor(n / PAGE)).fill(PAGE), n % PAGE]);
      });

      test.each(SIZES)('ticketPerformances of %i ids: a batch of ids a statement', async (n) => {
        const perf = `perf-${uid()}`;
        const ids = ticketsOf(perf, n).map((t) => t.id);
        await ctx.store.upsertInventory({ id: perf, code: 1 }, ticketsOf(perf, n));
        const store = ctx.store as PostgresDocumentStore;
        const runs = await statementsRun(store, async () => expect((await store.ticketPerformances(ids)).size).toBe(n));
        const batches = runs.map((r) => r.params[0]);
        expect(batches).toEqual(Array.from({ length: Math.ceil(n / PAGE) }, (_, i) => ids.slice(i * PAGE, (i + 1) * PAGE)));
      });
    });
  },
  { postgres: { readPageRows: PAGE, ticketBatchRows: PAGE } },
);

/** The statements the store's pool runs while `read` runs (the real pool runs them): parameters and row counts. */
async function statementsRun(store: PostgresDocumentStore, read: () => Promise<void>) {
  const query = store.pool.query.bind(store.pool) as (...args: unknown[]) => Promise<{ rowCount: number | null }>;
  const runs: Promise<{ params: unknown[]; rowCount: number }>[] = [];
  const spy = jest.spyOn(store.pool, 'query').mockImplementation(((sql: unknown, params: unknown[] = []) => {
    const result = query(sql, params);
    runs.push(result.then((r) => ({ params, rowCount: r.rowCount ?? 0 })));
    return result;
  }) as never);
  try {
    await read();
  } finally {
    spy.mockRestore();
  }
  return Promise.all(runs);
}

/** The row counts of the statements run while `read` runs. */
const pagesRead = async (store: PostgresDocumentStore, read: () => Promise<void>) =>
  (await statementsRun(store, read)).map((r) => r.rowCount);
