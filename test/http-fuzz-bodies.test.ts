// HTTP fuzz (test/support/http-fuzz.ts): JSON bodies — valid bodies of every write endpoint made bad by mutation get
// a 4xx and change nothing; __proto__, constructor and prototype members in a valid body have no effect.
import fc from 'fast-check';
import request from 'supertest';
import { as, countsOf, createPerformance, KEYS } from './support/app';
import {
  ADMIN,
  ALICE,
  BOB,
  fuzz,
  fx,
  JSON_TYPE,
  MAX_PRICE,
  POLLUTION_PROBES,
  send,
  tk,
  txTickets,
  useFuzzFixture,
  type Case,
  type Reply,
} from './support/http-fuzz';
import {
  badAttribute,
  badEmail,
  badId,
  badNumber,
  badText,
  bodyCase,
  bodyExpect,
  duplicateKey,
  jsonText,
  mutationsOf,
  noise,
  own,
  RAW,
  removeRequired,
  set,
  show,
  type Mutation,
} from './support/http-fuzz-generators';

const t = useFuzzFixture('http-fuzz-bodies');

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  describe('JSON bodies', () => {
    const badIdValue = (ids: readonly string[]): fc.Arbitrary<unknown> => fc.oneof(badId(ids), fc.constantFrom<unknown>('', null, 7, true, [], {}, ['x']));
    /** A tickets member the schema rejects: not an array, an array with a bad element, more than 1,000 ids. */
    const badTicketsValue = (ids: readonly string[]): fc.Arbitrary<unknown> =>
      fc.oneof(
        fc.constantFrom<unknown>(tk(6), null, 1, true, {}, { 0: tk(6) }, `${tk(6)},${tk(4)}`),
        fc.tuple(fc.subarray([tk(6), tk(4)]), fc.oneof(badIdValue(ids), fc.constant([tk(6)]), fc.constant({ id: tk(6) })), fc.nat()).map(([good, bad, at]) => {
          const out: unknown[] = [...good];
          out.splice(at % (out.length + 1), 0, bad);
          return out;
        }),
        fc.constant(Array.from({ length: 1001 }, (_, i) => `fz-${i}`)),
      );

    test('POST /transaction(s): wrong types, strings for numbers, floats, 1e400, bad ids, missing or conflicting members -> 4xx', async () => {
      const ids = fx.t;
      const badBuyer: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('joe', null, 1, [], [{ id: 'b1' }]),
        badIdValue(ids).map((id) => ({ id })),
        badEmail.map((email) => ({ email })),
      );
      const schema = (base: 'tickets' | 'best'): fc.Arbitrary<Mutation>[] => [
        badTicketsValue(ids).map((v) => set('tickets', v)),
        badIdValue(ids).map((v) => set('performance_id', v)),
        badNumber(1, 1000).map((v) => set('quantity', v)),
        badNumber(1, 900).map((v) => set('hold_seconds', v)), // above the configured maximum (900) is the domain's 400
        fc.tuple(fc.constantFrom('section', 'price_level'), badAttribute(false)).map(([k, v]) => set(k, v)),
        badNumber(0, MAX_PRICE).map((v) => set('max_price', v)),
        badBuyer.map((v) => set('buyer', v)),
        fc.constant<Mutation>({ what: 'tickets and performance_id+quantity', stage: 1, bad400: true, apply: (b) => Object.assign(b, { tickets: [tk(6)], performance_id: fx.P, quantity: 1 }) }),
        fc.oneof(badNumber(1, 1000).map((v) => duplicateKey('quantity', v)), badTicketsValue(ids).map((v) => duplicateKey('tickets', v))),
        base === 'tickets'
          ? removeRequired(['tickets', 'quantity'], { tickets: [tk(6)] })
          : removeRequired(['quantity', 'tickets'], { quantity: 1, tickets: [tk(6)] }),
      ];
      const domainTickets = fc.constantFrom<[unknown, boolean]>(
        [[], true],
        [[tk(6), tk(6)], true],
        [[tk(4), fx.q[0]], true], // two performances
        [['fz-no-such-ticket'], false],
        [[tk(0)], false], // locked by alice's open transaction
        [[tk(0), tk(1)], false],
        [[tk(3)], false], // sold
        [[tk(5)], false], // bob's
        [[tk(6), tk(2)], false],
      ).map(([v, bad400]) => set('tickets', v, bad400, 0));
      const domainBest = fc.constantFrom<[string, unknown]>(
        ['quantity', 3], // two are available
        ['performance_id', 'fz-no-such-performance'],
        ['section', 'NOSUCH'],
        ['price_level', 'NOSUCH'],
        ['max_price', 1],
      ).map(([k, v]) => set(k, v, false, 0));
      const base = fc.record({
        form: fc.constantFrom('tickets', 'best') as fc.Arbitrary<'tickets' | 'best'>,
        hold_seconds: fc.option(fc.integer({ min: 30, max: 900 })),
        buyer: fc.option(fc.constantFrom({ id: 'buyer-1' }, { email: 'buyer@example.com' })),
      });
      const helpful = [{ tickets: [tk(6)] }, { performance_id: fx.P, quantity: 1 }, { quantity: 1 }, { hold_seconds: 60 }];
      const arb = fc
        .tuple(base, fc.constantFrom('/transaction', '/transactions'), fc.constantFrom(ALICE, BOB, ADMIN), noise(helpful))
        .chain(([b, path, key, n]) =>
          mutationsOf([...schema(b.form), b.form === 'tickets' ? domainTickets : domainBest]).map((muts): Case => {
            const body: Record<string, unknown> = b.form === 'tickets' ? { tickets: [tk(6)] } : { performance_id: fx.P, quantity: 1 };
            if (b.hold_seconds !== null) body.hold_seconds = b.hold_seconds;
            if (b.buyer !== null) body.buyer = b.buyer;
            const bc = bodyCase(body, muts, n);
            return { what: bc.what, req: { method: 'POST', path, headers: { ...key, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          }),
        );
      await fuzz(108, 300, arb);
    });

    test('PUT/POST /transaction(s)/{id}: bad status, id, tickets, customer, payment_reference -> 4xx, the transaction unchanged', async () => {
      const ids = fx.t;
      const all = [...fx.t, ...fx.q];
      const targets: [string, Record<string, string>][] = [
        [fx.open, ALICE],
        [fx.checkout, ALICE],
        [fx.done, ALICE],
        [fx.released, ALICE],
        [fx.bobs, BOB],
        [fx.open, ADMIN],
      ];
      const badStatus = fc
        .oneof(fc.constantFrom<unknown>('CHECKOUT', 'Complete', 'open', 'released', 'expired', 'cancel', '', ' checkout', 'checkout ', null, 1, true, ['checkout'], { status: 'checkout' }), fc.string({ maxLength: 10 }))
        .filter((s) => s !== 'checkout' && s !== 'complete');
      const badCustomer: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('joe@example.com', null, 1, [], [{ email: 'joe@example.com' }], {}, { first_name: 'Joe' }),
        badEmail.map((email) => ({ email })),
        fc.constantFrom('first_name', 'last_name', 'phone').chain((k) => badText(k === 'phone' ? 40 : 100).map((v) => ({ email: 'joe@example.com', [k]: v }))),
      );
      const arb = fc
        .tuple(
          fc.constantFrom(...targets),
          fc.constantFrom('PUT /transaction', 'POST /transaction', 'PUT /transactions', 'POST /transactions'),
          fc.record({
            status: fc.constantFrom('checkout', 'complete'),
            withId: fc.boolean(),
            withTickets: fc.boolean(),
            customer: fc.option(fc.constantFrom({ email: 'ann@example.com' }, { email: 'Ann@Example.com', first_name: 'Ann', last_name: 'Lee', phone: '+1 555' })),
            payment_reference: fc.option(fc.constantFrom('pay-2', 'ref 3')),
          }),
          noise([{ status: 'complete' }, { status: 'checkout' }, { customer: { email: 'x@example.com' } }]),
        )
        .chain(([[tx, key], route, b, n]) => {
          const mine = txTickets()[tx] as string[];
          const mutations: fc.Arbitrary<Mutation>[] = [
            badStatus.map((v) => set('status', v)),
            removeRequired(['status'], { status: 'checkout' }),
            fc
              .oneof(
                fc.uuid(),
                fc.constantFrom<unknown>(tx.toUpperCase(), ` ${tx}`, `${tx} `, fx.open, fx.bobs, fx.done, 'x'.repeat(129), null, 1, [], {}, [tx], { id: tx }),
                fc.string({ maxLength: 40 }),
              )
              .filter((v) => v !== tx)
              .map((v) => set('id', v)),
            badTicketsValue(ids).map((v) => set('tickets', v)),
            fc.constantFrom<unknown>([], [...mine, ...mine]).map((v) => set('tickets', v)),
            fc
              .shuffledSubarray(all, { minLength: 1, maxLength: 4 })
              .filter((v) => !(v.length === mine.length && mine.every((id) => v.includes(id))))
              .map((v) => set('tickets', v, false, 0)),
            badCustomer.map((v) => set('customer', v)),
            badText(200).map((v) => set('payment_reference', v)),
            badStatus.map((v) => duplicateKey('status', v)),
          ];
          return mutationsOf(mutations).map((muts): Case => {
            const body: Record<string, unknown> = { status: b.status };
            if (b.withId) body.id = tx;
            if (b.withTickets) body.tickets = [...mine];
            if (b.customer) body.customer = b.customer;
            if (b.payment_reference) body.payment_reference = b.payment_reference;
            const bc = bodyCase(body, muts, n);
            const [method, base] = route.split(' ') as [string, string];
            return { what: bc.what, req: { method, path: `${base}/${tx}`, headers: { ...key, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          });
        });
      await fuzz(109, 250, arb);
    });

    test('PUT /performances/{id}: bad tickets, attributes, prices, seats, settings, duplicates, foreign ids -> 4xx', async () => {
      const ids = fx.t;
      const badSeat: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>(null, true, [], {}, [1], RAW('1.5'), RAW('1e400'), RAW('-1e400'), -1, 1e9 + 1, 2 ** 53),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
        badAttribute(true).filter((v) => typeof v === 'string'),
      );
      const badDate: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('', 'tomorrow', '2026-12-04', '2026-13-01T00:00:00Z', '2026-12-04T25:00:00Z', '2026-12-04T19:30:00', '04/12/2026 19:30', 1733340600000, null, true, [], {}),
        fc.string({ maxLength: 20 }).filter((s) => !/^\d{4}-/.test(s)),
      );
      /** Corrupts one member of the first ticket (re-making tickets an array of tickets if a mutation replaced it). */
      const ticketMember = fc.oneof(
        badIdValue(ids).map((v) => ['id', v] as const),
        fc.constant(['id', undefined] as const),
        fc.tuple(fc.constantFrom('section', 'row', 'price_level'), badAttribute(true)),
        badSeat.map((v) => ['seat', v] as const),
        badNumber(0, MAX_PRICE).map((v) => ['price', v] as const),
      ).map(([k, v]): Mutation => ({
        what: `tickets[0].${k}=${v === undefined ? '(none)' : show(v)}`,
        stage: 1,
        bad400: true,
        apply: (b) => {
          const first = Array.isArray(b.tickets) && typeof b.tickets[0] === 'object' && b.tickets[0] !== null ? (b.tickets[0] as Record<string, unknown>) : { id: 'fz-t-1' };
          if (v === undefined) delete first[k];
          else first[k] = v;
          b.tickets = [first, ...(Array.isArray(b.tickets) ? b.tickets.slice(1) : [])];
        },
      }));
      const arb = fc
        .tuple(fc.constantFrom('existing', 'new'), fc.nat({ max: 9999 }), noise([{ tickets: [{ id: 'fz-proto-1' }] }, { name: 'Hacked', hold_seconds: 1 }]))
        .chain(([which, nonce, n]) => {
          const perf = which === 'existing' ? fx.P : `fz-new-${nonce}`;
          const own1 = which === 'existing' ? tk(6) : `${perf}-1`;
          const foreign = which === 'existing' ? (fx.q[0] as string) : tk(6);
          const mutations: fc.Arbitrary<Mutation>[] = [
            removeRequired(['tickets'], { tickets: [{ id: own1 }] }),
            fc.constantFrom<unknown>(null, 1, 'x', {}, { id: own1 }, [own1], [null], [[{ id: own1 }]]).map((v) => set('tickets', v)),
            ticketMember,
            badText(200).map((v) => set('name', v)),
            badDate.map((v) => set('starts_at', v)),
            badNumber(1, 900).map((v) => set('hold_seconds', v)),
            badNumber(1, 1000).map((v) => set('max_tickets_per_transaction', v)),
            fc.constant(set('tickets', [{ id: own1 }, { id: own1, price: 1 }])), // duplicate ids: 400
            fc.constant(set('tickets', [{ id: own1 }, { id: foreign }], false, 0)), // a ticket of another performance: 409
            badNumber(1, 1000).map((v) => duplicateKey('max_tickets_per_transaction', v)),
          ];
          return mutationsOf(mutations).map((muts): Case => {
            const body = { name: 'Fuzz show', starts_at: '2030-12-04T19:30:00.000Z', tickets: [{ id: own1, section: 'ORCH', row: 'A', seat: 7, price: 5000 }] };
            const bc = bodyCase(body, muts, n);
            return { what: `${which}: ${bc.what}`, req: { method: 'PUT', path: `/performances/${perf}`, headers: { ...ADMIN, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          });
        });
      await fuzz(110, 200, arb);
    });
  });

  // ------------------------------------------------------------ valid bodies with prototype keys (differential)

  test('__proto__ / constructor / prototype members have no effect: a valid body behaves exactly as without them', async () => {
    const r = await createPerformance(t, { rows: 1, seats: 4 });
    const [r1, r2, r3, r4] = r.ticketIds as [string, string, string, string];
    const payload = fc.record(
      {
        quantity: fc.constantFrom<unknown>(1000, 3, '2', -1),
        tickets: fc.constantFrom<unknown>([r4], [r3, r4], 'x y'),
        hold_seconds: fc.constantFrom<unknown>(1, 899, 1e9),
        performance_id: fc.constantFrom<unknown>('x y', fx.P),
        status: fc.constantFrom('complete', 'released'),
        name: fc.constant('Hacked'),
        price: fc.constantFrom(1, -1),
        max_tickets_per_transaction: fc.constant(1),
      },
      { requiredKeys: [] },
    );
    const where = fc.constantFrom('__proto__', 'constructor', 'prototype', 'nested');
    const kind = fc.constantFrom('hold tickets', 'hold best', 'checkout', 'inventory');

    const api = (method: string, path: string, body?: unknown, key = ALICE) =>
      send({ method, path, headers: { ...key, ...(body === undefined ? {} : JSON_TYPE) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const withProto = (body: Record<string, unknown>, w: string, p: Record<string, unknown>) => {
      const out = structuredClone(body);
      if (w === 'constructor') own(out, 'constructor', { prototype: p });
      else if (w === 'nested') {
        const inner = Array.isArray(out.tickets) && typeof out.tickets[0] === 'object' ? (out.tickets[0] as Record<string, unknown>) : out;
        own(inner, '__proto__', p);
      } else own(out, w, p);
      return jsonText(out);
    };
    /** What must be equal between the two answers: everything but ids and times. */
    const normal = (res: Reply) => {
      const body = JSON.parse(res.text) as Record<string, unknown>;
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(strip)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).filter(([k]) => !/^(transaction_id|lock_expires|created_at|updated_at)$/.test(k)).map(([k, x]) => [k, strip(x)]))
            : v;
      const holdMs = typeof body.lock_expires === 'string' ? Date.parse(body.lock_expires) - Date.now() : undefined;
      return { status: res.status, body: strip(body), holdSeconds: holdMs === undefined ? undefined : Math.round(holdMs / 5000) * 5 };
    };

    await fc.assert(
      fc.asyncProperty(kind, where, payload, async (k, w, p) => {
        const outcomes = [];
        for (const polluted of [true, false]) {
          const text = (body: Record<string, unknown>) => (polluted ? withProto(body, w, p) : JSON.stringify(body));
          if (k === 'inventory') {
            const res = await api('PUT', `/performances/${r.id}`, text({ tickets: [{ id: r4, section: 'ORCH', row: 'A', seat: 4, price: 5000 }] }), ADMIN);
            const after = await api('GET', `/performances/${r.id}`, undefined, ADMIN);
            const ticket = await api('GET', `/tickets/${r4}`, undefined, ADMIN);
            outcomes.push({ res: normal(res), after: normal(after), ticket: normal(ticket) });
          } else if (k === 'checkout') {
            const held = await api('POST', '/transaction', { tickets: [r1, r2] });
            const txid = JSON.parse(held.text).transaction_id as string;
            const res = await api('PUT', `/transaction/${txid}`, text({ status: 'checkout' }));
            outcomes.push({ res: normal(res) });
            expect((await api('DELETE', `/transaction/${txid}`)).status).toBe(200);
          } else {
            const body = k === 'hold tickets' ? { tickets: [r1, r2] } : { performance_id: r.id, quantity: 2 };
            const res = await api('POST', '/transaction', text(body));
            outcomes.push({ res: normal(res) });
            if (res.status === 201) expect((await api('DELETE', `/transaction/${JSON.parse(res.text).transaction_id}`)).status).toBe(200);
          }
        }
        expect(outcomes[0]).toEqual(outcomes[1]);
        expect([200, 201]).toContain(outcomes[1]?.res.status);
      }),
      { seed: 116, numRuns: 24 },
    );
    expect(await countsOf(t, r.id)).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
    const perf = await request(t.app).get(`/performances/${r.id}`).set(as(KEYS.admin));
    expect(perf.body.performance).toMatchObject({ name: 'Test show' });
    expect(perf.body.performance.hold_seconds).toBeUndefined();
    expect(perf.body.performance.max_tickets_per_transaction).toBeUndefined();
    for (const probe of POLLUTION_PROBES) expect(({} as Record<string, unknown>)[probe]).toBeUndefined();
  });
});
