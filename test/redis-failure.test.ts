// Redis outages under traffic (API.md "Operations": Redis unreachable → 503 UNAVAILABLE with Retry-After, never a
// hang, never a partial lock). The service runs as production wires it (src/service.ts: auto-pipelining, a real
// HTTP server) against a redis-server of this file's own, which is paused (SIGSTOP) and killed (SIGKILL, then
// restarted from its AOF) while buyers hold, check out, complete, release and read. Afterwards the service must
// answer again without a restart, and the ticket and transaction state must be whole.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { connectRedis } from '../src/redis/connection';
import {
  availableChunkKey,
  availableCountKey,
  availableSlotOf,
  performanceCodeKey,
  performanceKeys,
} from '../src/redis/keys';
import { performanceCodeOf } from '../src/domain/transaction-id';
import { startService, type RunningService } from '../src/service';
import { as, BASE_ENV, KEYS, sleep, uniqueId } from './support/app';
import { startFaultyRedis, type FaultyRedis } from './support/redis-fault';
import { waitFor } from './support/spawn';

const COMMAND_TIMEOUT_MS = 300;
/** Every request must answer within this (the command timeout plus a generous margin for a loaded 2-core box). */
const BOUND_MS = COMMAND_TIMEOUT_MS + 2000;
/** The client gives up after this: a request still unanswered then is a hang, reported as status 0. */
const CLIENT_TIMEOUT_MS = 15_000;
/** How long each outage lasts. */
const OUTAGE_MS = 2500;
/** Requests that started at least this long after the outage began (and ended before it ended) must be 503s. */
const SETTLE_MS = 50;
const BUYERS = 8;
/** A long hold: no lock lapses during the test, so every ticket is plainly sold, locked or available. */
const LOCK_TTL_SECONDS = 300;

let faulty: FaultyRedis;
let service: RunningService | undefined;
let probe: Redis | undefined;
let base: string;
let running: Traffic | undefined;
const logged: string[] = [];

beforeAll(async () => {
  faulty = await startFaultyRedis('tixlock-redis-failure-');
  const config = loadConfig({
    ...BASE_ENV,
    REDIS_URL: faulty.url,
    REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    LOCK_TTL_SECONDS: String(LOCK_TTL_SECONDS),
    // the hold rate limiter on (never reached): its Redis calls must fail as 503s too
    HOLD_RATE_LIMIT: '1000000',
    HOST: '127.0.0.1',
    PORT: '0',
    DOCUMENT_STORE_URL: 'sqlite::memory:',
    DATA_DIR: `${faulty.dir}/data`,
  });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  service = await startService(config, createLogger('warn', sink), { api: true, writer: false });
  base = `http://127.0.0.1:${service.port}`;
  probe = await connectRedis(faulty.url, { commandTimeoutMs: 5000 });
  // every write on disk before its reply, so a SIGKILL loses nothing that was acknowledged (CONFIG SET does not
  // outlive a restart; see killAndRestart)
  await probe.call('CONFIG', 'SET', 'appendfsync', 'always');
}, 30_000);

