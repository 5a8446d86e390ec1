// Redis-level tests of the transaction scripts: hold, hold_best, extend, complete, release, read_transaction
// (lua/*.lua through RedisLockStore; raw lock keys, indexes and the outbox read with ioredis).
import { randomUUID } from 'node:crypto';
import { assignRelativeOrds } from '../src/domain/seat-order';
import type { InventoryTicket, TransactionState } from '../src/domain/types';
import { ORD_SPAN, performanceKeys, transactionKey } from '../src/redis/keys';
import { RedisDeadlines } from '../src/redis/clock';
import { RedisLockStore } from '../src/redis/lock-store';
import { runBound } from '../src/redis/script-bindings';
import { checkReply } from '../src/redis/codes';
import { availableScore, callerOf, uniqueId, useTestApp } from './support/app';
import { untilRedisTimeAdvances } from './support/lapse';

const ORDER_NUMBER = /^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/;
// LOCK_TTL_SECONDS is the default hold when neither the request nor the performance sets one
const t = useTestApp({ LOCK_TTL_SECONDS: '120' });

const alice = callerOf('alice', 'client', '198.51.100.1');
const bob = callerOf('bob', 'client', '198.51.100.2');
const root = callerOf('root', 'admin', '198.51.100.3');
const none = { customer: undefined, paymentReference: undefined };

/** A performance of `n` seats in row A (ids <perf>-A1..An) at 5000 cents, loaded through the store. */
async function performance(n = 6, settings: Record<string, unknown> = {}) {
  const perf = uniqueId();
  const tickets: InventoryTicket[] = [];
  for (let s = 1; s <= n; s++) tickets.push({ id: `${perf}-A${s}`, section: 'ORCH', row: 'A', seat: String(s), price: 5000 });
  await t.store.loadInventory(perf, { code: await t.store.nextPerformanceCode(), ...settings }, assignRelativeOrds(tickets));
  return { perf, ids: tickets.map((x) => x.id) };
}

const opts = (perf: string, who = alice, holdSeconds: number | undefined = 60, transactionId: string = randomUUID()) => ({
  transactionId,
  performanceId: perf,
  caller: who,
  holdSeconds,
});
const access = (tx: { id: string; performance_id: string }, who = alice) => ({
  caller: who,
  transactionId: tx.id,
  performanceId: tx.performance_id,
});

const lockKey = (perf: string, id: string) => performanceKeys(perf).lockPrefix + id;
const owners = (perf: string, ids: string[]) => t.redis.mget(ids.map((id) => lockKey(perf, id)));
const inAvailable = async (perf: string, id: string) => (await availableScore(t.redis, perf, id)) !== null;
const holdScore = async (perf: string, id: string) => t.redis.zscore(performanceKeys(perf).holds, id);
const txHash = (tx: TransactionState) => t.redis.hgetall(transactionKey(tx.performance_id, tx.id));
const xlen = (perf: string) => t.redis.xlen(performanceKeys(perf).outbox);

/** What a script that failed must leave as it was: every ticket's lock owner, availability and the counts. */
async function snapshot(perf: string, ids: string[]) {
  return {
    owners: await owners(perf, ids),
    available: await Promise.all(ids.map((id) => inAvailable(perf, id))),
    holds: await Promise.all(ids.map((id) => holdScore(perf, id))),
    sold: await t.redis.hgetall(performanceKeys(perf).sold),
    counts: (await t.store.performanceInfo(perf))?.counts,
    outbox: await xlen(perf),
  };
}

