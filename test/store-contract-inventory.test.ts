// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL: inventory — 50,000
// tickets upserted and re-upserted (sold tickets and omitted tickets kept), listed in ord order, never moved to
// another performance.
import type { TicketDoc } from '../src/domain/documents';
import { describeStoreContract, saleOf, ticketsOf, uid } from './support/store-contract';

describeStoreContract((ctx) => {
  describe('inventory', () => {
    test('upserts 50,000 tickets, then re-upserts with a changed price (sold tickets kept, nothing deleted)', async () => {
      const perf = `perf-${uid()}`;
      const tickets = ticketsOf(perf, 50_000, 5000);
      await ctx.store.upsertInventory({ id: perf, code: 1001, name: 'Big show' }, tickets);

      const listed = await ctx.store.listTickets(perf);
      expect(listed).toHaveLength(50_000);
      expect(listed[0]).toEqual(tickets[0]);
      expect(listed[49_999]).toEqual(tickets[49_999]);
      expect(listed.every((t, i) => t.ord === i)).toBe(true);

      // sell two tickets, then change every price; add 10 tickets; omit the last 100
      const soldIds = [tickets[10]?.id as string, tickets[11]?.id as string];
      expect(await ctx.store.recordSale(saleOf({ performance: perf, tickets: soldIds }))).toEqual({ outcome: 'written' });
      const repriced = [...ticketsOf(perf, 49_900, 7000), ...ticketsOf(perf, 10, 7000, 50_000)];
      await ctx.store.upsertInventory({ id: perf, code: 1001, name: 'Big show (moved)', hold_seconds: 300 }, repriced);

      const after = await ctx.store.listTickets(perf);
      expect(after).toHaveLength(50_010);
      const byId = new Map(after.map((t) => [t.id, t]));
      expect(byId.get(tickets[0]?.id as string)?.price).toBe(7000);
      expect(byId.get(tickets[0]?.id as string)?.price_level).toBe('A');
      expect(byId.get(soldIds[0] as string)?.price).toBe(5000); // sold: left as it was
      expect(byId.get(soldIds[1] as string)?.price).toBe(5000);
      expect(byId.get(tickets[49_950]?.id as string)?.price).toBe(5000); // not in the second call: kept
      expect(byId.get(`${perf}-T0050009`)).toMatchObject({ price: 7000, ord: 50_009 });
      expect(after.filter((t) => t.price === 7000)).toHaveLength(49_908);

      const performances = await ctx.store.listPerformances();
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
      await ctx.store.upsertInventory({ id: perf, code: 7 }, tickets);
      expect((await ctx.store.listTickets(perf)).map((t) => t.ord)).toEqual([60, 70, 80, 90, 100]);

      const thief = `perf-${uid()}`;
      await ctx.store.upsertInventory({ id: thief, code: 8 }, [{ ...(tickets[0] as TicketDoc), performance_id: thief }]);
      expect(await ctx.store.listTickets(thief)).toEqual([]);
      expect(await ctx.store.listTickets(perf)).toHaveLength(5);
      // duplicates within one call: the last one wins
      const t = tickets[1] as TicketDoc;
      await ctx.store.upsertInventory({ id: perf, code: 7 }, [{ ...t, price: 1 }, { ...t, price: 2 }]);
      expect((await ctx.store.listTickets(perf)).find((x) => x.id === t.id)?.price).toBe(2);
      expect((await ctx.store.listPerformances()).filter((p) => p.id === perf || p.id === thief)).toHaveLength(2);
    });
  });
});