afterAll(async () => {
  // stop the buyers first (a failed test may have left them running), with Redis answering again
  try {
    faulty?.resume();
  } catch {
    // not paused, or gone
  }
  await running?.stop();
  await service?.stop().catch(() => undefined);
  if (probe) await probe.quit().catch(() => probe?.disconnect());
  await faulty?.stop();
  if (faulty) fs.rmSync(faulty.dir, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------------------------

interface Rec {
  op: string;
  started: number; // performance.now() ms
  ended: number;
  status: number; // 0: no answer within CLIENT_TIMEOUT_MS, or a transport error
  code: string | undefined;
}

interface KnownTx {
  id: string;
  key: string;
  tickets: string[];
  /** transaction_status of the last 2xx answer about it */
  status: string;
  orderNumber: string | undefined;
  /** statuses an update that answered 503 may have reached anyway (the script may have run after the timeout) */
  unsure: Set<string>;
}

interface UnsureHold {
  key: string;
  op: 'hold' | 'hold-best';
  idempotencyKey: string;
  body: object;
}

/** Concurrent buyers in a loop: search, hold (by ids or best available), read, checkout, complete or release. */
class Traffic {
  readonly recs: Rec[] = [];
  readonly known = new Map<string, KnownTx>();
  /** holds still answering 503 when the traffic stopped: retried with their key afterwards */
  readonly unsureHolds: UnsureHold[] = [];
  readonly violations: string[] = [];
  private stopped = false;
  private readonly buyers: Promise<void>[] = [];

  constructor(
    private readonly performanceId: string,
    private readonly firstTicket: string,
  ) {
    for (let i = 0; i < BUYERS; i++) this.buyers.push(this.buyer(i % 2 === 0 ? KEYS.alice : KEYS.bob, i));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.buyers);
  }

  /** 2xx answers that ended after `since` */
  successesAfter(since: number, op?: string): number {
    return this.recs.filter((r) => r.ended > since && r.status >= 200 && r.status < 300 && (!op || r.op === op)).length;
  }

  private async buyer(key: string, n: number): Promise<void> {
    let round = 0;
    while (!this.stopped) {
      round++;
      try {
        await this.cycle(key, n, round);
      } catch (err) {
        this.violations.push(`buyer ${n} threw: ${(err as Error).stack}`);
        await sleep(50);
      }
    }
  }

  private async cycle(key: string, n: number, round: number): Promise<void> {
    const p = this.performanceId;
    const pick = (n + round) % 4;
    // step 0 and 1: find and hold two tickets
    // a hold carries an Idempotency-Key and is repeated with it while it answers 503: a hold that happened
    // although its answer was lost is then found again (same transaction), never left behind unknown
    let attempt: UnsureHold;
    if (pick % 2 === 0) {
      const search = await this.send('search', (h) => h.get(`/tickets?performance_id=${p}&quantity=2`).set(as(key)));
      if (search?.status !== 200) return;
      const ids = (search.body.tickets as { id: string }[]).map((t) => t.id);
      attempt = { key, op: 'hold', idempotencyKey: randomUUID(), body: { tickets: ids } };
    } else {
      attempt = { key, op: 'hold-best', idempotencyKey: randomUUID(), body: { performance_id: p, quantity: 2 } };
    }
    const hold = await this.persist(() => this.hold(attempt));
    if (hold?.status === 503) this.unsureHolds.push(attempt);
    if (hold?.status !== 201) return;
    this.knowHold(key, hold);
    const id = hold.body.transaction_id as string;
    const tx = this.known.get(id) as KnownTx;


    // from here on a buyer retries a step that answered 503, as a client with a transaction in hand would
    const read = await this.persist(() => this.send('read-tx', (h) => h.get(`/transaction/${id}`).set(as(key))));
    if (read?.status !== 200) return;
    if (round % 2 === 0 && !(await this.update(tx, 'checkout'))) return;
    const ticket = await this.persist(() => this.send('read-ticket', (h) => h.get(`/tickets/${tx.tickets[0]}`).set(as(key))));
    if (ticket?.status !== 200) return;
    if (round % 3 === 0) {
      if (!(await this.update(tx, 'released'))) return;
    } else if (!(await this.update(tx, 'complete'))) return;
    if (round % 4 === 0) await this.send('counts', (h) => h.get(`/performances/${p}`).set(as(KEYS.admin)));
    if (round % 5 === 0) await this.send('read-ticket', (h) => h.get(`/tickets/${this.firstTicket}`).set(as(key)));
  }

  /**
   * One hold attempt with its Idempotency-Key; a 409 IDEMPOTENCY_IN_PROGRESS (an earlier attempt's claim, left by a
   * request that timed out, lasts its lease) is waited out and tried again, as API.md's client would.
   */
  async hold(attempt: UnsureHold): Promise<request.Response | undefined> {
    for (;;) {
      const res = await this.send(attempt.op, (h) =>
        h.post('/transaction').set(as(attempt.key)).set('Idempotency-Key', attempt.idempotencyKey).send(attempt.body),
      );
      if (res?.status !== 409 || res.body?.error?.code !== 'IDEMPOTENCY_IN_PROGRESS') return res;
      await sleep(100);
    }
  }

  knowHold(key: string, hold: request.Response): void {
    const id = hold.body.transaction_id as string;
    if (this.known.has(id)) return;
    this.known.set(id, {
      id,
      key,
      tickets: (hold.body.tickets as { id: string }[]).map((t) => t.id),
      status: hold.body.transaction_status,
      orderNumber: undefined,
      unsure: new Set(),
    });
  }

  /** Repeats a request while it answers 503 (until the traffic stops). */
  private async persist(call: () => Promise<request.Response | undefined>): Promise<request.Response | undefined> {
    for (;;) {
      const res = await call();
      if (res?.status !== 503 || this.stopped) return res;
    }
  }

  /**
   * checkout, complete or release, repeated while it answers 503; false when it did not end in a 200 (the buyer
   * then gives the transaction up)
   */
  async update(tx: KnownTx, to: 'checkout' | 'complete' | 'released'): Promise<boolean> {
    const once = () =>
      to === 'released'
        ? this.send('release', (h) => h.delete(`/transaction/${tx.id}`).set(as(tx.key)))
        : this.send(to, (h) =>
            h
              .put(`/transaction/${tx.id}`)
              .set(as(tx.key))
              .send(to === 'complete' ? { status: 'complete', customer: { email: `${tx.id}@example.com` } } : { status: to }),
          );
    const res = await this.persist(async () => {
      const r = await once();
      if (r?.status === 503) tx.unsure.add(to);
      return r;
    });
    if (res?.status === 200) {
      tx.status = res.body.transaction_status;
      tx.orderNumber = res.body.order_number ?? tx.orderNumber;
      tx.unsure.delete(to);
      if (tx.status !== to) this.violations.push(`${to} of ${tx.id} answered 200 with status ${tx.status}`);
      return true;
    }
    return false;
  }

  /** One request, timed, its answer checked against API.md; 503s back off briefly as a client would. */
  async send(op: string, make: (h: ReturnType<typeof request>) => request.Test): Promise<request.Response | undefined> {
    const started = performance.now();
    let res: request.Response | undefined;
    let failure = '';
    try {
      res = await make(request(base)).timeout(CLIENT_TIMEOUT_MS);
    } catch (err) {
      failure = (err as Error).message;
    }
    const rec: Rec = { op, started, ended: performance.now(), status: res?.status ?? 0, code: res?.body?.error?.code };
    this.recs.push(rec);
    const bad = (why: string) =>
      this.violations.push(`${op} -> ${rec.status} ${rec.code ?? ''} after ${Math.round(rec.ended - started)} ms: ${why}`);
    if (!res) {
      bad(`no answer (${failure})`);
      return undefined;
    }
    if (res.status >= 400) {
      const body = res.body as { status?: string; error?: { code?: unknown; message?: unknown; request_id?: unknown } };
      const requestId = res.headers['x-request-id'];
      if (!/^application\/json/.test(res.headers['content-type'] ?? '')) bad('error is not JSON');
      if (body?.status !== 'ERROR' || typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string')
        bad(`not the error shape: ${res.text.slice(0, 200)}`);
      if (!requestId || body?.error?.request_id !== requestId) bad('request_id missing or not the X-Request-Id header');
    }
    if (res.status === 503) {
      if (rec.code !== 'UNAVAILABLE') bad('a 503 that is not UNAVAILABLE');
      if (!/^\d+$/.test(res.headers['retry-after'] ?? '')) bad(`Retry-After is ${res.headers['retry-after']}`);
      await sleep(20);
    } else if (res.status === 409) {
      // IDEMPOTENCY_IN_PROGRESS: a retried hold whose first attempt still holds its key (see hold())
      if (!['TICKETS_UNAVAILABLE', 'NOT_ENOUGH_TICKETS', 'IDEMPOTENCY_IN_PROGRESS'].includes(rec.code ?? '')) bad('unexpected conflict');
    } else if (![200, 201].includes(res.status)) {
      bad(`unexpected status: ${res.text.slice(0, 300)}`);
    }
    return res;
  }
}

// ---------------------------------------------------------------------------------------------------------------

const http = () => request(base);

async function createPerformance(rows: number, seats: number) {
  const id = uniqueId('outage');
  const tickets = [];
  for (let r = 0; r < rows; r++) {
    for (let s = 1; s <= seats; s++) {
      const row = String.fromCharCode(65 + r);
      tickets.push({ id: `${id}-${row}${s}`, section: 'ORCH', row, seat: s, price: 5000 + 100 * (r % 3) });
    }
  }
  const res = await http().put(`/performances/${id}`).set(as(KEYS.admin)).send({ name: 'Outage show', tickets });
  if (res.status !== 200) throw new Error(`createPerformance: ${res.status} ${res.text.slice(0, 500)}`);
  return { id, ticketIds: tickets.map((t) => t.id) };
}

async function timedGet(path: string) {
  const started = performance.now();
  const res = await http().get(path).timeout(CLIENT_TIMEOUT_MS);
  return { res, ms: performance.now() - started };
}

const ms = (x: number) => Math.round(x);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : NaN;
};

/**
 * Runs traffic, causes the outage, ends it, and checks the answers: every one within BOUND_MS, every request
 * made wholly inside the outage a 503 UNAVAILABLE, /readyz 503 during and 200 after, writes succeeding after.
 */
async function outageUnderTraffic(
  label: string,
  perf: { id: string; ticketIds: string[] },
  outage: { begin(): Promise<void>; end(): Promise<void> },
): Promise<Traffic> {
  const traffic = new Traffic(perf.id, perf.ticketIds[0] as string);
  running = traffic;
  await waitFor('traffic before the outage', () => traffic.successesAfter(0, 'complete') >= 10, { timeoutMs: 20_000 });

  await outage.begin();
  const began = performance.now();
  await sleep(200);
  const readyDuring = await timedGet('/readyz');
  await sleep(Math.max(0, OUTAGE_MS - (performance.now() - began)));
  const ending = performance.now();
  await outage.end();

  // the same process recovers: /readyz first, then real work
  await waitFor('/readyz 200 after the outage', async () => (await http().get('/readyz')).status === 200, {
    timeoutMs: 15_000,
  });
  const readyAfter = await timedGet('/readyz');
  await waitFor(
    'holds and completions after the outage',
    () => traffic.successesAfter(ending, 'complete') >= 10 && traffic.successesAfter(ending, 'hold') + traffic.successesAfter(ending, 'hold-best') >= 10,
    { timeoutMs: 20_000 },
  );
  await traffic.stop();
  running = undefined;

  const inside = traffic.recs.filter((r) => r.started >= began + SETTLE_MS && r.ended <= ending);
  const durations = (rs: Rec[]) => rs.map((r) => r.ended - r.started);
  const all = durations(traffic.recs);
  const byOp = (rs: Rec[]) =>
    rs.reduce<Record<string, number>>((acc, r) => ((acc[r.op] = Math.max(acc[r.op] ?? 0, ms(r.ended - r.started))), acc), {});
  const statuses = (rs: Rec[]) => rs.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
  console.log(
    `[${label}] outage ${ms(ending - began)} ms, command timeout ${COMMAND_TIMEOUT_MS} ms: ` +
      `${inside.length} requests made during it, answered in max ${ms(Math.max(...durations(inside)))} ms ` +
      `(p50 ${ms(percentile(durations(inside), 50))}, p99 ${ms(percentile(durations(inside), 99))}), statuses ${JSON.stringify(statuses(inside))}, max ms by operation ${JSON.stringify(byOp(inside))}; ` +
      `/readyz during it: ${readyDuring.res.status} in ${ms(readyDuring.ms)} ms; ` +
      `all ${traffic.recs.length} requests: max ${ms(Math.max(...all))} ms, statuses ${JSON.stringify(statuses(traffic.recs))}; ` +
      `${traffic.successesAfter(ending)} successes after it`,
  );

  expect(traffic.violations.slice(0, 20)).toEqual([]);
  // never a hang: every request answered within the bound, during the outage or not
  const slow = traffic.recs.filter((r) => r.ended - r.started > BOUND_MS);
  expect(slow.map((r) => `${r.op} ${r.status} ${ms(r.ended - r.started)} ms`)).toEqual([]);
  // every request made inside the outage was a quick 503 UNAVAILABLE (the checks in send() covered its shape)
  expect(inside.length).toBeGreaterThanOrEqual(10);
  expect(inside.filter((r) => r.status !== 503 || r.code !== 'UNAVAILABLE').map((r) => `${r.op} ${r.status}`)).toEqual([]);
  // /readyz: 503 while Redis is out, 200 again after, each within the bound
  expect(readyDuring.res.status).toBe(503);
  expect(readyDuring.res.body).toMatchObject({ status: 'ERROR', error: { code: 'UNAVAILABLE', checks: { redis: 'unavailable' } } });
  expect(readyDuring.res.headers['retry-after']).toMatch(/^\d+$/);
  expect(readyDuring.ms).toBeLessThanOrEqual(BOUND_MS);
  expect(readyAfter.res.status).toBe(200);
  expect(readyAfter.res.body).toMatchObject({ status: 'OK', checks: { redis: 'ok' } });
  // no Redis failure surfaced as a 500 (the error handler logs those)
  expect(logged.filter((l) => l.includes('unhandled error'))).toEqual([]);
  return traffic;
}

/**
 * An update that answered 503 may or may not have happened; the client retries it and must get the normal answer
 * (the scripts are idempotent per transaction). Afterwards every known transaction's status is certain again.
 */
async function retryUnsure(traffic: Traffic): Promise<number> {
  let retried = 0;
  for (const attempt of traffic.unsureHolds) {
    retried++;
    const res = await traffic.hold(attempt);
    expect(res?.status).not.toBe(503);
    if (res?.status === 201) traffic.knowHold(attempt.key, res);
  }
  for (const tx of traffic.known.values()) {
    if (tx.unsure.size === 0) continue;
    // the last attempt the buyer made is the one that matters; a buyer gives a transaction up after a failure
    const to = [...tx.unsure].pop() as 'checkout' | 'complete' | 'released';
    retried++;
    expect(await traffic.update(tx, to)).toBe(true);
    tx.unsure.clear();
  }
  expect(traffic.violations).toEqual([]);
  return retried;
}

/**
 * Invariants after an outage, through the API and in Redis itself:
 * - every ticket is exactly one of sold / locked / available, the index agrees, and the counts add up;
 * - no ticket is sold twice (sold hash, outbox and transaction records agree);
 * - every transaction that answered 201/200 is readable, in the status its last answer gave, with its tickets
 *   locked by it (open, checkout), sold to it (complete) or not locked by it (released);
 * - no half-done transaction: every transaction record has its index entry and all of its locks or none, every
 *   lock and every sale belongs to a transaction record that lists the ticket.
 */
async function checkInvariants(perf: { id: string; ticketIds: string[] }, traffic: Traffic) {
  const redis = probe as Redis;
  const k = performanceKeys(perf.id);
  const now = Number((await redis.time())[0]) * 1000;

  // ---- the tickets, straight from Redis
  const records = await redis.hgetall(k.tickets);
  const ids = Object.keys(records);
  expect([...ids].sort()).toEqual([...perf.ticketIds].sort());
  const sold = await redis.hgetall(k.sold);
  const pipeline = redis.pipeline();
  for (const id of ids) {
    const slot = availableSlotOf(records[id] as string);
    pipeline.get(`${k.lockPrefix}${id}`);
    pipeline.zscore(availableChunkKey(perf.id, slot.partition, slot.chunk), id);
    pipeline.zscore(k.holds, id);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([err, v]) => {
    if (err) throw err;
    return v as string | null;
  });
  const holder = new Map<string, string>();
  const problems: string[] = [];
  let available = 0;
  ids.forEach((id, i) => {
    const [lock, availScore, holdScore] = replies.slice(3 * i, 3 * i + 3);
    if (lock) holder.set(id, lock);
    if (availScore !== null) available++;
    const states = [sold[id] !== undefined, lock !== null, availScore !== null].filter(Boolean).length;
    if (states !== 1) problems.push(`ticket ${id}: sold=${sold[id]} lock=${lock} available=${availScore !== null}`);
    if ((holdScore !== null) !== (lock !== null)) problems.push(`ticket ${id}: lock=${lock} but holds score ${holdScore}`);
  });
  expect(Number(await redis.get(availableCountKey(perf.id)))).toBe(available);

  // ---- the counts the API shows add up, and agree with Redis
  const info = await http().get(`/performances/${perf.id}`).set(as(KEYS.admin));
  expect(info.status).toBe(200);
  const counts = info.body.performance.counts;
  expect(counts.available + counts.locked + counts.sold).toBe(counts.total);
  expect(counts).toEqual({ total: ids.length, available, locked: holder.size, sold: Object.keys(sold).length });

  // ---- every transaction record in Redis, known to a buyer or not (a hold that answered 503 may have happened)
  const unknownToBuyers: string[] = [];
  const txRecords = new Map<string, Record<string, string>>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${k.transactionPrefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) txRecords.set(key.slice(k.transactionPrefix.length), await redis.hgetall(key));
  } while (cursor !== '0');
  for (const [id, rec] of txRecords) {
    if (!traffic.known.has(id)) unknownToBuyers.push(id);
    const tickets = (rec.tickets ?? '').split(',').filter(Boolean);
    if (tickets.length === 0) problems.push(`transaction ${id}: a record without tickets ${JSON.stringify(rec)}`);
    if ((await redis.get(performanceCodeKey(performanceCodeOf(id) ?? 0))) !== perf.id) problems.push(`transaction ${id}: its id does not lead to its performance`);
    const lockedByIt = tickets.filter((t) => holder.get(t) === id).length;
    const soldToIt = tickets.filter((t) => sold[t]?.endsWith(`|${id}`)).length;
    const live = (rec.status === 'open' || rec.status === 'checkout') && Number(rec.lock_expires) >= now;
    if (live && lockedByIt !== tickets.length) problems.push(`transaction ${id} (${rec.status}): ${lockedByIt}/${tickets.length} locks`);
    if (!live && lockedByIt !== 0) problems.push(`transaction ${id} (${rec.status}): still locks ${lockedByIt} tickets`);
    if (rec.status === 'complete') {
      if (!rec.order_number) problems.push(`transaction ${id}: complete without an order number`);
      const mine = tickets.filter((t) => sold[t] === `${rec.order_number}|${id}`).length;
      if (mine !== tickets.length) problems.push(`transaction ${id}: complete but ${mine}/${tickets.length} tickets sold to it`);
    } else if (soldToIt !== 0) {
      problems.push(`transaction ${id} (${rec.status}): ${soldToIt} tickets sold to it`);
    }
  }
  // every lock and every sale belongs to a record that lists the ticket
  for (const [ticket, id] of holder) {
    if (!(txRecords.get(id)?.tickets ?? '').split(',').includes(ticket)) problems.push(`lock on ${ticket} by ${id}: no such record`);
  }
  for (const [ticket, value] of Object.entries(sold)) {
    const id = value.split('|')[1] as string;
    if (!(txRecords.get(id)?.tickets ?? '').split(',').includes(ticket)) problems.push(`sale of ${ticket} to ${id}: no such record`);
  }

  // ---- the outbox: each ticket sold once, each transaction and order number once, matching the sold hash
  const outbox = await redis.xrange(k.outbox, '-', '+');
  const soldInOutbox = new Map<string, string>();
  const orders = new Set<string>();
  const transactions = new Set<string>();
  for (const [, fields] of outbox) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    if (orders.has(f.order_number as string)) problems.push(`order ${f.order_number} twice in the outbox`);
    if (transactions.has(f.transaction_id as string)) problems.push(`transaction ${f.transaction_id} sold twice`);
    orders.add(f.order_number as string);
    transactions.add(f.transaction_id as string);
    for (const t of JSON.parse(f.tickets as string) as { id: string }[]) {
      if (soldInOutbox.has(t.id)) problems.push(`ticket ${t.id} sold twice: ${soldInOutbox.get(t.id)} and ${f.order_number}`);
      soldInOutbox.set(t.id, f.order_number as string);
      if (sold[t.id] !== `${f.order_number}|${f.transaction_id}`) problems.push(`ticket ${t.id}: outbox and sold hash disagree`);
    }
  }
  expect(soldInOutbox.size).toBe(Object.keys(sold).length);

  // ---- every transaction a buyer was told about, through the API
  for (const tx of traffic.known.values()) {
    const res = await http().get(`/transaction/${tx.id}`).set(as(tx.key));
    if (res.status !== 200) {
      problems.push(`transaction ${tx.id} (last seen ${tx.status}): GET answered ${res.status} ${res.text}`);
      continue;
    }
    const allowed = new Set([tx.status, ...tx.unsure]);
    const status = res.body.transaction_status as string;
    if (!allowed.has(status)) problems.push(`transaction ${tx.id}: ${status}, expected one of ${[...allowed]}`);
    const tickets = res.body.tickets as { id: string; state: string; transaction_id?: string; order_number?: string }[];
    if (tickets.map((t) => t.id).join() !== tx.tickets.join()) problems.push(`transaction ${tx.id}: other tickets`);
    for (const t of tickets) {
      const ok =
        status === 'complete'
          ? t.state === 'sold' && t.order_number === res.body.order_number
          : status === 'open' || status === 'checkout'
            ? t.state === 'locked' && t.transaction_id === tx.id
            : !(t.state === 'locked' && t.transaction_id === tx.id);
      if (!ok) problems.push(`transaction ${tx.id} (${status}): ticket ${t.id} is ${JSON.stringify(t)}`);
    }
    if (status === 'complete' && tx.orderNumber !== undefined && res.body.order_number !== tx.orderNumber)
      problems.push(`transaction ${tx.id}: order ${res.body.order_number}, was answered ${tx.orderNumber}`);
  }
  expect(problems.slice(0, 20)).toEqual([]);
  return { transactions: txRecords.size, unknownToBuyers: unknownToBuyers.length, sold: Object.keys(sold).length, locked: holder.size };
}

