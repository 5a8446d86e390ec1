// The buyers of test/redis-failure.test.ts: concurrent buyers in a loop (search, hold by ids or best available,
// read, checkout, complete or release) against a service whose Redis is taken away under them. Each request is
// timed and its answer checked against API.md (a 503 is UNAVAILABLE with Retry-After, errors have the error shape);
// a step that answered 503 is repeated as a client with a transaction in hand would, and every transaction a buyer
// was told about is kept (KnownTx), with the statuses a 503 may have reached anyway.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import type { HeldTicket } from '../../tools/onsale/buyer';
import { as, KEYS, sleep } from './app';

/** The client gives up after this: a request still unanswered then is a hang, reported as status 0. */
export const CLIENT_TIMEOUT_MS = 15_000;
const BUYERS = 8;

export interface Rec {
  op: string;
  started: number; // performance.now() ms
  ended: number;
  status: number; // 0: no answer within CLIENT_TIMEOUT_MS, or a transport error
  code: string | undefined;
}

export interface KnownTx {
  id: string;
  key: string;
  /** the tickets its hold answered with */
  tickets: HeldTicket[];
  /** transaction_status of the last 2xx answer about it */
  status: string;
  orderNumber: string | undefined;
  /** statuses an update that answered 503 may have reached anyway (the script may have run after the timeout) */
  unsure: Set<string>;
}

export interface UnsureHold {
  key: string;
  op: 'hold' | 'hold-best';
  idempotencyKey: string;
  body: object;
}

/** Concurrent buyers in a loop: search, hold (by ids or best available), read, checkout, complete or release. */
export class Traffic {
  readonly recs: Rec[] = [];
  readonly known = new Map<string, KnownTx>();
  /** holds still answering 503 when the traffic stopped: retried with their key afterwards */
  readonly unsureHolds: UnsureHold[] = [];
  readonly violations: string[] = [];
  private stopped = false;
  private readonly buyers: Promise<void>[] = [];

  constructor(
    /** the service's URL */
    private readonly base: string,
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
    const ticket = await this.persist(() => this.send('read-ticket', (h) => h.get(`/tickets/${tx.tickets[0]?.id}`).set(as(key))));
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
      tickets: (hold.body.tickets as HeldTicket[]).map((t) => ({ id: t.id, price: t.price })),
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
      res = await make(request(this.base)).timeout(CLIENT_TIMEOUT_MS);
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

/**
 * An update that answered 503 may or may not have happened; the client retries it and must get the normal answer
 * (the scripts are idempotent per transaction). Afterwards every known transaction's status is certain again.
 */
export async function retryUnsure(traffic: Traffic): Promise<number> {
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