describe('hold', () => {
  test('locks every ticket: lock key = transaction id with a PTTL of the hold, out of available, into holds', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf, alice, 60), [ids[0]!, ids[2]!]);
    expect(tx).toMatchObject({ performance_id: perf, status: 'open', client: 'alice', ip: '198.51.100.1', hold_seconds: 60 });
    expect(tx.lock_expires_ms - tx.created_at_ms).toBe(60_000);
    expect(tx.tickets.map((x) => [x.id, x.holder, x.lock_expires_ms])).toEqual([
      [ids[0], tx.id, tx.lock_expires_ms],
      [ids[2], tx.id, tx.lock_expires_ms],
    ]);
    for (const id of [ids[0]!, ids[2]!]) {
      expect(await t.redis.get(lockKey(perf, id))).toBe(tx.id);
      const pttl = await t.redis.pttl(lockKey(perf, id));
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await inAvailable(perf, id)).toBe(false);
      expect(Number(await holdScore(perf, id))).toBe(tx.lock_expires_ms);
    }
    expect(await inAvailable(perf, ids[1]!)).toBe(true);
    expect(await t.redis.get(lockKey(perf, ids[1]!))).toBeNull();
    expect(await txHash(tx)).toMatchObject({ status: 'open', client: 'alice', tickets: `${ids[0]},${ids[2]}` });
    expect(await t.redis.pttl(transactionKey(perf, tx.id))).toBeGreaterThan(60_000);
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 6, available: 4, locked: 2, sold: 0 });
  });

  test('hold time: the request, else the performance setting, else LOCK_TTL_SECONDS', async () => {
    const plain = await performance(3);
    const own = await performance(3, { hold_seconds: 30 });
    const def = await t.store.hold({ ...opts(plain.perf), holdSeconds: undefined }, [plain.ids[0]!]);
    expect(def.hold_seconds).toBe(120);
    expect(def.lock_expires_ms - def.created_at_ms).toBe(120_000);
    const perfDefault = await t.store.hold({ ...opts(own.perf), holdSeconds: undefined }, [own.ids[0]!]);
    expect(perfDefault.hold_seconds).toBe(30);
    const asked = await t.store.hold(opts(own.perf, alice, 5), [own.ids[1]!]);
    expect(asked.hold_seconds).toBe(5);
    expect(await t.redis.pttl(lockKey(own.perf, own.ids[1]!))).toBeLessThanOrEqual(5_000);
  });

  test('conflict: TICKETS_UNAVAILABLE lists sold and locked tickets, locks nothing, creates no transaction', async () => {
    const { perf, ids } = await performance();
    const sold = await t.store.hold(opts(perf, bob), [ids[0]!]);
    await t.store.complete(access(sold, bob), undefined, none);
    const held = await t.store.hold(opts(perf, bob), [ids[1]!]);
    const before = await snapshot(perf, ids);

    const txid = randomUUID();
    await expect(t.store.hold(opts(perf, alice, 60, txid), [ids[2]!, ids[0]!, ids[1]!, ids[3]!])).rejects.toMatchObject({
      code: 'TICKETS_UNAVAILABLE',
      details: {
        tickets: [
          { id: ids[0], reason: 'sold' },
          { id: ids[1], reason: 'locked' },
        ],
      },
    });
    expect(await snapshot(perf, ids)).toEqual(before);
    expect(await t.redis.exists(transactionKey(perf, txid))).toBe(0);
    expect(await t.redis.get(lockKey(perf, ids[1]!))).toBe(held.id);
  });

  test('unknown tickets: TICKETS_NOT_FOUND with their ids; too many: INVALID_REQUEST', async () => {
    const { perf, ids } = await performance(6, { max_tickets_per_transaction: 2 });
    await expect(t.store.hold(opts(perf), [`${perf}-Q1`, ids[0]!])).rejects.toMatchObject({
      code: 'TICKETS_NOT_FOUND',
      details: { tickets: [`${perf}-Q1`] },
    });
    await expect(t.store.hold(opts(perf), [`${perf}-Q1`, `${perf}-Q2`])).rejects.toMatchObject({
      code: 'TICKETS_NOT_FOUND',
      details: { tickets: [`${perf}-Q1`, `${perf}-Q2`] },
    });
    await expect(t.store.hold(opts(perf), ids.slice(0, 3))).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      details: { issues: [{ path: 'tickets', message: expect.stringContaining('at most 2') }] },
    });
    expect((await t.store.performanceInfo(perf))?.counts.locked).toBe(0);
  });

  test('idempotent for its own transaction id: a re-sent hold returns the same transaction and locks nothing more', async () => {
    const { perf, ids } = await performance();
    const o = opts(perf);
    const first = await t.store.hold(o, [ids[0]!, ids[1]!]);
    const again = await t.store.hold(o, [ids[0]!, ids[1]!]);
    expect({ ...again, now_ms: 0 }).toEqual({ ...first, now_ms: 0 });
    // even a re-send carrying other tickets changes nothing
    const other = await t.store.hold(o, [ids[2]!, ids[3]!]);
    expect(other.tickets.map((x) => x.id)).toEqual([ids[0], ids[1]]);
    expect(await owners(perf, ids)).toEqual([first.id, first.id, null, null, null, null]);
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 6, available: 4, locked: 2, sold: 0 });
  });

});

