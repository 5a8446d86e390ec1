// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL: several writers at once
// on one database — distinct orders all land, two orders racing for a ticket give one sale and one conflict, one
// sale delivered to several writers is written once. On SQLite the other writers run in threads of their own
// (test/support/sqlite-thread-store.ts) and are called first, so their transactions overlap this thread's; two
// writer processes race in test/store-sqlite-processes.test.ts.
import type { DocumentStore, RecordOutcome } from '../src/domain/documents';
import { describeStoreContract, saleOf, uid } from './support/store-contract';

describeStoreContract((ctx) => {
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
      const outcomes = await Promise.all(sales.map((s) => ctx.store.recordSale(s)));
      expect(outcomes.every((o) => o.outcome === 'written')).toBe(true);
      const orders = await Promise.all(sales.map((s) => ctx.store.getOrder(s.order_number)));
      expect(orders.filter(Boolean)).toHaveLength(200);
      const sold = await ctx.store.listSoldTickets(perf);
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
        // the other writer first: on SQLite it runs in a thread of its own, so its write overlaps this thread's
        const [ofY, ofX] = await Promise.all([(ctx.others[round % 2] as DocumentStore).recordSale(y), ctx.store.recordSale(x)]);
        const outcomes = [ofX as RecordOutcome, ofY as RecordOutcome];
        expect(outcomes.map((o) => o.outcome).sort()).toEqual(['conflict', 'written']);
        const winner = outcomes[0]?.outcome === 'written' ? x : y;
        const loser = winner === x ? y : x;
        expect(await ctx.store.getOrder(winner.order_number)).toBeDefined();
        expect(await ctx.store.getOrder(loser.order_number)).toBeUndefined();
        const sold = await ctx.store.listSoldTickets(perf);
        expect(sold).toHaveLength(3);
        expect(new Set(sold.map((s) => s.order_number))).toEqual(new Set([winner.order_number]));
        const conflict = outcomes.find((o) => o.outcome === 'conflict');
        expect(conflict?.outcome === 'conflict' && conflict.conflict.tickets).toEqual([
          { id: `${perf}-A2`, sold_to_order: winner.order_number },
          { id: `${perf}-A3`, sold_to_order: winner.order_number },
        ].sort((p, q) => loser.tickets.findIndex((t) => t.id === p.id) - loser.tickets.findIndex((t) => t.id === q.id)));
      }
    });

    test('one sale delivered to several writers at once: one written, the rest duplicates (repeated)', async () => {
      for (let round = 0; round < 30; round++) {
        const email = `dup-${uid()}@example.com`;
        const sale = saleOf({ customer: { email } });
        // the other writers first: on SQLite they run in threads of their own and overlap this thread's write
        const outcomes = await Promise.all([...ctx.others, ctx.store, ctx.store].map((s) => s.recordSale(sale)));
        expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'written']);
        expect((await ctx.store.getPerson(email))?.order_numbers).toEqual([sale.order_number]);
        expect(await ctx.store.listSoldTickets(sale.performance_id)).toHaveLength(2);
      }
    });

    test('concurrent orders of one person all land in its order numbers', async () => {
      const email = `many-${uid()}@example.com`;
      const sales = Array.from({ length: 12 }, (_x, i) =>
        saleOf({ customer: { email: i % 2 ? email : email.toUpperCase(), first_name: `N${i}` } }),
      );
      const writers = [ctx.store, ...ctx.others];
      const outcomes = await Promise.all(sales.map((s, i) => (writers[i % 3] as DocumentStore).recordSale(s)));
      expect(outcomes.every((o) => o.outcome === 'written')).toBe(true);
      const person = await ctx.store.getPerson(email);
      expect([...(person?.order_numbers ?? [])].sort()).toEqual(sales.map((s) => s.order_number).sort());
    });
  });
});
