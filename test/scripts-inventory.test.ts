// Redis-level tests of the inventory scripts: load_inventory, performance_info, search, list_tickets, read_ticket,
// and the key layout of a performance (lua/*.lua through RedisLockStore, raw state read with ioredis).
import { randomUUID } from 'node:crypto';
import { assignRelativeOrds } from '../src/domain/seat-order';
import type { InventoryTicket } from '../src/domain/types';
import { ORD_SPAN, performanceCodeKey, performanceKeys, ticketIndexKey, transactionKey } from '../src/redis/keys';
import { mintTransactionId } from '../src/domain/transaction-id';
import { runBound } from '../src/redis/script-bindings';
import { availableScore, callerOf, uniqueId, useTestApp } from './support/app';

const t = useTestApp();

const alice = callerOf('alice');
const bob = callerOf('bob');

/** Loads tickets straight through the store (as InventoryService does for one chunk). */
async function load(perf: string, tickets: InventoryTicket[], settings: Record<string, unknown> = {}) {
  return t.store.loadInventory(perf, { code: 4242, ...settings }, assignRelativeOrds(tickets));
}

const seat = (perf: string, row: string, s: number, price = 5000, extra: Partial<InventoryTicket> = {}) => ({
  id: `${perf}-${row}${s}`,
  section: 'ORCH',
  row,
  seat: String(s),
  price,
  ...extra,
});

async function record(perf: string, id: string) {
  const rec = await t.redis.hget(performanceKeys(perf).tickets, id);
  if (rec === null) return undefined;
  const [ord, price, section, row, seatNo, level] = rec.split('|');
  return { ord: Number(ord), price: Number(price), section, row, seat: seatNo, price_level: level, raw: rec };
}

const availScore = (perf: string, id: string) => availableScore(t.redis, perf, id);

async function hold(perf: string, ids: string[], who = alice, holdSeconds: number | undefined = 60) {
  return t.store.hold({ transactionId: randomUUID(), performanceId: perf, caller: who, holdSeconds }, ids);
}

const access = (perf: string, txid: string, who = alice) => ({ caller: who, transactionId: txid, performanceId: perf });
const none = { customer: undefined, paymentReference: undefined };

/** The hash tag Redis Cluster hashes a key by (the text between the first { and the next }, when not empty). */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

