// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL: what recordSale writes
// beyond the order — the SALES row of each ticket (the ticket as sold), the person's fields merged over several
// sales (given ones replace, missing ones stay), and a conflict answered as first recorded.
import { conflictOutcome, describeStoreContract, ISO_MS, saleOf, uid, untilClockPasses } from './support/store-contract';

describeStoreContract((ctx) => {
  describe('the SALES rows', () => {
    test("each ticket's row holds the ticket as the sale gave it, the sale's identity, stamped when recorded", async () => {
      const perf = `perf-${uid()}`;
      const sale = saleOf({ performance: perf, tickets: [`${perf}-B7`, `${perf}-A1`] }); // not in id order
      sale.tickets[0] = { ...(sale.tickets[0] as (typeof sale.tickets)[0]), section: 'BALC', row: 'Q', price: 12_345 };
      expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'written' });
      const order = await ctx.store.getOrder(sale.order_number);

      const docs = await ctx.adapter.saleDocs(sale.tickets.map((t) => t.id));
      expect(docs).toEqual(
        sale.tickets.map((ticket) => ({
          ticket_id: ticket.id,
          performance_id: perf,
          order_number: sale.order_number,
          transaction_id: sale.transaction_id,
          ticket,
          completed_at: sale.completed_at,
          recorded_at: order?.created_at, // one stamp for the whole sale
        })),
      );
      expect(order?.created_at).toMatch(ISO_MS);
    });

    test('a ticket id twice in a sale: one row, holding the ticket', async () => {
      const perf = `perf-${uid()}`;
      const sale = saleOf({ performance: perf, tickets: [`${perf}-A1`, `${perf}-A1`] });
      expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'written' });
      expect(await ctx.store.listSoldTickets(perf)).toHaveLength(1);
      expect(await ctx.adapter.saleDocs([`${perf}-A1`])).toEqual([expect.objectContaining({ ticket: expect.objectContaining({ id: `${perf}-A1` }) })]);
    });
  });

  describe("the person's fields over several sales", () => {
    test('a sale with only an email: names and phone null, and they stay null while no sale gives them', async () => {
      const email = `only-${uid()}@example.com`;
      expect(await ctx.store.recordSale(saleOf({ customer: { email } }))).toEqual({ outcome: 'written' });
      expect(await ctx.store.recordSale(saleOf({ customer: { email: email.toUpperCase() } }))).toEqual({ outcome: 'written' });
      expect(await ctx.store.getPerson(email)).toMatchObject({ email, first_name: null, last_name: null, phone: null });
    });

    test('names and phone given by a later sale replace the earlier ones; a field it leaves out is kept', async () => {
      const email = `ann-${uid()}@example.com`;
      const first = saleOf({ customer: { email, first_name: 'Ann', last_name: 'Lee', phone: '+1 555 0100' } });
      const second = saleOf({ customer: { email, first_name: 'Anne', last_name: 'Lee-Smith' } });
      const third = saleOf({ customer: { email, phone: '+1 555 0199' } });
      for (const sale of [first, second]) expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'written' });
      expect(await ctx.store.getPerson(email)).toMatchObject({ first_name: 'Anne', last_name: 'Lee-Smith', phone: '+1 555 0100' });
      expect(await ctx.store.recordSale(third)).toEqual({ outcome: 'written' });
      expect(await ctx.store.getPerson(email)).toMatchObject({
        email,
        first_name: 'Anne',
        last_name: 'Lee-Smith',
        phone: '+1 555 0199',
        order_numbers: [first.order_number, second.order_number, third.order_number],
      });
    });
  });

  describe('a conflict', () => {
    test('recorded once: a redelivery, later, answers the conflict document first recorded', async () => {
      const perf = `perf-${uid()}`;
      const winner = saleOf({ performance: perf, tickets: [`${perf}-C1`] });
      const loser = saleOf({ performance: perf, tickets: [`${perf}-C1`, `${perf}-C2`] });
      expect(await ctx.store.recordSale(winner)).toEqual({ outcome: 'written' });
      const first = await ctx.store.recordSale(loser);
      expect(first).toEqual(conflictOutcome(loser, [{ id: `${perf}-C1`, sold_to_order: winner.order_number }]));
      const recordedAt = first.outcome === 'conflict' ? first.conflict.recorded_at : undefined;
      await untilClockPasses(recordedAt); // a conflict judged again now would carry a later stamp
      const again = await ctx.store.recordSale(loser);
      expect(again).toEqual(first);
      expect(again.outcome === 'conflict' && again.conflict.recorded_at).toBe(recordedAt);
      expect((await ctx.store.listConflicts(10_000)).filter((c) => c.order_number === loser.order_number)).toHaveLength(1);
    });
  });
});
