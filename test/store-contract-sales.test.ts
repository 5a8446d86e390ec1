// The document store contract (test/support/store-contract.ts), on SQLite and PostgreSQL: the schema, and
// recordSale — an order, its person and one sale per ticket; a redelivered sale is a duplicate that changes nothing;
// a second sale of a sold ticket, or a reused order number, is a conflict recorded once.
import { conflictOutcome, describeStoreContract, ISO_MS, saleOf, uid, untilClockPasses } from './support/store-contract';

describeStoreContract((ctx) => {
  describe('schema', () => {
    test('migrate() twice (and concurrently from two stores) is harmless and keeps the data', async () => {
      const sale = saleOf();
      await ctx.store.recordSale(sale);
      const before = await ctx.adapter.versions();
      expect(before.length).toBeGreaterThanOrEqual(1);
      await ctx.store.migrate();
      const other = ctx.adapter.openAnother();
      try {
        await Promise.all([ctx.store.migrate(), other.migrate(), ctx.store.migrate()]);
      } finally {
        await other.close();
      }
      expect(await ctx.adapter.versions()).toEqual(before);
      expect(await ctx.store.getOrder(sale.order_number)).toBeDefined();
    });

    test('ping() answers; getOrder/getPerson of unknown keys are undefined', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
      await expect(ctx.store.getOrder('no-such-order')).resolves.toBeUndefined();
      await expect(ctx.store.getPerson('nobody@example.com')).resolves.toBeUndefined();
      await expect(ctx.store.listTickets('no-such-perf')).resolves.toEqual([]);
      await expect(ctx.store.listSoldTickets('no-such-perf')).resolves.toEqual([]);
    });
  });

  describe('recordSale', () => {
    test('writes the order, the person and one sale per ticket', async () => {
      const customer = { email: '  Ann.Lee@Example.com ', first_name: 'Ann', last_name: 'Lee', phone: '+1 555 0100' };
      const sale = saleOf({ customer, payment: 'pay-123' });
      const before = Date.now();
      await expect(ctx.store.recordSale(sale)).resolves.toEqual({ outcome: 'written' });
      const after = Date.now();

      const order = await ctx.store.getOrder(sale.order_number);
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
      // stamped when written (by this process's clock), not when the sale completed
      expect(Date.parse(order?.created_at as string)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(order?.created_at as string)).toBeLessThanOrEqual(after);

      const person = await ctx.store.getPerson('ann.lee@example.com');
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
      expect(await ctx.store.getPerson(' ANN.LEE@example.COM')).toEqual(person);

      expect(await ctx.store.listSoldTickets(sale.performance_id)).toEqual(
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
      expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'written' });
      const order = await ctx.store.getOrder(sale.order_number);
      expect(order).toMatchObject({ customer: null, person_id: null, payment_reference: null });
      expect(await ctx.store.listSoldTickets(sale.performance_id)).toHaveLength(2);
    });

    test('a redelivered sale is a duplicate and changes nothing', async () => {
      const email = `red-${uid()}@example.com`;
      const sale = saleOf({ customer: { email, first_name: 'Red' } });
      expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'written' });
      const order = await ctx.store.getOrder(sale.order_number);
      const person = await ctx.store.getPerson(email);
      const sold = await ctx.store.listSoldTickets(sale.performance_id);
      const conflicts = await ctx.store.listConflicts(1000);

      await untilClockPasses(order?.created_at, person?.created_at, person?.updated_at); // so a rewrite would show in a timestamp
      for (let i = 0; i < 3; i++) expect(await ctx.store.recordSale(sale)).toEqual({ outcome: 'duplicate' });
      // the same order redelivered with other details still changes nothing
      const altered = { ...sale, customer: { email, first_name: 'Changed', phone: '123' } };
      expect(await ctx.store.recordSale(altered)).toEqual({ outcome: 'duplicate' });

      expect(await ctx.store.getOrder(sale.order_number)).toEqual(order);
      expect(await ctx.store.getPerson(email)).toEqual(person);
      expect(person?.order_numbers).toEqual([sale.order_number]);
      expect(await ctx.store.listSoldTickets(sale.performance_id)).toEqual(sold);
      expect(await ctx.store.listConflicts(1000)).toEqual(conflicts);
    });

    test('one person per lower-cased email across orders; names and phone updated when given', async () => {
      const local = `joe-${uid()}`;
      const first = saleOf({ customer: { email: `${local.toUpperCase()}@Example.com`, first_name: 'Joe', last_name: 'Bloggs' } });
      const second = saleOf({ customer: { email: `${local}@example.com`, phone: '+44 20 7946 0000' } });
      expect(await ctx.store.recordSale(first)).toEqual({ outcome: 'written' });
      const created = await ctx.store.getPerson(`${local}@example.com`);
      await untilClockPasses(created?.updated_at); // so the second order's update shows in updated_at
      expect(await ctx.store.recordSale(second)).toEqual({ outcome: 'written' });

      const person = await ctx.store.getPerson(`${local}@EXAMPLE.COM`);
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
      expect((await ctx.store.getOrder(second.order_number))?.person_id).toBe(`${local}@example.com`);
      expect((await ctx.store.getOrder(first.order_number))?.person_id).toBe(`${local}@example.com`);
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
      expect(await ctx.store.recordSale(first)).toEqual({ outcome: 'written' });
      const firstOrder = await ctx.store.getOrder(first.order_number);

      const outcome = await ctx.store.recordSale(second);
      expect(outcome).toEqual(conflictOutcome(second, [{ id: `${perf}-A2`, sold_to_order: first.order_number }]));
      expect(await ctx.store.getOrder(first.order_number)).toEqual(firstOrder);
      expect(await ctx.store.getOrder(second.order_number)).toBeUndefined();
      expect(await ctx.store.getPerson(email2)).toBeUndefined(); // nothing else written
      const sold = await ctx.store.listSoldTickets(perf);
      expect(sold.map((s) => [s.ticket_id, s.order_number])).toEqual([
        [`${perf}-A1`, first.order_number],
        [`${perf}-A2`, first.order_number],
      ]); // A3 not sold

      const [latest] = await ctx.store.listConflicts(1);
      expect(latest).toEqual(outcome.outcome === 'conflict' ? outcome.conflict : undefined);

      // the conflicting sale redelivered: the same conflict, not a second record
      const count = (await ctx.store.listConflicts(10_000)).length;
      const again = await ctx.store.recordSale(second);
      expect(again).toEqual(outcome);
      expect((await ctx.store.listConflicts(10_000)).length).toBe(count);
    });

    test('an order number given again to another transaction (Redis rolled back) is a conflict, never a duplicate', async () => {
      const perf = `perf-${uid()}`;
      const joe = saleOf({ performance: perf, tickets: [`${perf}-A1`], customer: { email: `joe-${uid()}@example.com` } });
      const bobEmail = `bob-${uid()}@example.com`;
      // the same number, the same ticket, another transaction: what a rolled-back Redis gives the next buyer
      const bob = { ...saleOf({ performance: perf, tickets: [`${perf}-A1`], customer: { email: bobEmail } }), order_number: joe.order_number };
      // the same number on another ticket
      const carol = { ...saleOf({ performance: perf, tickets: [`${perf}-A9`] }), order_number: joe.order_number };
      expect(await ctx.store.recordSale(joe)).toEqual({ outcome: 'written' });
      const joeOrder = await ctx.store.getOrder(joe.order_number);

      const outcome = await ctx.store.recordSale(bob);
      expect(outcome).toEqual(
        conflictOutcome(bob, [{ id: `${perf}-A1`, sold_to_order: joe.order_number }], { order_number_taken_by: joe.transaction_id }),
      );
      const other = await ctx.store.recordSale(carol);
      expect(other).toMatchObject({ outcome: 'conflict', conflict: { tickets: [], order_number_taken_by: joe.transaction_id } });
      // Joe's order untouched; nothing of Bob's or Carol's written; each conflict recorded once
      expect(await ctx.store.getOrder(joe.order_number)).toEqual(joeOrder);
      expect(await ctx.store.getPerson(bobEmail)).toBeUndefined();
      expect((await ctx.store.listSoldTickets(perf)).map((x) => [x.ticket_id, x.transaction_id])).toEqual([[`${perf}-A1`, joe.transaction_id]]);
      const count = (await ctx.store.listConflicts(10_000)).length;
      expect(await ctx.store.recordSale(bob)).toEqual(outcome);
      expect(await ctx.store.recordSale(carol)).toEqual(other);
      expect((await ctx.store.listConflicts(10_000)).length).toBe(count);
      // Joe's sale redelivered is still a duplicate
      expect(await ctx.store.recordSale(joe)).toEqual({ outcome: 'duplicate' });
    });

    test('lastOrderNumber: the longest, then the greatest, of the performance; undefined when none', async () => {
      const perf = `perf-${uid()}`;
      expect(await ctx.store.lastOrderNumber(perf)).toBeUndefined();
      for (const [order, ticket] of [
        ['AAAAA3333Y', 'A1'],
        ['AAAAA433333', 'A2'],
        ['AAAAA34333', 'A3'],
        ['AAAAA3333C', 'A4'],
      ] as const) {
        expect((await ctx.store.recordSale(saleOf({ performance: perf, tickets: [`${perf}-${ticket}`], order }))).outcome).toBe('written');
      }
      expect(await ctx.store.recordSale(saleOf({ performance: `other-${uid()}`, order: 'AAAAA4333333' }))).toEqual({ outcome: 'written' });
      expect(await ctx.store.lastOrderNumber(perf)).toBe('AAAAA433333');
    });

    test('listConflicts(limit) lists the newest first', async () => {
      const perf = `perf-${uid()}`;
      const winner = saleOf({ performance: perf, tickets: [`${perf}-B1`, `${perf}-B2`] });
      await ctx.store.recordSale(winner);
      const losers = [1, 2, 3].map(() => saleOf({ performance: perf, tickets: [`${perf}-B1`] }));
      for (const l of losers) expect((await ctx.store.recordSale(l)).outcome).toBe('conflict');
      const listed = await ctx.store.listConflicts(2);
      expect(listed.map((c) => c.order_number)).toEqual([losers[2]?.order_number, losers[1]?.order_number]);
      expect(listed[0]?.tickets).toEqual([{ id: `${perf}-B1`, sold_to_order: winner.order_number }]);
      expect(await ctx.store.listConflicts(0)).toEqual([]);
    });
  });
});