async function keysMatching(pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await t.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

describe('load_inventory', () => {
  test('adds tickets: record "ord|price|section|row|seat|price_level", seat order natural, score = price * 2^22 + ord', async () => {
    const perf = uniqueId();
    // given out of order on purpose
    const tickets = [
      seat(perf, 'B', 1),
      seat(perf, 'A', 10),
      seat(perf, 'A', 2, 5000, { price_level: 'P1' }),
      seat(perf, 'A', 1),
    ];
    expect(await load(perf, tickets, { name: 'Show', hold_seconds: 30, max_tickets_per_transaction: 4 })).toMatchObject({
      added: 4,
      updated: 0,
      skippedSold: 0,
    });
    const a1 = await record(perf, `${perf}-A1`);
    const a2 = await record(perf, `${perf}-A2`);
    const a10 = await record(perf, `${perf}-A10`);
    const b1 = await record(perf, `${perf}-B1`);
    expect(a2?.raw).toBe(`${a2?.ord}|5000|ORCH|A|2|P1`);
    expect(a1?.raw).toBe(`${a1?.ord}|5000|ORCH|A|1|`);
    // natural seat order: A1, A2, A10, B1; adjacent seats +1, a gap in numbers or a new row +2
    expect(a2!.ord - a1!.ord).toBe(1);
    expect(a10!.ord - a2!.ord).toBe(2);
    expect(b1!.ord - a10!.ord).toBe(2);
    for (const [id, r] of [
      ['A1', a1],
      ['A2', a2],
      ['A10', a10],
      ['B1', b1],
    ] as const) {
      expect(await availScore(perf, `${perf}-${id}`)).toBe(5000 * ORD_SPAN + r!.ord);
    }
    const p = await t.redis.hgetall(performanceKeys(perf).performance);
    expect(p).toMatchObject({ name: 'Show', hold_seconds: '30', max_tickets_per_transaction: '4', code: '4242' });
    expect(Number(p.created_at)).toBeGreaterThan(1.7e12);
    // the next batch starts after every ord this one used, with a gap (never adjacent across batches)
    expect(Number(p.next_ord)).toBeGreaterThanOrEqual(b1!.ord + 2);
  });

  test('a later batch goes after the earlier ones and is never adjacent to them', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1), seat(perf, 'A', 2)]);
    await load(perf, [seat(perf, 'A', 3), seat(perf, 'A', 4)]);
    const [a2, a3, a4] = await Promise.all(['A2', 'A3', 'A4'].map((s) => record(perf, `${perf}-${s}`)));
    expect(a3!.ord - a2!.ord).toBeGreaterThanOrEqual(2);
    expect(a4!.ord - a3!.ord).toBe(1);
  });

  test('updates unsold tickets in place: given attributes replace, absent ones are kept, the ord stays', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1, 5000, { price_level: 'P1' }), seat(perf, 'A', 2)]);
    const before = await record(perf, `${perf}-A1`);
    const nextOrd = await t.redis.hget(performanceKeys(perf).performance, 'next_ord');

    const r = await load(perf, [{ id: `${perf}-A1`, price: 4000 }, { id: `${perf}-A2`, section: 'BALC' }]);
    expect(r).toMatchObject({ added: 0, updated: 2, skippedSold: 0 });
    const after = await record(perf, `${perf}-A1`);
    expect(after).toMatchObject({ ord: before!.ord, price: 4000, section: 'ORCH', row: 'A', seat: '1', price_level: 'P1' });
    expect((await record(perf, `${perf}-A2`))?.section).toBe('BALC');
    // a free ticket's place in the available index follows its new price
    expect(await availScore(perf, `${perf}-A1`)).toBe(4000 * ORD_SPAN + before!.ord);
    // updates spend no seat-order space
    expect(await t.redis.hget(performanceKeys(perf).performance, 'next_ord')).toBe(nextOrd);
  });

  test("a locked ticket's new price counts once it is free again; it is not made available while locked", async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1), seat(perf, 'A', 2)]);
    const tx = await hold(perf, [`${perf}-A2`]);
    await load(perf, [{ id: `${perf}-A2`, price: 3000 }]);
    expect(await availScore(perf, `${perf}-A2`)).toBeNull();
    expect(await t.redis.get(performanceKeys(perf).lockPrefix + `${perf}-A2`)).toBe(tx.id);
    await t.store.release(access(perf, tx.id));
    const { ord } = (await record(perf, `${perf}-A2`))!;
    expect(await availScore(perf, `${perf}-A2`)).toBe(3000 * ORD_SPAN + ord);
    // and it is now the cheapest
    expect((await t.store.search(perf, { quantity: 1 })).map((x) => x.id)).toEqual([`${perf}-A2`]);
  });

  test('a sold ticket is never changed or made available again', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1), seat(perf, 'A', 2)]);
    const tx = await hold(perf, [`${perf}-A1`]);
    await t.store.complete(access(perf, tx.id), undefined, none);
    const before = await record(perf, `${perf}-A1`);

    const r = await load(perf, [
      { id: `${perf}-A1`, price: 1, section: 'X', row: 'Z', seat: '99' },
      { id: `${perf}-A2`, price: 10 },
    ]);
    expect(r).toMatchObject({ added: 0, updated: 1, skippedSold: 1 });
    expect(await record(perf, `${perf}-A1`)).toEqual(before);
    expect(await availScore(perf, `${perf}-A1`)).toBeNull();
    expect(await t.redis.hget(performanceKeys(perf).sold, `${perf}-A1`)).toMatch(new RegExp(`\\|${tx.id}$`));
    const info = await t.store.performanceInfo(perf);
    expect(info?.counts).toEqual({ total: 2, available: 1, locked: 0, sold: 1 });
  });

  test('the order-number code is written once; settings are updated by later loads', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1)], { code: 11, name: 'First' });
    await load(perf, [], { code: 12, name: 'Second', hold_seconds: 45 });
    const p = await t.redis.hgetall(performanceKeys(perf).performance);
    expect(p).toMatchObject({ code: '11', name: 'Second', hold_seconds: '45' });
    expect(Number(p.updated_at)).toBeGreaterThanOrEqual(Number(p.created_at));
  });

  test('a performance that would exceed 2^22 seat-order places refuses the batch and writes nothing', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1)]);
    const k = performanceKeys(perf);
    await t.redis.hset(k.performance, 'next_ord', ORD_SPAN - 2);
    await expect(load(perf, [seat(perf, 'B', 1), seat(perf, 'C', 1)])).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      details: { issues: [{ path: 'tickets', message: expect.stringContaining(String(ORD_SPAN)) }] },
    });
    expect(await t.redis.hexists(k.tickets, `${perf}-B1`)).toBe(0);
    expect(await t.redis.hget(k.performance, 'next_ord')).toBe(String(ORD_SPAN - 2));
    // updating existing tickets needs no new places
    expect(await load(perf, [{ id: `${perf}-A1`, price: 100 }])).toMatchObject({ added: 0, updated: 1, skippedSold: 0 });
  });
});