// ---------------------------------------------------------------------------------------------------------------

/** The first test's performance and traffic, checked again after the second test's restart from the AOF. */
let earlier: { perf: { id: string; ticketIds: string[] }; traffic: Traffic } | undefined;

test('Redis paused (SIGSTOP) under traffic: quick 503s, /readyz 503, then recovery without a restart; state whole', async () => {
  const perf = await createPerformance(20, 60);
  const traffic = await outageUnderTraffic('SIGSTOP', perf, {
    begin: () => faulty.pause(),
    end: async () => faulty.resume(),
  });
  const retried = await retryUnsure(traffic);
  const state = await checkInvariants(perf, traffic);
  earlier = { perf, traffic };
  expect(state.unknownToBuyers).toBe(0); // every hold that happened is known to its buyer
  const updates503 = traffic.recs.filter((r) => ['checkout', 'complete', 'release'].includes(r.op) && r.status === 503).length;
  console.log(
    `[SIGSTOP] ${traffic.known.size} transactions answered 201; ${updates503} update attempts answered 503 (retried by the buyers ` +
      `until 200; ${retried} holds or updates retried after the traffic stopped); holds unknown to their buyers: ${state.unknownToBuyers}; Redis: ${JSON.stringify(state)}`,
  );
}, 90_000);

