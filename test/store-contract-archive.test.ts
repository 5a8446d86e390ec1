// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL: what the archive reads
// and writes — a performance's document and its tickets' owners, its orders, and an archived document that never
// changes again.
import type { TicketDoc } from '../src/domain/documents';
import { describeStoreContract, saleOf, ticketsOf, uid } from './support/store-contract';

describeStoreContract((ctx) => {
  describe('what the archive reads and writes', () => {
    test('getPerformance and ticketPerformances answer what upsertInventory wrote (unknown ids are absent)', async () => {
      const perf = `perf-${uid()}`;
      const doc = { id: perf, code: 41, name: 'Gala', starts_at: '2030-01-01T20:00:00.000Z', ends_at: '2030-01-01T23:00:00.000Z', ends_ms: 1893538800000 };
      const tickets = ticketsOf(perf, 1200);
      await ctx.store.upsertInventory(doc, tickets);
      expect(await ctx.store.getPerformance(perf)).toEqual(doc);
      expect(await ctx.store.getPerformance(`perf-${uid()}`)).toBeUndefined();
      const ids = [...tickets.map((t) => t.id), 'no-such-ticket'];
      const owners = await ctx.store.ticketPerformances(ids);
      expect(owners.size).toBe(1200);
      expect([...owners.values()].every((p) => p === perf)).toBe(true);
      expect(owners.has('no-such-ticket')).toBe(false);
      expect(await ctx.store.ticketPerformances([])).toEqual(new Map());
    });

    test("listPerformanceOrders: the performance's orders with their transaction and tickets, no other's", async () => {
      const perf = `perf-${uid()}`;
      const one = saleOf({ performance: perf, tickets: [`${perf}-A1`, `${perf}-A2`] });
      const two = saleOf({ performance: perf, tickets: [`${perf}-B1`] });
      const other = saleOf();
      for (const sale of [one, two, other]) await ctx.store.recordSale(sale);
      const orders = await ctx.store.listPerformanceOrders(perf);
      expect(orders.sort((x, y) => x.order_number.localeCompare(y.order_number))).toEqual(
        [one, two]
          .map((sale) => ({ order_number: sale.order_number, transaction_id: sale.transaction_id, performance_id: perf, ticket_ids: sale.tickets.map((t) => t.id) }))
          .sort((x, y) => x.order_number.localeCompare(y.order_number)),
      );
      expect(await ctx.store.listPerformanceOrders(`perf-${uid()}`)).toEqual([]);
    });

    test("an archived performance's document never changes again; its tickets may still be upserted", async () => {
      const perf = `perf-${uid()}`;
      await ctx.store.upsertInventory({ id: perf, code: 42, name: 'Before' }, ticketsOf(perf, 2));
      const archive = { archived_at: '2030-01-02T00:00:00.000Z', closed_at: '2030-01-01T23:00:00.000Z', counts: { total: 2, sold: 0 }, orders: 0 };
      await ctx.store.upsertInventory({ id: perf, code: 42, name: 'Archived', archive }, []);
      const [first] = ticketsOf(perf, 1, 6100);
      await ctx.store.upsertInventory({ id: perf, code: 42, name: 'After' }, [first as TicketDoc]);
      expect((await ctx.store.listTickets(perf)).map((t) => t.price)).toEqual([6100, 5000]);
      await ctx.store.upsertInventory({ id: perf, code: 42, name: 'Again', archive: { ...archive, archived_at: '2031-01-01T00:00:00.000Z' } }, []);
      expect(await ctx.store.getPerformance(perf)).toEqual({ id: perf, code: 42, name: 'Archived', archive });
      expect((await ctx.store.listPerformances()).find((p) => p.id === perf)).toEqual({ id: perf, code: 42, name: 'Archived', archive });
    });
  });
});
