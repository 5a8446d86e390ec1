// Helpers of the in-process order-writer tests (test/writer-*.test.ts): selling through the HTTP API, bounded
// waits, and reading the outbox's consumer-group state.
import type http from 'node:http';
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { Customer } from '../../src/domain/documents';
import { outboxGroup, performanceKeys } from '../../src/redis/keys';
import { as, KEYS, type TestApp } from './app';
import { waitFor as waitUntil } from './spawn';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `cond` every 50 ms until it returns a truthy value (which it returns); fails naming `what` after `timeoutMs`. */
export function waitFor<T>(cond: () => Promise<T> | T, timeoutMs: number, what = 'condition'): Promise<Truthy<T>> {
  return waitUntil(what, async () => ((await cond()) || undefined) as Truthy<T> | undefined, { timeoutMs });
}

export interface Sold {
  transaction_id: string;
  order_number: string;
  tickets: string[];
}

/** Holds these tickets and completes the transaction through the HTTP API; returns its order number. */
export async function sell(
  target: http.Server | TestApp['app'],
  tickets: string[],
  customer: Customer = { email: 'buyer@example.com' },
  key = KEYS.alice,
): Promise<Sold> {
  const hold = await request(target).post('/transaction').set(as(key)).send({ tickets, hold_seconds: 120 });
  if (hold.status !== 201) throw new Error(`hold: ${hold.status} ${JSON.stringify(hold.body)}`);
  const txid = hold.body.transaction_id as string;
  const done = await request(target).post(`/transaction/${txid}`).set(as(key)).send({ status: 'complete', customer });
  if (done.status !== 200 || done.body.transaction_status !== 'complete') {
    throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`);
  }
  return { transaction_id: txid, order_number: done.body.order_number as string, tickets };
}

/** Number of outbox entries delivered to some consumer of the writers' group and not yet acknowledged. */
export async function pendingCount(redis: Redis, performanceId: string): Promise<number> {
  const summary = (await redis.xpending(performanceKeys(performanceId).outbox, outboxGroup)) as unknown[];
  return Number(summary[0] ?? 0);
}

/** How long each pending entry of the outbox has been idle (ms since its last delivery), as XPENDING reports it. */
export async function pendingIdleMs(redis: Redis, performanceId: string): Promise<number[]> {
  const entries = (await redis.xpending(performanceKeys(performanceId).outbox, outboxGroup, '-', '+', 1000)) as [string, string, number][];
  return entries.map(([, , idle]) => Number(idle));
}

/** Pending entries per consumer name. */
export async function pendingByConsumer(redis: Redis, performanceId: string): Promise<Record<string, number>> {
  const summary = (await redis.xpending(performanceKeys(performanceId).outbox, outboxGroup)) as unknown[];
  const out: Record<string, number> = {};
  for (const [name, count] of (summary[3] ?? []) as [string, string][]) out[name] = Number(count);
  return out;
}

/** Entries of the group not yet delivered to anyone (lag), from XINFO GROUPS; -1 when the group is unknown. */
export async function undeliveredCount(redis: Redis, performanceId: string): Promise<number> {
  const key = performanceKeys(performanceId).outbox;
  const [entries, groups] = await Promise.all([
    redis.xrange(key, '-', '+'),
    redis.call('XINFO', 'GROUPS', key) as Promise<unknown[]>,
  ]);
  for (const g of groups) {
    // RESP2: a flat [name, value, ...] list; RESP3: a map ioredis gives as the same flat list or an object
    const fields = Array.isArray(g) ? g : Object.entries(g as Record<string, unknown>).flat();
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(String(fields[i]), fields[i + 1]);
    if (f.get('name') !== outboxGroup) continue;
    const last = String(f.get('last-delivered-id'));
    return entries.filter(([id]) => compareIds(id, last) > 0).length;
  }
  return -1;
}

function compareIds(a: string, b: string): number {
  const [am = 0, as_ = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as_ - bs;
}

/** Waits until the group has delivered the entry `id` and nothing is pending: a writer handled it. */
export async function waitHandled(redis: Redis, performanceId: string, id: string, timeoutMs = 10_000): Promise<void> {
  const key = performanceKeys(performanceId).outbox;
  await waitFor(
    async () => {
      const groups = JSON.stringify(await redis.call('XINFO', 'GROUPS', key));
      const last = /"last-delivered-id","([0-9]+-[0-9]+)"/.exec(groups)?.[1];
      return last !== undefined && compareIds(last, id) >= 0 && (await pendingCount(redis, performanceId)) === 0;
    },
    timeoutMs,
    `entry ${id} handled`,
  );
}

/** Creates the writers' group on an outbox (as a writer would) so a test can read as a fake consumer first. */
export async function ensureGroup(redis: Redis, performanceId: string): Promise<void> {
  await redis
    .xgroup('CREATE', performanceKeys(performanceId).outbox, outboxGroup, '0', 'MKSTREAM')
    .catch((err: Error) => {
      if (!/BUSYGROUP/.test(err.message)) throw err;
    });
}

/** Reads up to `count` new entries as consumer `name` without acknowledging them (a writer that then dies). */
export async function readAsGhost(redis: Redis, performanceId: string, name: string, count: number): Promise<string[]> {
  const key = performanceKeys(performanceId).outbox;
  const reply = (await redis.xreadgroup('GROUP', outboxGroup, name, 'COUNT', count, 'STREAMS', key, '>')) as
    | [string, [string, string[]][]][]
    | null;
  return (reply ?? []).flatMap(([, entries]) => entries.map(([id]) => id));
}

/** Percentile (nearest rank) of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}