test('Redis killed (SIGKILL) under traffic and restarted from its AOF: quick 503s, then recovery; nothing acknowledged lost', async () => {
  const perf = await createPerformance(20, 60);
  const traffic = await outageUnderTraffic('SIGKILL', perf, {
    begin: () => faulty.kill(),
    end: async () => {
      await faulty.restart();
      await waitFor('the probe connection back', async () => (await probe?.ping().catch(() => '')) === 'PONG', { timeoutMs: 10_000 });
      await probe?.call('CONFIG', 'SET', 'appendfsync', 'always');
    },
  });
  const retried = await retryUnsure(traffic);
  const state = await checkInvariants(perf, traffic);
  expect(state.unknownToBuyers).toBe(0);
  const updates503 = traffic.recs.filter((r) => ['checkout', 'complete', 'release'].includes(r.op) && r.status === 503).length;
  console.log(
    `[SIGKILL] ${traffic.known.size} transactions answered 201; ${updates503} update attempts answered 503 (retried by the buyers ` +
      `until 200; ${retried} holds or updates retried after the traffic stopped); holds unknown to their buyers: ${state.unknownToBuyers}; Redis: ${JSON.stringify(state)}`,
  );
  // what the first test left behind came back from the AOF as it was
  if (earlier) await checkInvariants(earlier.perf, earlier.traffic);
}, 90_000);
