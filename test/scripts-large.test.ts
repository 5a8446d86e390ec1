// Inventory size independence, as behaviour: a performance of 100,000 tickets (two PUTs of 50,000) answers
// search, best-available and explicit holds correctly, with the cheapest seats deep inside the inventory.
import request from 'supertest';
import { assignRelativeOrds } from '../src/domain/seat-order';
import { performanceKeys } from '../src/redis/keys';
import { as, KEYS, putPerformance, uniqueId, useTestApp } from './support/app';

// a PUT of 50,000 tickets on a busy CI machine: a command may wait longer than the default 2 s; the point here is
// correctness at scale, not timeouts
const t = useTestApp({ LOCK_TTL_SECONDS: '60', REDIS_COMMAND_TIMEOUT_MS: '15000' });

const ROWS = 500;
const SEATS = 100;

function section(perf: string, name: string, price: (row: number) => number) {
  const tickets = [];
  for (let r = 1; r <= ROWS; r++) {
    for (let s = 1; s <= SEATS; s++) {
      tickets.push({ id: `${perf}-${name}-${r}-${s}`, section: name, row: String(r), seat: String(s), price: price(r) });
    }
  }
  return tickets;
}

test('100,000 tickets: search and holds answer correctly wherever the best seats lie', async () => {
  const perf = uniqueId('big');
  const short = (id: string) => id.slice(perf.length + 1);
  // ORCH: rows 1-250 at 9000, rows 251-500 at 7000; BALC: 6000, except row 317 at 2500 (the cheapest).
  // ORCH comes in one PUT of 50,000; BALC straight through the store in chunks of 2,000 as the use case loads them
  // (skipping the ticket -> performance claim, which is what makes a PUT slow, so BALC is held by best available only).
  const first = await putPerformance(t, perf, section(perf, 'ORCH', (r) => (r <= 250 ? 9000 : 7000)), { name: 'Big night' });
  expect(first.counts).toEqual({ total: 50_000, available: 50_000, locked: 0, sold: 0 });
  const code = (await t.store.performanceInfo(perf))?.code;
  const balc = assignRelativeOrds(section(perf, 'BALC', (r) => (r === 317 ? 2500 : 6000)));
  for (let i = 0; i < balc.length; i += 2000) await t.store.loadInventory(perf, { code }, balc.slice(i, i + 2000));
  const info0 = await request(t.app).get(`/performances/${perf}`).set(as(KEYS.admin));
  expect(info0.body.performance.counts).toEqual({ total: 100_000, available: 100_000, locked: 0, sold: 0 });

  const ids = async (query: string) => {
    const res = await request(t.app).get(`/tickets?performance_id=${perf}&${query}`).set(as(KEYS.alice));
    expect(res.status).toBe(200);
    return res.body.tickets.map((x: { id: string }) => short(x.id));
  };
  expect(await ids('quantity=4')).toEqual(['BALC-317-1', 'BALC-317-2', 'BALC-317-3', 'BALC-317-4']);
  expect(await ids('quantity=2&section=ORCH&max_price=8000')).toEqual(['ORCH-251-1', 'ORCH-251-2']);

  // best-available holds take row 317 ten at a time, in seat order
  const held: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: perf, quantity: 10 });
    expect(res.status).toBe(201);
    held.push(...res.body.tickets.map((x: { id: string }) => short(x.id)));
  }
  expect(held).toEqual(Array.from({ length: 100 }, (_, i) => `BALC-317-${i + 1}`));
  const none = await request(t.app).get(`/tickets?performance_id=${perf}&quantity=1&max_price=2500`).set(as(KEYS.alice));
  expect(none.body.error).toMatchObject({ code: 'NOT_ENOUGH_TICKETS', available: 0 });
  // next cheapest: BALC at 6000, first in seat order
  expect(await ids('quantity=3')).toEqual(['BALC-1-1', 'BALC-1-2', 'BALC-1-3']);

  // explicit holds at the far ends of the inventory
  const far = [`${perf}-ORCH-1-1`, `${perf}-ORCH-500-100`];
  const hold = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: far });
  expect(hold.status).toBe(201);
  const owners = await t.redis.mget(far.map((id) => performanceKeys(perf).lockPrefix + id));
  expect(owners).toEqual([hold.body.transaction_id, hold.body.transaction_id]);
  const clash = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: [`${perf}-ORCH-500-99`, far[1]] });
  expect(clash.status).toBe(409);
  expect(clash.body.error.tickets).toEqual([{ id: far[1], reason: 'locked' }]);

  const done = await request(t.app).put(`/transaction/${hold.body.transaction_id}`).set(as(KEYS.bob)).send({ status: 'complete' });
  expect(done.status).toBe(200);
  const info = await request(t.app).get(`/performances/${perf}`).set(as(KEYS.admin));
  expect(info.body.performance.counts).toEqual({ total: 100_000, available: 99_898, locked: 100, sold: 2 });
}, 180_000); // loads 100,000 tickets: ~14 s alone, about 30 s on a loaded 2-core machine
