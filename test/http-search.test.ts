// HTTP: finding tickets (API.md "Finding tickets"): GET /tickets (best available, locks nothing), GET /tickets/{id}.
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, ISO_MS, KEYS, uniqueId, useTestApp } from './support/app';
import { untilGone } from './support/lapse';
import { performanceKeys } from '../src/redis/keys';

const t = useTestApp();

interface Seat {
  id?: string;
  section?: string;
  row?: string;
  seat?: number | string;
  price?: number;
  price_level?: string;
}

/** A performance from explicit seats; ticket id = `<perf>-<section>-<row><seat>` unless given. */
async function performance(seats: Seat[], extra: Record<string, unknown> = {}) {
  const id = uniqueId();
  const tickets = seats.map((s) => ({ id: s.id ?? `${id}-${s.section ?? 'S'}-${s.row ?? ''}${s.seat ?? ''}`, ...s }));
  const res = await request(t.app).put(`/performances/${id}`).set(as(KEYS.admin)).send({ tickets, ...extra });
  expect(res.status).toBe(200);
  return { id, ids: tickets.map((x) => x.id) };
}

const row = (r: string, n: number, price: number, section = 'ORCH', level?: string): Seat[] =>
  Array.from({ length: n }, (_, i) => ({ section, row: r, seat: i + 1, price, ...(level ? { price_level: level } : {}) }));

const search = (query: string, key = KEYS.alice) => request(t.app).get(`/tickets?${query}`).set(as(key));
const ids = (res: { body: { tickets: { id: string }[] } }) => res.body.tickets.map((x) => x.id);

async function holdIds(ticketIds: string[], key = KEYS.bob) {
  const res = await request(t.app).post('/transaction').set(as(key)).send({ tickets: ticketIds });
  expect(res.status).toBe(201);
  return res.body.transaction_id as string;
}