describe('performance_info', () => {
  test('unknown performance: undefined', async () => {
    expect(await t.store.performanceInfo(uniqueId())).toBeUndefined();
  });

  test('settings and live counts (available + locked + sold = total)', async () => {
    const perf = uniqueId();
    await load(perf, [1, 2, 3, 4, 5].map((s) => seat(perf, 'A', s)), { name: 'Gala', starts_at: '2026-12-01T20:00:00.000Z' });
    const sold = await hold(perf, [`${perf}-A1`]);
    await t.store.complete(access(perf, sold.id), undefined, none);
    await hold(perf, [`${perf}-A2`, `${perf}-A3`], bob);
    const info = await t.store.performanceInfo(perf);
    expect(info).toMatchObject({
      id: perf,
      name: 'Gala',
      starts_at: '2026-12-01T20:00:00.000Z',
      code: 4242,
      counts: { total: 5, available: 2, locked: 2, sold: 1 },
    });
    expect(info?.hold_seconds).toBeUndefined();
    expect(info?.created_at_ms).toBeGreaterThan(1.7e12);
  });
});

describe('search', () => {
  test('unknown performance: PERFORMANCE_NOT_FOUND', async () => {
    await expect(t.store.search(uniqueId(), { quantity: 1 })).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
  });

  test('the cheapest available tickets with their attributes; locks nothing', async () => {
    const perf = uniqueId();
    await load(perf, [
      seat(perf, 'A', 1, 9000),
      seat(perf, 'A', 2, 9000),
      seat(perf, 'B', 1, 2000, { price_level: 'CHEAP' }),
      seat(perf, 'B', 2, 2000, { price_level: 'CHEAP' }),
    ]);
    const found = await t.store.search(perf, { quantity: 3 });
    expect(found.map((x) => x.id)).toEqual([`${perf}-B1`, `${perf}-B2`, `${perf}-A1`]);
    expect(found[0]).toMatchObject({ performance_id: perf, section: 'ORCH', row: 'B', seat: '1', price: 2000, price_level: 'CHEAP' });
    expect(found[0]?.holder).toBeUndefined();
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
    expect(await keysMatching(`${performanceKeys(perf).lockPrefix}*`)).toEqual([]);
  });

  test('locked and sold tickets are not offered; too few → NOT_ENOUGH_TICKETS with the available count', async () => {
    const perf = uniqueId();
    await load(perf, [1, 2, 3, 4].map((s) => seat(perf, 'A', s)));
    await hold(perf, [`${perf}-A1`]);
    const s = await hold(perf, [`${perf}-A2`]);
    await t.store.complete(access(perf, s.id), undefined, none);
    expect((await t.store.search(perf, { quantity: 2 })).map((x) => x.id)).toEqual([`${perf}-A3`, `${perf}-A4`]);
    await expect(t.store.search(perf, { quantity: 3 })).rejects.toMatchObject({
      code: 'NOT_ENOUGH_TICKETS',
      details: { available: 2 },
    });
  });
});

describe('list_tickets', () => {
  test('unknown performance: PERFORMANCE_NOT_FOUND', async () => {
    await expect(t.store.listTickets(uniqueId(), undefined, 10, '')).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
  });

  test('pages of each state cover every ticket of that state exactly once', async () => {
    const perf = uniqueId();
    const all = [];
    for (const row of ['A', 'B', 'C']) for (let s = 1; s <= 9; s++) all.push(seat(perf, row, s, 1000 * s));
    await load(perf, all);
    const locked = await hold(perf, [`${perf}-A1`, `${perf}-B5`]);
    const sold = await hold(perf, [`${perf}-C9`]);
    await t.store.complete(access(perf, sold.id), undefined, none);

    async function pages(state: 'available' | 'locked' | 'sold' | undefined, limit: number) {
      const ids: string[] = [];
      let cursor = '';
      for (let n = 0; n < 100; n++) {
        const page = await t.store.listTickets(perf, state, limit, cursor);
        ids.push(...page.tickets.map((x) => x.id));
        if (!page.nextCursor) return { ids, tickets: page.tickets };
        cursor = page.nextCursor;
      }
      throw new Error('no last page');
    }

    const available = await pages('available', 4);
    expect(available.ids).toHaveLength(24);
    expect(new Set(available.ids).size).toBe(24);
    // in availability order: cheapest first, then seat order
    const prices = await Promise.all(available.ids.map(async (id) => (await record(perf, id))!.price));
    expect([...prices].sort((a, b) => a - b)).toEqual(prices);
    expect(available.ids).not.toContain(`${perf}-A1`);

    const held = await t.store.listTickets(perf, 'locked', 10, '');
    expect(held.tickets.map((x) => x.id).sort()).toEqual([`${perf}-A1`, `${perf}-B5`]);
    expect(held.tickets.every((x) => x.holder === locked.id && x.lock_expires_ms === locked.lock_expires_ms)).toBe(true);

    const soldPage = await t.store.listTickets(perf, 'sold', 10, '');
    expect(soldPage.tickets).toEqual([
      expect.objectContaining({ id: `${perf}-C9`, order_number: expect.any(String), sold_by_transaction: sold.id }),
    ]);

    const everything = await pages(undefined, 5);
    expect(new Set(everything.ids)).toEqual(new Set(all.map((x) => x.id)));
  });
});

