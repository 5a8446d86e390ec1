// HTTP: inventory (API.md "Inventory (admin)"): PUT/GET /performances/{id}, GET /performances/{id}/tickets.
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, ISO_MS, KEYS, uniqueId, useTestApp } from './support/app';
import { untilGone } from './support/lapse';
import { performanceKeys } from '../src/redis/keys';

const t = useTestApp();

const admin = as(KEYS.admin);
const put = (id: string, body: unknown) => request(t.app).put(`/performances/${id}`).set(admin).send(body as object);
const getPerf = (id: string) => request(t.app).get(`/performances/${id}`).set(admin);
const getTicket = (id: string, key = KEYS.admin) => request(t.app).get(`/tickets/${id}`).set(as(key));

async function hold(ids: string[], key = KEYS.alice) {
  const res = await request(t.app).post('/transaction').set(as(key)).send({ tickets: ids });
  expect(res.status).toBe(201);
  return res.body.transaction_id as string;
}

async function sell(ids: string[], key = KEYS.alice) {
  const txid = await hold(ids, key);
  const res = await request(t.app).put(`/transaction/${txid}`).set(as(key)).send({ status: 'complete' });
  expect(res.status).toBe(200);
  return res.body.order_number as string;
}

describe('PUT /performances/{id}', () => {
  test('creates a performance: 200 with settings and counts', async () => {
    const id = uniqueId();
    const res = await put(id, {
      name: 'Hamlet',
      starts_at: '2026-11-29T19:30:00.000Z',
      hold_seconds: 300,
      max_tickets_per_transaction: 6,
      tickets: [
        { id: `${id}-1`, section: 'ORCH', row: 'A', seat: 1, price: 5000, price_level: 'A' },
        { id: `${id}-2`, section: 'ORCH', row: 'A', seat: '2', price: 5000, price_level: 'A' },
        { id: `${id}-3` },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('OK');
    expect(res.body.performance).toMatchObject({
      id,
      name: 'Hamlet',
      starts_at: '2026-11-29T19:30:00.000Z',
      hold_seconds: 300,
      max_tickets_per_transaction: 6,
      counts: { total: 3, available: 3, locked: 0, sold: 0 },
    });
    expect(res.body.performance.created_at).toMatch(ISO_MS);
    expect(res.body.performance.updated_at).toMatch(ISO_MS);

    const ticket = await getTicket(`${id}-2`);
    expect(ticket.body.ticket).toMatchObject({
      id: `${id}-2`,
      performance_id: id,
      section: 'ORCH',
      row: 'A',
      seat: '2',
      price: 5000,
      price_level: 'A',
      state: 'available',
      sold: false,
    });
    // a ticket with no attributes: empty ones are null, price 0
    const bare = await getTicket(`${id}-3`);
    expect(bare.body.ticket).toMatchObject({ section: null, row: null, seat: null, price: 0, price_level: null, state: 'available' });
  });

  test('an empty ticket list creates a performance with no tickets', async () => {
    const id = uniqueId();
    const res = await put(id, { name: 'Empty', tickets: [] });
    expect(res.status).toBe(200);
    expect(res.body.performance.counts).toEqual({ total: 0, available: 0, locked: 0, sold: 0 });
    expect((await getPerf(id)).status).toBe(200);
  });

  test('upsert: adds new tickets, updates unsold attributes, keeps unspecified ones and the settings', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 3, price: 5000 });
    const [a1, a2] = perf.ticketIds as [string, string, string];
    const res = await put(perf.id, {
      tickets: [
        { id: a1, price: 7000 },
        { id: `${perf.id}-A4`, section: 'ORCH', row: 'A', seat: 4, price: 5000 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.performance).toMatchObject({ name: 'Test show', counts: { total: 4, available: 4, locked: 0, sold: 0 } });
    expect(res.body.performance).toMatchObject({ added: 1, updated: 1, skipped_sold: 0 });

    const t1 = await getTicket(a1);
    expect(t1.body.ticket).toMatchObject({ price: 7000, section: 'ORCH', row: 'A', seat: '1', state: 'available' });
    expect((await getTicket(a2)).body.ticket.price).toBe(5000);

    // the new price also moves the ticket in best-available order: A1 is now the dearest
    const search = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=4`).set(as(KEYS.alice));
    expect(search.body.tickets.map((x: { id: string }) => x.id)).toEqual([a2, `${perf.id}-A3`, `${perf.id}-A4`, a1]);
  });

  test('upsert updates settings given again and keeps the others', async () => {
    const id = uniqueId();
    expect((await put(id, { name: 'First', hold_seconds: 120, tickets: [] })).status).toBe(200);
    const res = await put(id, { max_tickets_per_transaction: 4, tickets: [] });
    expect(res.body.performance).toMatchObject({ name: 'First', hold_seconds: 120, max_tickets_per_transaction: 4 });
    const renamed = await put(id, { name: 'Second', tickets: [] });
    expect(renamed.body.performance).toMatchObject({ name: 'Second', hold_seconds: 120, max_tickets_per_transaction: 4 });
  });

  test('a starts_at given alone is checked against the ends_at kept: after it -> 400 naming starts_at', async () => {
    const id = uniqueId();
    expect((await put(id, { starts_at: '2030-01-01T19:00:00.000Z', ends_at: '2030-01-01T22:00:00.000Z', tickets: [] })).status).toBe(200);
    const late = await put(id, { starts_at: '2030-01-01T23:00:00.000Z', tickets: [] });
    expect(expectError(late, 400, 'INVALID_REQUEST').issues).toEqual([{ path: 'starts_at', message: 'ends_at must not be before starts_at' }]);
    expect((await getPerf(id)).body.performance.starts_at).toBe('2030-01-01T19:00:00.000Z');
  });

  test('a sold ticket is never changed: a new price is ignored and it stays sold', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 3, price: 5000 });
    const [a1, a2] = perf.ticketIds as [string, string, string];
    const order = await sell([a1]);

    const res = await put(perf.id, {
      tickets: [
        { id: a1, price: 100, section: 'BALC', row: 'Z', seat: 99, price_level: 'C' },
        { id: a2, price: 6000 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.performance).toMatchObject({ added: 0, updated: 1, skipped_sold: 1 });
    expect(res.body.performance.counts).toEqual({ total: 3, available: 2, locked: 0, sold: 1 });

    const sold = await getTicket(a1);
    expect(sold.body.ticket).toMatchObject({
      state: 'sold',
      sold: true,
      order_number: order,
      price: 5000,
      section: 'ORCH',
      row: 'A',
      seat: '1',
      price_level: null,
    });
    expect((await getTicket(a2)).body.ticket.price).toBe(6000);
    // and it is not made available again
    const search = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=3`).set(as(KEYS.alice));
    expectError(search, 409, 'NOT_ENOUGH_TICKETS');
  });

  test('a locked ticket gets its new attributes and stays locked by its transaction', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2, price: 5000 });
    const [a1] = perf.ticketIds as [string, string];
    const txid = await hold([a1]);
    const res = await put(perf.id, { tickets: [{ id: a1, price: 4000 }] });
    expect(res.status).toBe(200);
    expect(res.body.performance.counts).toEqual({ total: 2, available: 1, locked: 1, sold: 0 });
    const ticket = await getTicket(a1);
    expect(ticket.body.ticket).toMatchObject({ price: 4000, state: 'locked', transaction_id: txid });
    // released, it comes back at its new price (cheapest first)
    expect((await request(t.app).delete(`/transaction/${txid}`).set(as(KEYS.alice))).status).toBe(200);
    const search = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1`).set(as(KEYS.alice));
    expect(search.body.tickets[0]).toMatchObject({ id: a1, price: 4000 });
  });

  test('a ticket id of another performance -> 409 TICKET_CONFLICT, nothing created', async () => {
    const first = await createPerformance(t, { rows: 1, seats: 2 });
    const otherId = uniqueId();
    const res = await put(otherId, {
      tickets: [{ id: `${otherId}-new`, price: 1000 }, { id: first.ticketIds[0], price: 1 }],
    });
    const error = expectError(res, 409, 'TICKET_CONFLICT');
    expect(error.tickets).toEqual([first.ticketIds[0]]);
    expectError(await getPerf(otherId), 404, 'PERFORMANCE_NOT_FOUND');
    expectError(await getTicket(`${otherId}-new`), 404, 'TICKET_NOT_FOUND');
    expect((await getTicket(first.ticketIds[0] as string)).body.ticket).toMatchObject({ performance_id: first.id, price: 5000 });
  });

  test('duplicate ticket ids in the body -> 400 INVALID_REQUEST, nothing created', async () => {
    const id = uniqueId();
    const res = await put(id, { tickets: [{ id: `${id}-1` }, { id: `${id}-2` }, { id: `${id}-1` }] });
    const error = expectError(res, 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'tickets', message: expect.stringContaining(`${id}-1`) })]);
    expectError(await getPerf(id), 404, 'PERFORMANCE_NOT_FOUND');
  });

  test.each([
    ['no tickets field', {}],
    ['tickets not a list', { tickets: 'A1' }],
    ['a bad ticket id', { tickets: [{ id: 'has space' }] }],
    ['a ticket id of 129 characters', { tickets: [{ id: 'x'.repeat(129) }] }],
    ['a negative price', { tickets: [{ id: 'neg-price-1', price: -1 }] }],
    ['a fractional price', { tickets: [{ id: 'frac-price-1', price: 10.5 }] }],
    ['a price as a string', { tickets: [{ id: 'str-price-1', price: '100' }] }],
    ["a section with '|'", { tickets: [{ id: 'pipe-1', section: 'A|B' }] }],
    ['a row with a control character', { tickets: [{ id: 'ctl-1', row: 'A\n' }] }],
    ['starts_at not a time', { starts_at: 'tomorrow', tickets: [] }],
    ['hold_seconds 0', { hold_seconds: 0, tickets: [] }],
    ['hold_seconds above MAX_HOLD_SECONDS', { hold_seconds: 901, tickets: [] }],
    ['max_tickets_per_transaction 0', { max_tickets_per_transaction: 0, tickets: [] }],
    ['an empty name', { name: '   ', tickets: [] }],
  ])('%s -> 400 INVALID_REQUEST with issues, nothing created', async (_name, body) => {
    const id = uniqueId();
    const error = expectError(await put(id, body), 400, 'INVALID_REQUEST');
    expect(Array.isArray(error.issues)).toBe(true);
    for (const issue of error.issues as unknown[]) expect(issue).toEqual({ path: expect.any(String), message: expect.any(String) });
    expectError(await getPerf(id), 404, 'PERFORMANCE_NOT_FOUND');
  });

  test('a bad performance id in the path -> 400', async () => {
    expectError(await put('bad%20id', { tickets: [] }), 400, 'INVALID_REQUEST');
    expectError(await put('p'.repeat(129), { tickets: [] }), 400, 'INVALID_REQUEST');
  });

  test('the hold_seconds of a performance is the hold of its transactions', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2, extra: { hold_seconds: 60 } });
    const res = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [perf.ticketIds[0]] });
    expect(res.status).toBe(201);
    expect(res.body.hold_seconds).toBe(60);
    const life = Date.parse(res.body.lock_expires) - Date.parse(res.body.created_at);
    expect(life).toBe(60_000);
  });
});

describe('GET /performances/{id}', () => {
  test('the same shape as the PUT answer, with live counts through hold, sale and release', async () => {
    const perf = await createPerformance(t, { rows: 2, seats: 5 });
    const put1 = await put(perf.id, { tickets: [] });
    const got = await getPerf(perf.id);
    expect(got.status).toBe(200);
    expect(got.body.status).toBe('OK');
    const { added: _a, updated: _u, skipped_sold: _s, ...shape } = put1.body.performance;
    expect(got.body.performance).toEqual(shape);
    expect(got.body.performance.counts).toEqual({ total: 10, available: 10, locked: 0, sold: 0 });

    const ids = perf.ticketIds;
    const tx1 = await hold(ids.slice(0, 2));
    await hold(ids.slice(2, 5), KEYS.bob);
    expect(await countsOf(t, perf.id)).toEqual({ total: 10, available: 5, locked: 5, sold: 0 });

    await sell(ids.slice(5, 7));
    expect(await countsOf(t, perf.id)).toEqual({ total: 10, available: 3, locked: 5, sold: 2 });

    expect((await request(t.app).delete(`/transaction/${tx1}`).set(as(KEYS.alice))).status).toBe(200);
    expect(await countsOf(t, perf.id)).toEqual({ total: 10, available: 5, locked: 3, sold: 2 });
  });

  test('a lapsed hold counts as available again without anyone acting', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 3 });
    const res = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: perf.ticketIds.slice(0, 2), hold_seconds: 1 });
    expect(res.status).toBe(201);
    expect(await countsOf(t, perf.id)).toEqual({ total: 3, available: 1, locked: 2, sold: 0 });
    await untilGone(t.redis, perf.ticketIds.slice(0, 2).map((id) => performanceKeys(perf.id).lockPrefix + id));
    expect(await countsOf(t, perf.id)).toEqual({ total: 3, available: 3, locked: 0, sold: 0 });
  });

  test('unknown -> 404 PERFORMANCE_NOT_FOUND; bad id -> 400', async () => {
    expectError(await getPerf(uniqueId('never')), 404, 'PERFORMANCE_NOT_FOUND');
    expectError(await getPerf('bad*id'), 400, 'INVALID_REQUEST');
  });
});

describe('GET /performances/{id}/tickets', () => {
  type Page = { status: number; body: { tickets: { id: string; state: string }[]; next_cursor: string | null } };

  async function walk(perfId: string, query: string, limit: number) {
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    do {
      const url = `/performances/${perfId}/tickets?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res: Page = await request(t.app).get(url).set(admin);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'OK' });
      expect(res.body.tickets.length).toBeLessThanOrEqual(limit);
      seen.push(...res.body.tickets.map((x) => x.id));
      cursor = res.body.next_cursor;
      pages++;
      expect(pages).toBeLessThan(1000);
    } while (cursor);
    return { seen, pages };
  }

  test('state=available walks every available ticket once, in pages of at most limit, in best-available order', async () => {
    const perf = await createPerformance(t, { rows: 3, seats: 4 }); // 12 tickets
    await hold([perf.ticketIds[0] as string]);
    const sizes: number[] = [];
    const seen: string[] = [];
    let cursor: string | null = '';
    do {
      const res: Page = await request(t.app)
        .get(`/performances/${perf.id}/tickets?state=available&limit=5${cursor ? `&cursor=${cursor}` : ''}`)
        .set(admin);
      expect(res.status).toBe(200);
      sizes.push(res.body.tickets.length);
      for (const x of res.body.tickets) expect(x.state).toBe('available');
      seen.push(...res.body.tickets.map((x) => x.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(sizes.every((n) => n <= 5)).toBe(true);
    expect(seen).toEqual(perf.ticketIds.slice(1)); // one of each, seat order at one price
  });

  test('state=locked pages over the held tickets and shows who holds them to the admin', async () => {
    const perf = await createPerformance(t, { rows: 2, seats: 5 });
    const aliceTx = await hold(perf.ticketIds.slice(0, 3));
    await hold(perf.ticketIds.slice(5, 7), KEYS.bob);
    const { seen, pages } = await walk(perf.id, '&state=locked', 2);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual([...perf.ticketIds.slice(0, 3), ...perf.ticketIds.slice(5, 7)].sort());
    expect(new Set(seen).size).toBe(seen.length);

    const one = await request(t.app).get(`/performances/${perf.id}/tickets?state=locked&limit=10`).set(admin);
    const a1 = one.body.tickets.find((x: { id: string }) => x.id === perf.ticketIds[0]);
    expect(a1).toMatchObject({ state: 'locked', transaction_id: aliceTx, locked_by: 'alice', locked_ip: expect.any(String) });
    expect(a1.lock_expires).toMatch(ISO_MS);
  });

  test('state=sold lists the sold tickets with their order numbers', async () => {
    const perf = await createPerformance(t, { rows: 2, seats: 5 });
    const order = await sell(perf.ticketIds.slice(2, 5));
    const { seen } = await walk(perf.id, '&state=sold', 2);
    expect([...seen].sort()).toEqual(perf.ticketIds.slice(2, 5).sort());
    expect(new Set(seen).size).toBe(seen.length);
    const page = await request(t.app).get(`/performances/${perf.id}/tickets?state=sold&limit=10`).set(admin);
    for (const x of page.body.tickets) expect(x).toMatchObject({ state: 'sold', sold: true, order_number: order });
  });

  test('no state: every ticket of a large performance exactly once, whatever its state', async () => {
    // 600 tickets: more than Redis keeps in a compact listpack, so HSCAN walks a real hash table
    const perf = await createPerformance(t, { rows: 20, seats: 30 });
    expect(await t.redis.call('OBJECT', 'ENCODING', `tix:{p:${perf.id}}:tickets`)).toBe('hashtable');
    await hold(perf.ticketIds.slice(0, 4));
    await sell(perf.ticketIds.slice(10, 12));
    const { seen, pages } = await walk(perf.id, '', 50);
    expect(pages).toBeGreaterThanOrEqual(12);
    expect(seen).toHaveLength(600);
    expect(new Set(seen)).toEqual(new Set(perf.ticketIds));
  });

  test('no state, small performance: every ticket exactly once, in pages of at most limit', async () => {
    const perf = await createPerformance(t, { rows: 2, seats: 5 }); // a listpack: HSCAN gives it whole
    const { seen, pages } = await walk(perf.id, '', 3);
    expect(pages).toBe(4); // 3 + 3 + 3 + 1
    expect([...seen].sort()).toEqual([...perf.ticketIds].sort());
  });

  test('limit=1 gives one ticket per page in every state', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 4 });
    await hold([perf.ticketIds[0] as string, perf.ticketIds[1] as string]);
    await sell([perf.ticketIds[2] as string]);
    for (const [query, expected] of [
      ['', perf.ticketIds],
      ['&state=available', perf.ticketIds.slice(3)],
      ['&state=locked', perf.ticketIds.slice(0, 2)],
      ['&state=sold', perf.ticketIds.slice(2, 3)],
    ] as const) {
      const { seen, pages } = await walk(perf.id, query, 1);
      expect([...seen].sort()).toEqual([...expected].sort());
      expect(pages).toBeGreaterThanOrEqual(expected.length);
    }
  });

  test('the default page is 100 tickets', async () => {
    const perf = await createPerformance(t, { rows: 5, seats: 30 });
    const res = await request(t.app).get(`/performances/${perf.id}/tickets`).set(admin);
    expect(res.body.tickets).toHaveLength(100);
    expect(res.body.next_cursor).toEqual(expect.any(String));
  });

  test('state=available paging works at the highest price', async () => {
    const id = uniqueId();
    const top = 2 ** 31 - 1;
    const tickets = Array.from({ length: 5 }, (_, i) => ({ id: `${id}-${i}`, row: 'A', seat: i + 1, price: top - (i % 2) }));
    expect((await put(id, { tickets })).status).toBe(200);
    const { seen } = await walk(id, '&state=available', 2);
    expect(seen).toEqual([`${id}-1`, `${id}-3`, `${id}-0`, `${id}-2`, `${id}-4`]);
  });

  test('an empty state gives an empty page with next_cursor null', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2 });
    const res = await request(t.app).get(`/performances/${perf.id}/tickets?state=sold`).set(admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'OK', tickets: [], next_cursor: null });
  });

  test('unknown performance -> 404; bad state, limit or cursor -> 400', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2 });
    expectError(await request(t.app).get(`/performances/${uniqueId('nope')}/tickets`).set(admin), 404, 'PERFORMANCE_NOT_FOUND');
    for (const q of ['state=held', 'limit=0', 'limit=1001', 'limit=ten', 'cursor=abc', 'state=sold&state=locked']) {
      const res = await request(t.app).get(`/performances/${perf.id}/tickets?${q}`).set(admin);
      const error = expectError(res, 400, 'INVALID_REQUEST');
      expect((error.issues as unknown[]).length).toBeGreaterThan(0);
    }
  });
});

describe('malformed ids in the path', () => {
  test.each([
    ['GET /performances/{id}', () => request(t.app).get('/performances/bad*id'), 'performance_id'],
    ['POST /performances/{id}/close', () => request(t.app).post('/performances/bad*id/close'), 'performance_id'],
    ['GET /performances/{id}/tickets', () => request(t.app).get('/performances/bad*id/tickets'), 'performance_id'],
    ['GET /tickets/{id}', () => request(t.app).get('/tickets/bad*id'), 'ticket_id'],
  ])('%s -> 400 naming the parameter', async (_route, call, path) => {
    const error = expectError(await call().set(admin), 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([{ path, message: expect.any(String) }]);
  });
});