describe('GET /tickets (best available)', () => {
  test('the answer: 200, status OK, N ticket objects in the documented shape', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 3, price: 4500 });
    const res = await search(`performance_id=${p.id}&quantity=2`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('OK');
    expect(res.body.tickets).toEqual([
      {
        id: `${p.id}-A1`,
        performance_id: p.id,
        section: 'ORCH',
        row: 'A',
        seat: '1',
        price: 4500,
        price_level: null,
        state: 'available',
        sold: false,
      },
      expect.objectContaining({ id: `${p.id}-A2`, state: 'available', sold: false }),
    ]);
  });

  test('cheapest first, then seat order', async () => {
    const p = await performance([...row('A', 4, 8000), ...row('B', 4, 3000)]);
    const [a1, a2, , , b1, b2, b3, b4] = p.ids;
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([b1, b2]);
    expect(ids(await search(`performance_id=${p.id}&quantity=6`))).toEqual([b1, b2, b3, b4, a1, a2]);
  });

  test('seat order is natural ("2" before "10") and section/row order, whatever the load order', async () => {
    const seats = [...row('B', 12, 5000), ...row('A', 12, 5000)].reverse();
    const p = await performance(seats);
    expect(ids(await search(`performance_id=${p.id}&quantity=3`))).toEqual(
      ['A1', 'A2', 'A3'].map((s) => `${p.id}-ORCH-${s}`),
    );
    expect(ids(await search(`performance_id=${p.id}&quantity=12`))).toEqual(
      Array.from({ length: 12 }, (_, i) => `${p.id}-ORCH-A${i + 1}`),
    );
  });

  test('adjacent seats in one row are preferred when they cost no more', async () => {
    const p = await performance(row('A', 5, 5000));
    const [a1, a2, a3, a4, a5] = p.ids;
    await holdIds([a2 as string]);
    // cheapest two would be A1 + A3 (a gap); A3 + A4 sit together at the same price
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([a3, a4]);
    expect(ids(await search(`performance_id=${p.id}&quantity=3`))).toEqual([a3, a4, a5]);
    // one ticket: simply the first
    expect(ids(await search(`performance_id=${p.id}&quantity=1`))).toEqual([a1]);
  });

  test('adjacent seats are not preferred when they cost more', async () => {
    const p = await performance([...row('A', 3, 3000), { section: 'ORCH', row: 'A', seat: 4, price: 5000 }, { section: 'ORCH', row: 'A', seat: 5, price: 5000 }]);
    const [a1, a2, a3] = p.ids;
    await holdIds([a2 as string]);
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([a1, a3]);
  });

  test('seats in two rows are not adjacent: the next row is preferred to a split pair', async () => {
    const p = await performance([...row('A', 3, 5000), ...row('B', 3, 5000)]);
    const [a1, a2, , b1, b2] = p.ids;
    await holdIds([a1 as string, a2 as string]);
    // A3 + B1 are consecutive in seat order but not next to each other; B1 + B2 are
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([b1, b2]);
  });

  test('tickets without rows or seats: cheapest first, then id order', async () => {
    const id = uniqueId();
    const tickets = [
      { id: `${id}-c`, price: 2000 },
      { id: `${id}-a`, price: 2000 },
      { id: `${id}-b`, price: 1000 },
    ];
    expect((await request(t.app).put(`/performances/${id}`).set(as(KEYS.admin)).send({ tickets })).status).toBe(200);
    expect(ids(await search(`performance_id=${id}&quantity=3`))).toEqual([`${id}-b`, `${id}-a`, `${id}-c`]);
  });

  test('filter by section', async () => {
    const p = await performance([...row('A', 3, 2000, 'BALC'), ...row('A', 3, 5000, 'ORCH')]);
    const res = await search(`performance_id=${p.id}&quantity=2&section=ORCH`);
    expect(res.status).toBe(200);
    expect(res.body.tickets.map((x: { section: string }) => x.section)).toEqual(['ORCH', 'ORCH']);
    expect(ids(res)).toEqual([`${p.id}-ORCH-A1`, `${p.id}-ORCH-A2`]);
    expectError(await search(`performance_id=${p.id}&quantity=1&section=BOX`), 409, 'NOT_ENOUGH_TICKETS');
  });

  test('filter by price_level', async () => {
    const p = await performance([...row('A', 3, 2000, 'ORCH', 'C'), ...row('B', 3, 3000, 'ORCH', 'B'), ...row('C', 3, 4000, 'ORCH', 'A')]);
    const res = await search(`performance_id=${p.id}&quantity=2&price_level=B`);
    expect(res.status).toBe(200);
    expect(res.body.tickets.map((x: { price_level: string }) => x.price_level)).toEqual(['B', 'B']);
    expect(ids(res)).toEqual([`${p.id}-ORCH-B1`, `${p.id}-ORCH-B2`]);
  });

  test('filter by max_price (inclusive)', async () => {
    const p = await performance([
      { section: 'S', row: 'A', seat: 1, price: 5001 },
      { section: 'S', row: 'A', seat: 2, price: 5000 },
      { section: 'S', row: 'A', seat: 3, price: 4999 },
      { section: 'S', row: 'A', seat: 4, price: 9000 },
    ]);
    const res = await search(`performance_id=${p.id}&quantity=2&max_price=5000`);
    expect(res.status).toBe(200);
    expect(res.body.tickets.map((x: { price: number }) => x.price)).toEqual([4999, 5000]);
    const error = expectError(await search(`performance_id=${p.id}&quantity=3&max_price=5000`), 409, 'NOT_ENOUGH_TICKETS');
    expect(error.available).toBe(2);
    expect((await search(`performance_id=${p.id}&quantity=1&max_price=0`)).status).toBe(409);
  });

  test('filters combine', async () => {
    const p = await performance([
      ...row('A', 2, 2000, 'ORCH', 'A'),
      ...row('B', 2, 6000, 'ORCH', 'A'),
      ...row('A', 2, 2000, 'BALC', 'A'),
      ...row('C', 2, 2000, 'ORCH', 'B'),
    ]);
    const res = await search(`performance_id=${p.id}&quantity=2&section=ORCH&price_level=A&max_price=5000`);
    expect(ids(res)).toEqual([`${p.id}-ORCH-A1`, `${p.id}-ORCH-A2`]);
    const error = expectError(
      await search(`performance_id=${p.id}&quantity=3&section=ORCH&price_level=A&max_price=5000`),
      409,
      'NOT_ENOUGH_TICKETS',
    );
    expect(error.available).toBe(2);
  });

  test('fewer available than asked -> 409 NOT_ENOUGH_TICKETS with how many there are', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 5 });
    await holdIds(p.ticketIds.slice(0, 2));
    const error = expectError(await search(`performance_id=${p.id}&quantity=4`), 409, 'NOT_ENOUGH_TICKETS');
    expect(error.available).toBe(3);
    expect((await search(`performance_id=${p.id}&quantity=3`)).status).toBe(200);
  });

  test('a performance with every ticket gone -> 409 with available 0', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    await holdIds(p.ticketIds);
    const error = expectError(await search(`performance_id=${p.id}&quantity=1`), 409, 'NOT_ENOUGH_TICKETS');
    expect(error.available).toBe(0);
  });

  test('locked and sold tickets are never offered', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 6 });
    const [a1, a2, a3, a4, a5, a6] = p.ticketIds;
    await holdIds([a1 as string, a3 as string]);
    const sold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [a2, a4] });
    expect((await request(t.app).put(`/transaction/${sold.body.transaction_id}`).set(as(KEYS.alice)).send({ status: 'complete' })).status).toBe(200);
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([a5, a6]);
  });

  test('it locks nothing: counts unchanged, and the tickets can be held right after', async () => {
    const p = await createPerformance(t, { rows: 2, seats: 5 });
    const before = await countsOf(t, p.id);
    const found = ids(await search(`performance_id=${p.id}&quantity=4`));
    const again = ids(await search(`performance_id=${p.id}&quantity=4`, KEYS.bob));
    expect(again).toEqual(found);
    expect(await countsOf(t, p.id)).toEqual(before);
    for (const id of found) expect((await request(t.app).get(`/tickets/${id}`).set(as(KEYS.alice))).body.ticket.state).toBe('available');
    const hold = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: found });
    expect(hold.status).toBe(201);
  });

  test('a lapsed hold is offered again', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 3 });
    const [a1, a2] = p.ticketIds;
    const hold = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: [a1, a2], hold_seconds: 1 });
    expect(hold.status).toBe(201);
    expect(ids(await search(`performance_id=${p.id}&quantity=1`))).toEqual([p.ticketIds[2]]);
    await untilGone(t.redis, [a1, a2].map((id) => performanceKeys(p.id).lockPrefix + id));
    expect(ids(await search(`performance_id=${p.id}&quantity=2`))).toEqual([a1, a2]);
  });

  test('unknown performance -> 404 PERFORMANCE_NOT_FOUND', async () => {
    expectError(await search(`performance_id=${uniqueId('none')}&quantity=1`), 404, 'PERFORMANCE_NOT_FOUND');
  });

  test.each([
    ['no performance_id', 'quantity=1'],
    ['no quantity', 'performance_id=P1'],
    ['quantity 0', 'performance_id=P1&quantity=0'],
    ['quantity -1', 'performance_id=P1&quantity=-1'],
    ['quantity 1.5', 'performance_id=P1&quantity=1.5'],
    ['quantity not a number', 'performance_id=P1&quantity=two'],
    ['quantity above 1000', 'performance_id=P1&quantity=1001'],
    ['a bad performance id', 'performance_id=bad%20id&quantity=1'],
    ['an empty section', 'performance_id=P1&quantity=1&section='],
    ["a section with '|'", 'performance_id=P1&quantity=1&section=A%7CB'],
    ['max_price not a number', 'performance_id=P1&quantity=1&max_price=cheap'],
    ['max_price negative', 'performance_id=P1&quantity=1&max_price=-5'],
    ['quantity repeated', 'performance_id=P1&quantity=1&quantity=2'],
    ['performance_id repeated', 'performance_id=P1&performance_id=P2&quantity=1'],
    ['section repeated', 'performance_id=P1&quantity=1&section=A&section=B'],
  ])('%s -> 400 INVALID_REQUEST with issues', async (_name, query) => {
    const error = expectError(await search(query), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual(expect.arrayContaining([{ path: expect.any(String), message: expect.any(String) }]));
  });

  test('the issue names the offending parameter', async () => {
    const error = expectError(await search('performance_id=P1&quantity=1&quantity=2'), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'quantity' })]);
  });

  test('a missing parameter is reported as required, a repeated one as repeated', async () => {
    const missing = expectError(await search('performance_id=P1'), 400, 'INVALID_REQUEST');
    expect(missing.issues).toEqual([{ path: 'quantity', message: 'is required' }]);
    const both = expectError(await search('section=A&section=B'), 400, 'INVALID_REQUEST');
    expect(both.issues).toEqual(
      expect.arrayContaining([
        { path: 'performance_id', message: 'is required' },
        { path: 'quantity', message: 'is required' },
        { path: 'section', message: 'must be given once, not repeated' },
      ]),
    );
  });
});

