// GET /performances/{id}/tickets while the tickets hash grows between pages: every ticket there from the first page
// to the last is listed. The all-tickets and sold listings walk the hash with HSCAN; a batch longer than the page is
// handed out over pages by asking HSCAN for the same cursor again, and a grown hash (a rehash, or here a listpack
// turned hashtable) need not give the same batch back: by position, pages skipped tickets (seen in the Redis-restart
// test, where a rehash finished right after the AOF was loaded); by id, they do not.
import request from 'supertest';
import { as, createPerformance, KEYS, useTestApp } from './support/app';

const t = useTestApp();
const admin = as(KEYS.admin);

async function page(perfId: string, limit: number, cursor: string) {
  const res = await request(t.app)
    .get(`/performances/${perfId}/tickets?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    .set(admin);
  expect(res.status).toBe(200);
  expect(res.body.tickets.length).toBeLessThanOrEqual(limit);
  return { ids: (res.body.tickets as { id: string }[]).map((x) => x.id), next: res.body.next_cursor as string | null };
}

test.each([
  ['a small hash (one HSCAN batch) turned into a hashtable', 4, 25, 400],
  ['a hashtable that grows (rehashes) between pages', 10, 20, 2000],
])('%s: every ticket of the first page onwards is listed', async (_what, rows, seats, added) => {
  const perf = await createPerformance(t, { rows, seats });
  const seen = new Set<string>();
  const first = await page(perf.id, 30, '');
  first.ids.forEach((id) => seen.add(id));
  expect(first.next).not.toBeNull();

  // more tickets for the same performance, loaded between two pages (an admin adding a block mid-listing)
  const more = Array.from({ length: added }, (_, i) => ({ id: `${perf.id}-X${i}`, section: 'BALC', row: 'X', seat: i + 1, price: 3000 }));
  const load = await request(t.app).put(`/performances/${perf.id}`).set(admin).send({ name: 'Test show', tickets: more });
  expect(load.status).toBe(200);

  let cursor = first.next;
  for (let pages = 1; cursor; pages++) {
    const next = await page(perf.id, 30, cursor);
    next.ids.forEach((id) => seen.add(id));
    cursor = next.next;
    expect(pages).toBeLessThan(1000);
  }
  expect(perf.ticketIds.filter((id) => !seen.has(id))).toEqual([]);
});

test('a cursor carrying a ticket id is accepted; one that is not a cursor is refused', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  expect((await request(t.app).get(`/performances/${perf.id}/tickets?cursor=12.${perf.id}-A1`).set(admin)).status).toBe(200);
  for (const bad of ['abc', '.x', '1.', '1.a b', '1'.repeat(21)]) {
    const res = await request(t.app).get(`/performances/${perf.id}/tickets?cursor=${encodeURIComponent(bad)}`).set(admin);
    expect(res.status).toBe(400);
  }
});
