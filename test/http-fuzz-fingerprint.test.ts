// Negative controls of the HTTP fuzz suite's "nothing changed" check (test/support/http-fuzz.ts): on its fixture,
// a change to each thing the fingerprint covers — a Redis key added or deleted, a value, a TTL, an outbox marked
// active, a stream entry, a document store row — changes the snapshot (and, for Redis, the per-request diff), and
// undoing it gives the same snapshot back (so the fingerprint is stable, not merely always different).
import { randomUUID } from 'node:crypto';
import { activeOutboxesKey, performanceKeys } from '../src/redis/keys';
import { fx, redisState, snapshot, stateDiff, tk, useFuzzFixture } from './support/http-fuzz';

const t = useFuzzFixture('http-fuzz-fingerprint');

/** An undo for whatever is about to happen to `key`: it comes back byte for byte, with its expiry (or is deleted). */
async function preserve(key: string): Promise<() => Promise<void>> {
  const dump = await t.redis.dumpBuffer(key);
  const expiry = Number(await t.redis.call('PEXPIRETIME', key));
  return async () => {
    if (dump === null) await t.redis.del(key);
    else await t.redis.call('RESTORE', key, expiry > 0 ? expiry : 0, dump, 'REPLACE', ...(expiry > 0 ? ['ABSTTL'] : []));
  };
}

const lockOf = (i: number) => `${performanceKeys(fx.P).lockPrefix}${tk(i)}`;

/** [what, the keys it touches, the change] */
const REDIS_CHANGES: [string, () => string[], () => Promise<unknown>][] = [
  ['a key added', () => ['fingerprint-control'], () => t.redis.set('fingerprint-control', '1')],
  ['a key deleted (a lock)', () => [lockOf(0)], () => t.redis.del(lockOf(0))],
  ['a string value changed, its TTL kept', () => [lockOf(5)], () => t.redis.set(lockOf(5), randomUUID(), 'KEEPTTL')],
  ['a hash field changed (a sale)', () => [performanceKeys(fx.P).sold], () => t.redis.hset(performanceKeys(fx.P).sold, tk(3), 'X1|someone')],
  [
    'a TTL moved by 1 ms',
    () => [lockOf(0)],
    async () => t.redis.pexpireat(lockOf(0), Number(await t.redis.call('PEXPIRETIME', lockOf(0))) + 1),
  ],
  ['a TTL removed', () => [lockOf(2)], () => t.redis.persist(lockOf(2))],
  ['a TTL set on a key without one', () => [performanceKeys(fx.P).sold], () => t.redis.pexpire(performanceKeys(fx.P).sold, 600_000)],
  ['an outbox marked active', () => [activeOutboxesKey], () => t.redis.zadd(activeOutboxesKey, 0, 'fingerprint-control')],
  ['an outbox entry added', () => [performanceKeys(fx.P).outbox], () => t.redis.xadd(performanceKeys(fx.P).outbox, '*', 'control', '1')],
];

test('the snapshot of an untouched fixture is stable', async () => {
  expect(await snapshot()).toEqual(await snapshot());
});

test.each(REDIS_CHANGES)('%s: changes the Redis fingerprint; undone, it is the same again', async (_what, keys, change) => {
  const before = await snapshot();
  const undo = await Promise.all(keys().map(preserve));
  await change();
  try {
    expect(stateDiff(before.redis, await redisState())).not.toBe('');
    expect(await snapshot()).not.toEqual(before);
  } finally {
    for (const u of undo) await u();
  }
  expect(await snapshot()).toEqual(before);
});

describe('document store changes change the snapshot (run last: not undone)', () => {
  test('a ticket row of Q changed', async () => {
    const before = await snapshot();
    const perf = (await t.documents.getPerformance(fx.Q))!;
    const [first, ...rest] = await t.documents.listTickets(fx.Q);
    await t.documents.upsertInventory(perf, [{ ...first!, price: first!.price + 1 }, ...rest]);
    expect((await snapshot()).documents).not.toEqual(before.documents);
  });

  test('a sale of a Q ticket recorded (an order of another transaction, another customer)', async () => {
    const before = await snapshot();
    const [ticket] = await t.documents.listTickets(fx.Q);
    const outcome = await t.documents.recordSale({
      order_number: 'CTRLQ1',
      transaction_id: randomUUID(),
      performance_id: fx.Q,
      client: 'alice',
      ip: '127.0.0.1',
      completed_at: new Date().toISOString(),
      tickets: [{ id: ticket!.id, price: ticket!.price, section: 'ORCH', row: 'A', seat: '1', price_level: '' }],
      total: ticket!.price,
      customer: undefined,
      payment_reference: undefined,
    });
    expect(outcome.outcome).toBe('written');
    expect((await snapshot()).documents).not.toEqual(before.documents);
  });
});