describe('GET /tickets/{id}', () => {
  test('an available ticket', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2, price: 7700 });
    const res = await request(t.app).get(`/tickets/${p.ticketIds[1]}`).set(as(KEYS.alice));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'OK',
      ticket: {
        id: p.ticketIds[1],
        performance_id: p.id,
        section: 'ORCH',
        row: 'A',
        seat: '2',
        price: 7700,
        price_level: null,
        state: 'available',
        sold: false,
      },
    });
  });

  test('a locked ticket: state locked, lock_expires, transaction_id', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const txid = await holdIds([p.ticketIds[0] as string], KEYS.alice);
    const res = await request(t.app).get(`/tickets/${p.ticketIds[0]}`).set(as(KEYS.alice));
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatchObject({ state: 'locked', sold: false, transaction_id: txid });
    expect(res.body.ticket.lock_expires).toMatch(ISO_MS);
    expect(res.body.ticket.order_number).toBeUndefined();
  });

  test('a sold ticket: state sold, sold true, order_number and transaction_id, no lock', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 2 });
    const txid = await holdIds([p.ticketIds[0] as string], KEYS.alice);
    const done = await request(t.app).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status: 'complete' });
    const res = await request(t.app).get(`/tickets/${p.ticketIds[0]}`).set(as(KEYS.bob));
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatchObject({ state: 'sold', sold: true, order_number: done.body.order_number, transaction_id: txid });
    expect(res.body.ticket.lock_expires).toBeUndefined();
    expect(res.body.ticket.locked_by).toBeUndefined();
  });

  test('a lapsed lock reads as available', async () => {
    const p = await createPerformance(t, { rows: 1, seats: 1 });
    const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: p.ticketIds, hold_seconds: 1 });
    expect(hold.status).toBe(201);
    await untilGone(t.redis, [performanceKeys(p.id).lockPrefix + p.ticketIds[0]]);
    const res = await request(t.app).get(`/tickets/${p.ticketIds[0]}`).set(as(KEYS.alice));
    expect(res.body.ticket).toMatchObject({ state: 'available', sold: false });
    expect(res.body.ticket.transaction_id).toBeUndefined();
  });

  test('unknown -> 404 TICKET_NOT_FOUND; bad id -> 400', async () => {
    const ghost = uniqueId('ghost');
    const missing = expectError(await request(t.app).get(`/tickets/${ghost}`).set(as(KEYS.alice)), 404, 'TICKET_NOT_FOUND');
    expect(missing).toMatchObject({ message: 'No such ticket.', tickets: [ghost] });
    expectError(await request(t.app).get(`/tickets/bad%20id`).set(as(KEYS.alice)), 400, 'INVALID_REQUEST');
    expectError(await request(t.app).get(`/tickets/${'t'.repeat(129)}`).set(as(KEYS.alice)), 400, 'INVALID_REQUEST');
  });
});