describe('the hold deadline (a hold that reaches Redis after its caller gave up does nothing)', () => {
  const keys = (perf: string, txid: string) => ({ ...performanceKeys(perf), transaction: transactionKey(perf, txid) });
  const args = (perf: string, txid: string, deadline: number) => ({
    transaction_id: txid,
    performance_id: perf,
    client: 'alice',
    ip: '198.51.100.1',
    hold_seconds: 60,
    default_hold_seconds: 120,
    default_max_tickets: 10,
    open_record_ttl_ms: 900_000,
    buyer: '',
    buyer_max_tickets: 0,
    deadline,
  });
  const anywhere = { quantity: 2, max_price: '', section: '', price_level: '' };

  test('hold and hold_best past their deadline answer {-50} (503 UNAVAILABLE) and change nothing', async () => {
    const { perf, ids } = await performance(4);
    const before = await snapshot(perf, ids);
    const [seconds] = await t.redis.time();
    const past = Number(seconds) * 1000 - 1;
    const txid = randomUUID();
    const late = await runBound(t.redis, 'hold', { keys: keys(perf, txid), args: args(perf, txid, past), rest: [ids[0]!] });
    expect(late).toEqual([-50]);
    expect(() => checkReply(late, 'hold')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    const lateBest = await runBound(t.redis, 'hold_best', { keys: keys(perf, txid), args: { ...args(perf, txid, past), ...anywhere } });
    expect(lateBest).toEqual([-50]);
    expect(await t.redis.exists(transactionKey(perf, txid))).toBe(0);
    expect(await snapshot(perf, ids)).toEqual(before);
    // in time: works
    const inTime = await runBound(t.redis, 'hold', { keys: keys(perf, txid), args: args(perf, txid, past + 60_000), rest: [ids[0]!] });
    expect(inTime[0]).toBe(1);
  });

  test('a store with a deadline holds as usual while Redis answers in time', async () => {
    const store = new RedisLockStore(t.redis, t.config.domain, new RedisDeadlines(2000));
    const { perf, ids } = await performance(4);
    // the first hold teaches the store the Redis clock; the next ones carry a deadline
    for (const id of ids) expect((await store.hold(opts(perf), [id])).status).toBe('open');
  });
});

describe('hold_best', () => {
  test('picks and locks the best available in one step; idempotent for its own transaction id', async () => {
    const { perf, ids } = await performance();
    await t.store.hold(opts(perf, bob), [ids[0]!]);
    const o = opts(perf);
    const tx = await t.store.holdBest(o, { quantity: 2 });
    expect(tx.tickets.map((x) => x.id)).toEqual([ids[1], ids[2]]);
    expect(await owners(perf, [ids[1]!, ids[2]!])).toEqual([tx.id, tx.id]);
    const again = await t.store.holdBest(o, { quantity: 2 });
    expect(again.tickets.map((x) => x.id)).toEqual([ids[1], ids[2]]);
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 6, available: 3, locked: 3, sold: 0 });
  });

  test('too few: NOT_ENOUGH_TICKETS with the available count, nothing locked; unknown performance; too many', async () => {
    const { perf, ids } = await performance(4, { max_tickets_per_transaction: 3 });
    await t.store.hold(opts(perf, bob), [ids[0]!, ids[1]!]);
    const txid = randomUUID();
    await expect(t.store.holdBest(opts(perf, alice, 60, txid), { quantity: 3 })).rejects.toMatchObject({
      code: 'NOT_ENOUGH_TICKETS',
      details: { available: 2 },
    });
    expect(await t.redis.exists(transactionKey(perf, txid))).toBe(0);
    expect((await t.store.performanceInfo(perf))?.counts.locked).toBe(2);
    await expect(t.store.holdBest(opts(perf), { quantity: 4 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(t.store.holdBest(opts(uniqueId()), { quantity: 1 })).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
  });
});

describe('extend (checkout)', () => {
  test('resets every lock to now + the hold time and marks the transaction checkout', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf, alice, 30), [ids[0]!, ids[1]!]);
    await untilRedisTimeAdvances(t.redis); // so the extension's now is later than the hold's
    const ext = await t.store.extend(access(tx), undefined);
    expect(ext.status).toBe('checkout');
    expect(ext.lock_expires_ms).toBe(ext.now_ms + 30_000);
    expect(ext.lock_expires_ms).toBeGreaterThan(tx.lock_expires_ms);
    expect(ext.created_at_ms).toBe(tx.created_at_ms);
    for (const id of [ids[0]!, ids[1]!]) {
      expect(await t.redis.get(lockKey(perf, id))).toBe(tx.id);
      expect(Number(await holdScore(perf, id))).toBe(ext.lock_expires_ms);
    }
    expect(await txHash(tx)).toMatchObject({ status: 'checkout', lock_expires: String(ext.lock_expires_ms) });
    // again: the same transaction, still checkout
    const twice = await t.store.extend(access(tx), [ids[1]!, ids[0]!]);
    expect(twice.status).toBe('checkout');
    expect(await owners(perf, ids)).toEqual([tx.id, tx.id, null, null, null, null]);
  });

  test("another client's transaction: TRANSACTION_NOT_FOUND and nothing changes; an admin may", async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf, alice, 30), [ids[0]!]);
    const before = await snapshot(perf, ids);
    await expect(t.store.extend(access(tx, bob), undefined)).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
    expect(await snapshot(perf, ids)).toEqual(before);
    expect((await txHash(tx)).status).toBe('open');
    expect((await t.store.extend(access(tx, root), undefined)).status).toBe('checkout');
  });

  test('ticket list mismatch: INVALID_REQUEST and nothing changes', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!, ids[1]!]);
    const before = await snapshot(perf, ids);
    for (const wrong of [[ids[0]!], [ids[0]!, ids[1]!, ids[2]!], [ids[0]!, ids[2]!]]) {
      await expect(t.store.extend(access(tx), wrong)).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
        details: { issues: [{ path: 'tickets', message: expect.any(String) }] },
      });
    }
    expect(await snapshot(perf, ids)).toEqual(before);
    expect((await txHash(tx)).status).toBe('open');
  });

  test('unknown transaction id: TRANSACTION_NOT_FOUND', async () => {
    const { perf } = await performance(1);
    await expect(t.store.extend({ caller: alice, transactionId: randomUUID(), performanceId: perf }, undefined)).rejects.toMatchObject({
      code: 'TRANSACTION_NOT_FOUND',
    });
  });

  test('after complete or release: INVALID_TRANSACTION_STATE', async () => {
    const { perf, ids } = await performance();
    const done = await t.store.hold(opts(perf), [ids[0]!]);
    await t.store.complete(access(done), undefined, none);
    await expect(t.store.extend(access(done), undefined)).rejects.toMatchObject({
      code: 'INVALID_TRANSACTION_STATE',
      details: { transaction_status: 'complete' },
    });
    const gone = await t.store.hold(opts(perf), [ids[1]!]);
    await t.store.release(access(gone));
    await expect(t.store.extend(access(gone), undefined)).rejects.toMatchObject({
      code: 'INVALID_TRANSACTION_STATE',
      details: { transaction_status: 'released' },
    });
    expect(await owners(perf, [ids[1]!])).toEqual([null]);
  });
});