describe('read_ticket', () => {
  test('unknown ticket: undefined', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1)]);
    expect(await t.store.readTicket(perf, `${perf}-Z9`)).toBeUndefined();
  });

  test('available, locked (with holder, client and ip) and sold', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1), seat(perf, 'A', 2), seat(perf, 'A', 3)]);
    const held = await hold(perf, [`${perf}-A2`], callerOf('bob', 'client', '192.0.2.7'));
    const sold = await hold(perf, [`${perf}-A3`]);
    const done = await t.store.complete(access(perf, sold.id), undefined, none);

    expect(await t.store.readTicket(perf, `${perf}-A1`)).toMatchObject({
      id: `${perf}-A1`,
      holder: undefined,
      order_number: undefined,
      holder_client: undefined,
    });
    expect(await t.store.readTicket(perf, `${perf}-A2`)).toMatchObject({
      holder: held.id,
      lock_expires_ms: held.lock_expires_ms,
      holder_client: 'bob',
      holder_ip: '192.0.2.7',
    });
    expect(await t.store.readTicket(perf, `${perf}-A3`)).toMatchObject({
      holder: undefined,
      order_number: done.order_number,
      sold_by_transaction: sold.id,
    });
  });
});

describe('Redis model', () => {
  test('every key of a performance carries its {p:<id>} hash tag; global indexes hold the mappings', async () => {
    const perf = uniqueId('tagcheck');
    await load(perf, [seat(perf, 'A', 1), seat(perf, 'A', 2), seat(perf, 'A', 3)]);
    const held = await hold(perf, [`${perf}-A1`]);
    const sold = await hold(perf, [`${perf}-A2`]);
    await t.store.complete(access(perf, sold.id), undefined, none);

    const keys = await keysMatching(`*${perf}*`);
    const k = performanceKeys(perf);
    expect(keys).toEqual(
      expect.arrayContaining([
        k.performance,
        k.tickets,
        k.available,
        k.holds,
        k.sold,
        k.outbox,
        k.lockPrefix + `${perf}-A1`,
        transactionKey(perf, held.id),
        transactionKey(perf, sold.id),
      ]),
    );
    for (const key of keys) expect(hashTag(key)).toBe(`p:${perf}`);
    // transaction id -> performance goes through the performance's code (in the id): a global key written when the
    // performance was created, never beside a hold
    const code = (await t.store.performanceCode(perf)) as number;
    expect(await t.redis.get(performanceCodeKey(code))).toBe(perf);
    expect(hashTag(performanceCodeKey(code))).not.toBe(`p:${perf}`);
    expect(await t.store.transactionPerformance(mintTransactionId(code))).toBe(perf);
    // ticket -> performance is claimed by the inventory use case (HTTP PUT), not by the script
    expect(ticketIndexKey(`${perf}-A1`)).toMatch(/^tix:tp:\d+$/);
  });

  test('script replies are plain integers, strings and arrays (RESP3 included)', async () => {
    const perf = uniqueId();
    await load(perf, [seat(perf, 'A', 1)]);
    const k = performanceKeys(perf);
    const reply = await runBound(t.redis, 'performance_info', { keys: k, args: {} });
    // ends_at, ends_ms, closed_at and archiving unset; the Redis clock last
    expect(reply).toEqual([1, '', '', '', '', expect.any(String), expect.any(String), '4242', 1, 1, 0, 0, '', '', '', '', expect.stringMatching(/^\d{13}$/)]);
    const missing = await runBound(t.redis, 'read_transaction', {
      keys: { ...k, transaction: transactionKey(perf, randomUUID()) },
      args: { client: 'alice', admin: '0' },
    });
    expect(missing).toEqual([-10]);
  });
});
