// Best available (search.lua and hold_best.lua through the store and over HTTP): cheapest first, then seat order;
// a run of adjacent seats in one row preferred when it costs no more; filters; NOT_ENOUGH_TICKETS.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { as, callerOf, KEYS, putPerformance, uniqueId, useTestApp } from './support/app';

const t = useTestApp({ LOCK_TTL_SECONDS: '60' });

const bob = callerOf('bob');
type Spec = { row?: string; seat?: string | number; price?: number; section?: string; price_level?: string };

/** A performance from [name, spec] pairs; ticket id = `${perf}-${name}`. */
async function perfOf(specs: [string, Spec][], settings: Record<string, unknown> = {}) {
  const perf = uniqueId();
  await putPerformance(
    t,
    perf,
    specs.map(([name, s]) => ({ id: `${perf}-${name}`, section: 'ORCH', price: 5000, ...s })),
    settings,
  );
  return { perf, id: (name: string) => `${perf}-${name}` };
}

const rowOf = (row: string, seats: number[], price = 5000, extra: Spec = {}): [string, Spec][] =>
  seats.map((s) => [`${row}${s}`, { row, seat: s, price, ...extra }]);

async function best(perf: string, quantity: number, filters: Record<string, unknown> = {}) {
  const tickets = await t.store.search(perf, { quantity, ...filters });
  return tickets.map((x) => x.id.slice(perf.length + 1));
}

/** Takes tickets out of the running (bob holds them). */
const take = (perf: string, ids: string[]) =>
  t.store.hold({ transactionId: randomUUID(), performanceId: perf, caller: bob, holdSeconds: 60 }, ids);