describe('complete', () => {
  test('sells every ticket, allocates an order number and appends ONE outbox entry', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[2]!, ids[3]!]);
    const customer = { email: 'Joe@Example.com', first_name: 'Joe' };
    const done = await t.store.complete(access(tx), [ids[3]!, ids[2]!], { customer, paymentReference: 'pay-1' });
    expect(done.status).toBe('complete');
    expect(done.order_number).toMatch(ORDER_NUMBER);
    expect(done.tickets.map((x) => [x.id, x.order_number, x.sold_by_transaction, x.holder])).toEqual([
      [ids[2], done.order_number, tx.id, undefined],
      [ids[3], done.order_number, tx.id, undefined],
    ]);
    for (const id of [ids[2]!, ids[3]!]) {
      expect(await t.redis.hget(performanceKeys(perf).sold, id)).toBe(`${done.order_number}|${tx.id}`);
      expect(await t.redis.exists(lockKey(perf, id))).toBe(0);
      expect(await holdScore(perf, id)).toBeNull();
      expect(await inAvailable(perf, id)).toBe(false);
    }
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 6, available: 4, locked: 0, sold: 2 });

    const entries = await t.redis.xrange(performanceKeys(perf).outbox, '-', '+');
    expect(entries).toHaveLength(1);
    const fields = Object.fromEntries(
      (entries[0]![1] as string[]).reduce<string[][]>((acc, v, i) => (i % 2 ? (acc[acc.length - 1]!.push(v), acc) : [...acc, [v]]), []),
    );
    expect(fields).toMatchObject({
      order_number: done.order_number,
      transaction_id: tx.id,
      performance_id: perf,
      client: 'alice',
      ip: '198.51.100.1',
      total: '10000',
      payment_reference: 'pay-1',
    });
    expect(JSON.parse(fields.customer!)).toEqual(customer);
    expect(JSON.parse(fields.tickets!)).toEqual([
      { id: ids[2], price: 5000, section: 'ORCH', row: 'A', seat: '3', price_level: '' },
      { id: ids[3], price: 5000, section: 'ORCH', row: 'A', seat: '4', price_level: '' },
    ]);
    expect(await txHash(tx)).toMatchObject({ status: 'complete', order_number: done.order_number, payment_reference: 'pay-1' });
  });

  test('idempotent: completing again returns the same order number and appends nothing', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!]);
    const first = await t.store.complete(access(tx), undefined, none);
    const second = await t.store.complete(access(tx), [ids[0]!], { customer: { email: 'x@example.com' }, paymentReference: 'p2' });
    const third = await t.store.complete(access(tx, root), undefined, none);
    expect(second.order_number).toBe(first.order_number);
    expect(third.order_number).toBe(first.order_number);
    expect(await xlen(perf)).toBe(1);
    expect((await t.store.performanceInfo(perf))?.counts.sold).toBe(1);
  });

  test('order numbers are unique within and across performances', async () => {
    const numbers = new Set<string>();
    for (let p = 0; p < 3; p++) {
      const { perf, ids } = await performance(4);
      for (const id of ids) {
        const tx = await t.store.hold(opts(perf), [id]);
        numbers.add((await t.store.complete(access(tx), undefined, none)).order_number!);
      }
    }
    expect(numbers.size).toBe(12);
  });

  test("another client's transaction: TRANSACTION_NOT_FOUND and nothing sold", async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!, ids[1]!]);
    const before = await snapshot(perf, ids);
    await expect(t.store.complete(access(tx, bob), undefined, none)).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
    expect(await snapshot(perf, ids)).toEqual(before);
    expect((await t.store.complete(access(tx, root), undefined, none)).status).toBe('complete');
  });

  test('ticket list mismatch: INVALID_REQUEST, nothing sold, no outbox entry', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!, ids[1]!]);
    const before = await snapshot(perf, ids);
    await expect(t.store.complete(access(tx), [ids[0]!], none)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(t.store.complete(access(tx), [ids[0]!, ids[2]!], none)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await snapshot(perf, ids)).toEqual(before);
  });

  test('a released transaction: INVALID_TRANSACTION_STATE, nothing sold', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!]);
    await t.store.release(access(tx));
    await expect(t.store.complete(access(tx), undefined, none)).rejects.toMatchObject({
      code: 'INVALID_TRANSACTION_STATE',
      details: { transaction_status: 'released' },
    });
    expect(await xlen(perf)).toBe(0);
    expect(await inAvailable(perf, ids[0]!)).toBe(true);
  });
});

describe('release', () => {
  test('frees every lock at once: lock keys gone, tickets back in available at their score, status released', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!, ids[1]!]);
    const r = await t.store.release(access(tx));
    expect(r.status).toBe('released');
    expect(r.tickets.every((x) => x.holder === undefined)).toBe(true);
    expect(await owners(perf, ids)).toEqual(ids.map(() => null));
    for (const id of [ids[0]!, ids[1]!]) {
      expect(await holdScore(perf, id)).toBeNull();
      const [ord] = (await t.redis.hget(performanceKeys(perf).tickets, id))!.split('|');
      expect(await availableScore(t.redis, perf, id)).toBe(5000 * ORD_SPAN + Number(ord));
    }
    expect((await t.store.performanceInfo(perf))?.counts).toEqual({ total: 6, available: 6, locked: 0, sold: 0 });
    expect(await txHash(tx)).toMatchObject({ status: 'released' });
    // twice: the same answer, nothing else happens
    expect((await t.store.release(access(tx))).status).toBe('released');
    // a new transaction can take the tickets
    const next = await t.store.hold(opts(perf, bob), [ids[0]!]);
    expect(await owners(perf, [ids[0]!])).toEqual([next.id]);
  });

  test("another client's transaction: TRANSACTION_NOT_FOUND, locks intact; an admin may release", async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!]);
    await expect(t.store.release(access(tx, bob))).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
    expect(await owners(perf, [ids[0]!])).toEqual([tx.id]);
    expect((await t.store.release(access(tx, root))).status).toBe('released');
  });

  test('a completed transaction: INVALID_TRANSACTION_STATE, still sold', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!]);
    await t.store.complete(access(tx), undefined, none);
    await expect(t.store.release(access(tx))).rejects.toMatchObject({
      code: 'INVALID_TRANSACTION_STATE',
      details: { transaction_status: 'complete' },
    });
    expect((await t.store.performanceInfo(perf))?.counts).toMatchObject({ sold: 1, available: 5 });
  });
});

describe('read_transaction', () => {
  test('its own client and admins read it with live ticket states; another client gets TRANSACTION_NOT_FOUND', async () => {
    const { perf, ids } = await performance();
    const tx = await t.store.hold(opts(perf), [ids[0]!, ids[1]!]);
    const read = await t.store.readTransaction(access(tx));
    expect({ ...read, now_ms: 0 }).toEqual({ ...tx, now_ms: 0 });
    expect((await t.store.readTransaction(access(tx, root))).id).toBe(tx.id);
    await expect(t.store.readTransaction(access(tx, bob))).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
    await expect(
      t.store.readTransaction({ caller: alice, transactionId: randomUUID(), performanceId: perf }),
    ).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
  });
});