describe('best available', () => {
  test('cheapest first, then section / row / seat order (natural: 2 before 10)', async () => {
    const { perf } = await perfOf([
      ...rowOf('B', [1, 2], 3000),
      ...rowOf('A', [10, 2, 1], 3000),
      ...rowOf('A', [3], 9000),
      ['G1', { section: 'BALC', row: 'A', seat: 1, price: 1000 }],
    ]);
    expect(await best(perf, 1)).toEqual(['G1']);
    // BALC 1000 first; then the 3000s in seat order (A1-A2 is a run, but G1 + A1 costs less)
    expect(await best(perf, 5)).toEqual(['G1', 'A1', 'A2', 'A10', 'B1']);
    expect(await best(perf, 2)).toEqual(['G1', 'A1']);
  });

  test('a run of adjacent seats in one row is preferred when it costs no more', async () => {
    const { perf, id } = await perfOf(rowOf('A', [1, 2, 3, 4, 5]));
    await take(perf, [id('A2')]);
    expect(await best(perf, 2)).toEqual(['A3', 'A4']); // not A1 + A3
    expect(await best(perf, 3)).toEqual(['A3', 'A4', 'A5']);
    expect(await best(perf, 4)).toEqual(['A1', 'A3', 'A4', 'A5']); // no run of 4: cheapest in seat order
  });

  test('but never at a higher price than the cheapest pick', async () => {
    const { perf, id } = await perfOf([...rowOf('A', [1], 4000), ...rowOf('A', [2, 3, 4], 5000)]);
    await take(perf, [id('A2')]);
    expect(await best(perf, 2)).toEqual(['A1', 'A3']); // 9000 beats the run A3-A4 at 10000
  });

  test('a gap in seat numbers is not adjacency', async () => {
    const { perf } = await perfOf(rowOf('A', [1, 3, 5, 6, 8]));
    expect(await best(perf, 2)).toEqual(['A5', 'A6']);
    expect(await best(perf, 3)).toEqual(['A1', 'A3', 'A5']); // no run of 3 exists
  });

  test('a row change or a section change is not adjacency', async () => {
    const { perf, id } = await perfOf([
      ...rowOf('A', [1, 2, 3]),
      ...rowOf('B', [1, 2, 3]),
      ['X4', { section: 'PIT', row: 'A', seat: 4 }],
      ['X5', { section: 'PIT', row: 'A', seat: 5 }],
    ]);
    await take(perf, [id('A1'), id('A2')]);
    expect(await best(perf, 2)).toEqual(['B1', 'B2']); // not A3 + B1
    await take(perf, [id('B1'), id('B2')]);
    // ORCH A3, ORCH B3, PIT A4, PIT A5: the only run is in PIT
    expect(await best(perf, 2)).toEqual(['X4', 'X5']);
  });

  test('tickets without rows or seats (general admission): cheapest first, in id order', async () => {
    const { perf } = await perfOf([
      ['GA3', { price: 2000 }],
      ['GA1', { price: 2000 }],
      ['GA2', { price: 2000 }],
      ['VIP', { price: 1500 }],
    ]);
    expect(await best(perf, 3)).toEqual(['VIP', 'GA1', 'GA2']);
  });

  test('filters: section, price_level, max_price (inclusive)', async () => {
    const { perf } = await perfOf([
      ...rowOf('A', [1, 2], 2000, { price_level: 'C' }),
      ...rowOf('B', [1, 2], 4000, { price_level: 'B' }),
      ...rowOf('C', [1, 2], 6000, { price_level: 'A' }),
      ['P1', { section: 'BALC', row: 'A', seat: 1, price: 3000, price_level: 'B' }],
      ['P2', { section: 'BALC', row: 'A', seat: 2, price: 3000, price_level: 'B' }],
    ]);
    expect(await best(perf, 2, { section: 'ORCH' })).toEqual(['A1', 'A2']);
    expect(await best(perf, 2, { section: 'BALC' })).toEqual(['P1', 'P2']);
    expect(await best(perf, 3, { price_level: 'B' })).toEqual(['P1', 'P2', 'B1']);
    expect(await best(perf, 2, { price_level: 'A' })).toEqual(['C1', 'C2']);
    expect(await best(perf, 4, { max_price: 3000 })).toEqual(['A1', 'A2', 'P1', 'P2']);
    expect(await best(perf, 2, { section: 'ORCH', price_level: 'B', max_price: 4000 })).toEqual(['B1', 'B2']);
    await expect(best(perf, 5, { max_price: 3000 })).rejects.toMatchObject({ code: 'NOT_ENOUGH_TICKETS', details: { available: 4 } });
    await expect(best(perf, 3, { max_price: 3999, section: 'ORCH' })).rejects.toMatchObject({
      code: 'NOT_ENOUGH_TICKETS',
      details: { available: 2 },
    });
    await expect(best(perf, 1, { section: 'NOPE' })).rejects.toMatchObject({ code: 'NOT_ENOUGH_TICKETS', details: { available: 0 } });
  });

  test('over HTTP: GET /tickets and a best-available POST /transaction pick the same seats', async () => {
    const { perf, id } = await perfOf([...rowOf('A', [1, 2, 3, 4, 5, 6]), ...rowOf('B', [1, 2, 3], 1000, { price_level: 'LOW' })]);
    await take(perf, [id('B2'), id('A3')]);
    const search = await request(t.app).get(`/tickets?performance_id=${perf}&quantity=2&section=ORCH`).set(as(KEYS.alice));
    expect(search.status).toBe(200);
    // B1 and B3 are cheapest (1000 each, 2000 in all), so they beat any run at 5000
    expect(search.body.tickets.map((x: { id: string }) => x.id)).toEqual([id('B1'), id('B3')]);

    const hold = await request(t.app)
      .post('/transaction')
      .set(as(KEYS.alice))
      .send({ performance_id: perf, quantity: 3, max_price: 5000 });
    expect(hold.status).toBe(201);
    // cheapest three: B1, B3 (1000) + A1 (5000); a run of 3 costs 15000 > 7000
    expect(hold.body.tickets.map((x: { id: string }) => x.id)).toEqual([id('B1'), id('B3'), id('A1')]);
    const run = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: perf, quantity: 2 });
    expect(run.body.tickets.map((x: { id: string }) => x.id)).toEqual([id('A4'), id('A5')]);

    const tooMany = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: perf, quantity: 3 });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 2 });
    const search409 = await request(t.app).get(`/tickets?performance_id=${perf}&quantity=3`).set(as(KEYS.alice));
    expect(search409.status).toBe(409);
    expect(search409.body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 2 });
  });

  test('adjacency is looked for among the best max(64, 8 × quantity) candidates only (bounded cost)', async () => {
    const odd = (n: number) => Array.from({ length: n }, (_, i) => 2 * i + 1);
    const even = (n: number) => Array.from({ length: n }, (_, i) => 2 * i + 2);
    const within = await perfOf([...rowOf('A', [...odd(30), ...even(30)].sort((a, b) => a - b)), ...rowOf('B', [1, 2])]);
    const beyond = await perfOf([...rowOf('A', [...odd(70), ...even(70)].sort((a, b) => a - b)), ...rowOf('B', [1, 2])]);
    for (const { perf, id } of [within, beyond]) {
      const evens = even(perf === within.perf ? 30 : 70).map((s) => id(`A${s}`));
      for (let i = 0; i < evens.length; i += 10) await take(perf, evens.slice(i, i + 10));
    }
    // 30 lone seats, then a pair: within the 64 best candidates, so the pair wins at the same price
    expect(await best(within.perf, 2)).toEqual(['B1', 'B2']);
    // 70 lone seats first: the pair lies beyond the window, so the cheapest in seat order are picked
    expect(await best(beyond.perf, 2)).toEqual(['A1', 'A3']);
    // a larger quantity widens the window (8 × 9 = 72 candidates, still no run of 9 in reach)
    expect(await best(beyond.perf, 9)).toEqual(odd(9).map((s) => `A${s}`));
  });
});

describe('seat order of a large PUT', () => {
  test('tickets given in any order, more than one load chunk (2,000): best available follows seat order', async () => {
    const perf = uniqueId();
    const tickets = [];
    for (let r = 0; r < 45; r++) {
      const row = `R${r + 1}`;
      for (let s = 1; s <= 100; s++) tickets.push({ id: `${perf}-${row}-${s}`, section: 'ORCH', row, seat: s, price: 5000 });
    }
    // a fixed shuffle, so the first 2,000 given are scattered over every row
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = tickets.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [tickets[i], tickets[j]] = [tickets[j]!, tickets[i]!];
    }
    const p = await putPerformance(t, perf, tickets);
    expect(p.counts).toEqual({ total: 4500, available: 4500, locked: 0, sold: 0 });
    expect(await best(perf, 4)).toEqual(['R1-1', 'R1-2', 'R1-3', 'R1-4']);
    const page = await t.store.listTickets(perf, 'available', 250, '');
    expect(page.tickets.map((x) => x.id.slice(perf.length + 1))).toEqual([
      ...Array.from({ length: 100 }, (_, i) => `R1-${i + 1}`),
      ...Array.from({ length: 100 }, (_, i) => `R2-${i + 1}`),
      ...Array.from({ length: 50 }, (_, i) => `R3-${i + 1}`),
    ]);
  });
});
