// The HTTP fuzz suite's fixture and checks (issue 5, hardening), for the test/http-fuzz-*.test.ts files: fast-check
// throws generated bad requests at every endpoint. Each one must get a 4xx (never 2xx, never 5xx) in API.md's error
// shape — JSON, {"status":"ERROR","error":{code,message,request_id,...}}, no stack trace or file path — and must
// change nothing: the whole Redis database is fingerprinted after every request, and counts, tickets, transactions,
// the order, the person and the document store are compared before and after each property.
//
// Generated requests go through node:http against one listening server, not supertest: superagent parses URLs with
// WHATWG URL, which resolves dot segments and re-encodes paths and queries, and this suite sends exact bytes there.
// Every property has a fixed seed; each file prints the number of generated requests it sent at its end. The
// generators are in http-fuzz-generators.ts.
import http from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { as, countsOf, createPerformance, KEYS, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './app';
import { activeOutboxesKey } from '../../src/redis/keys';
import { waitFor } from './spawn';

// ---------------------------------------------------------------- fixture

const t = {} as TestApp; // filled in by the beforeAll useFuzzFixture registers
let server: Listening | undefined;
let port = 0;
const agent = new http.Agent({ keepAlive: true });
let sent = 0; // generated requests, shrinking included
const startedAt = Date.now();

/**
 * Performance P: tickets A1..A7 (fx.t[0..6]). A1+A2 held by alice (fx.open), A3 held by alice in checkout
 * (fx.checkout), A4 sold by alice (fx.done, order fx.order, person fx.email), A5 held then released (fx.released,
 * so available), A6 held by bob (fx.bobs), A7 available. Performance Q: two available tickets.
 */
export const fx = {
  P: '',
  Q: '',
  t: [] as string[],
  q: [] as string[],
  open: '',
  checkout: '',
  done: '',
  released: '',
  bobs: '',
  order: '',
  email: '',
};
export const tk = (i: number): string => fx.t[i] as string;
export const txTickets = (): Record<string, string[]> => ({
  [fx.open]: [tk(0), tk(1)],
  [fx.checkout]: [tk(2)],
  [fx.done]: [tk(3)],
  [fx.released]: [tk(4)],
  [fx.bobs]: [tk(5)],
});

export const ALICE = { Authorization: `Bearer ${KEYS.alice}` };
export const BOB = { Authorization: `Bearer ${KEYS.bob}` };
export const ADMIN = { Authorization: `Bearer ${KEYS.admin}` };
export const JSON_TYPE = { 'Content-Type': 'application/json' };

/**
 * Registers the fuzz fixture in the calling file (the performances, transactions, order and person of `fx`, and
 * one listening server) and, after the file's tests, prints how many generated requests `name` sent. Returns the
 * test app, filled in by the beforeAll.
 */
export function useFuzzFixture(name: string): TestApp {
  beforeAll(async () => {
    // locks must outlive the suite (the test default is 2 s); the order writer reads every performance of this
    // worker's database, so start from an empty one
    Object.assign(t, await startTestApp({ LOCK_TTL_SECONDS: '600' }));
    await t.redis.flushdb();
    const p = await createPerformance(t, { rows: 1, seats: 7 });
    const q = await createPerformance(t, { rows: 1, seats: 2 });
    Object.assign(fx, { P: p.id, Q: q.id, t: p.ticketIds, q: q.ticketIds, email: `fuzz-${p.id}@example.com` });

    const hold = async (key: string, tickets: string[]) => {
      const res = await request(t.app).post('/transaction').set(as(key)).send({ tickets });
      if (res.status !== 201) throw new Error(`hold: ${res.status} ${res.text}`);
      return res.body.transaction_id as string;
    };
    const ok = (res: request.Response) => {
      if (res.status !== 200) throw new Error(`fixture: ${res.status} ${res.text}`);
      return res;
    };
    fx.open = await hold(KEYS.alice, [tk(0), tk(1)]);
    fx.checkout = await hold(KEYS.alice, [tk(2)]);
    ok(await request(t.app).put(`/transaction/${fx.checkout}`).set(as(KEYS.alice)).send({ status: 'checkout' }));
    fx.done = await hold(KEYS.alice, [tk(3)]);
    const done = ok(
      await request(t.app)
        .put(`/transaction/${fx.done}`)
        .set(as(KEYS.alice))
        .send({ status: 'complete', customer: { email: fx.email, first_name: 'Fuzz' }, payment_reference: 'pay-1' }),
    );
    fx.order = done.body.order_number as string;
    fx.released = await hold(KEYS.alice, [tk(4)]);
    ok(await request(t.app).delete(`/transaction/${fx.released}`).set(as(KEYS.alice)));
    fx.bobs = await hold(KEYS.bob, [tk(5)]);

    // persist the order and the person, then stop the writer so nothing moves in Redis behind the suite's back
    const writer = await startTestWriter(t);
    await waitFor(`order ${fx.order} persisted`, async () => {
      const res = await request(t.app).get(`/orders/${fx.order}`).set(as(KEYS.admin));
      return res.status === 200 || undefined;
    });
    await writer.stop();
    await new Promise((r) => setTimeout(r, 200));
    await t.redis.del('tix:lock:writer-sweep'); // a sweep lock left with a TTL would expire mid-suite

    server = await listen(t);
    port = server.port;
  });

  afterAll(async () => {
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(`${name}: ${sent} generated requests sent in ${seconds} s`);
    agent.destroy();
    await server?.close();
    await t.close?.();
  });
  return t;
}

// ---------------------------------------------------------------- sending and checking

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Transfer-Encoding: chunked instead of Content-Length */
  chunked?: boolean;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function send(req: Req): Promise<Reply> {
  sent += 1;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    if (body && req.chunked) headers['Transfer-Encoding'] = 'chunked';
    else if (body) headers['Content-Length'] = String(body.length);
    let answered = false;
    const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answered = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (body && req.chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) r.write(body.subarray(i, i + 16 * 1024));
      r.end();
    } else {
      r.end(body);
    }
  });
}

export interface Expect {
  status: number | readonly number[];
  code?: string | readonly string[];
  /** an entry of error.issues must have this path */
  issue?: string;
}

export interface Case {
  what: string;
  req: Req;
  expect: Expect;
}

export const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ORDER_RE = /^[A-Z0-9]{1,12}$/;
export const MAX_PRICE = 2 ** 31 - 1;
export const ANY_4XX = [400, 404, 409];
/** What an answer must never show: stack frames, file paths, exception class names, Redis or HTML error pages. */
const LEAK =
  /\n\s+at |\bat \S+ \(|node_modules|\/work\/|\/src\/|\/dist\/|\/lua\/|\.(?:ts|js|lua):\d+|(?:Syntax|Type|Reference|Range|URI)Error|\bERR |WRONGTYPE|NOSCRIPT|ioredis|<html|<pre/;

const list = <T>(x: T | readonly T[]): readonly T[] => (Array.isArray(x) ? (x as readonly T[]) : [x as T]);

function verify(c: Case, res: Reply): void {
  const statuses = list(c.expect.status);
  const codes = c.expect.code === undefined ? undefined : list(c.expect.code);
  let body: { status?: unknown; error?: Record<string, unknown> } | undefined;
  if (c.req.method !== 'HEAD') {
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
  }
  const code = body?.error?.code;
  if (!statuses.includes(res.status) || (codes !== undefined && c.req.method !== 'HEAD' && !codes.includes(String(code)))) {
    throw new Error(
      `${c.what}: expected ${statuses.join('|')} ${codes?.join('|') ?? ''}, got ${res.status} ${res.text.slice(0, 400)}`,
    );
  }
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);

  const requestId = res.headers['x-request-id'];
  expect(requestId).toMatch(ID_RE);
  const given = c.req.headers?.['X-Request-Id']?.replace(/^[ \t]+|[ \t]+$/g, '');
  if (given !== undefined && ID_RE.test(given)) expect(requestId).toBe(given);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['transaction-status']).toBeUndefined();
  expect(res.headers['lock-expires']).toBeUndefined();

  if (c.req.method === 'HEAD') {
    expect(res.text).toBe('');
    return;
  }
  expect(body).toBeDefined();
  expect(Object.keys(body ?? {}).sort()).toEqual(['error', 'status']);
  expect(body).toEqual({
    status: 'ERROR',
    error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), request_id: requestId }),
  });
  expect(body?.error).not.toHaveProperty('stack');
  expect(res.text).not.toMatch(LEAK);
  if (c.expect.issue !== undefined) {
    expect(body?.error?.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: c.expect.issue })]));
  }
}

// ---------------------------------------------------------------- "nothing changed"

/**
 * Every key of the database: name, a digest of its DUMP and its absolute expiry (-1: none). One exception, by
 * design: a complete marks its performance's outbox active before it runs (tix:outbox-active, refused ones
 * included, again after MARK_REUSE_MS): of that zset only its members are compared, not their marks' times.
 */
const REDIS_STATE = `
local out = {}
local keys = redis.call('KEYS', '*')
table.sort(keys)
for _, k in ipairs(keys) do
  local expiry = redis.call('PEXPIRETIME', k)
  local value = redis.sha1hex(redis.call('DUMP', k))
  if k == '${activeOutboxesKey}' then value = table.concat(redis.call('ZRANGE', k, 0, -1), ',') end
  out[#out + 1] = k .. ' ' .. value .. ' ' .. expiry
end
return out`;

export const redisState = async () => (await t.redis.eval(REDIS_STATE, 0)) as string[];

/**
 * What the API and the document store say about the fixture, and the Redis fingerprint (test/http-fuzz-fingerprint
 * checks that a change to each thing it covers changes it).
 */
export async function snapshot() {
  const read = async (path: string) => {
    const res = await request(t.app).get(path).set(as(KEYS.admin));
    return { path, status: res.status, body: res.body as unknown };
  };
  const paths = [
    `/performances/${fx.P}`,
    `/performances/${fx.Q}`,
    `/performances/${fx.P}/tickets?limit=1000`,
    ...[...fx.t, ...fx.q].map((id) => `/tickets/${id}`),
    ...[fx.open, fx.checkout, fx.done, fx.released, fx.bobs].map((id) => `/transaction/${id}`),
    `/orders/${fx.order}`,
    `/people?email=${encodeURIComponent(fx.email)}`,
  ];
  const reads = [];
  for (const path of paths) reads.push(await read(path));
  return {
    counts: { P: await countsOf(t, fx.P), Q: await countsOf(t, fx.Q) },
    reads,
    documents: {
      performances: await t.documents.listPerformances(),
      ticketsP: await t.documents.listTickets(fx.P),
      ticketsQ: await t.documents.listTickets(fx.Q),
      sold: await t.documents.listSoldTickets(fx.P),
      // Q's sales and both performances' orders: a sale of a Q ticket (or a new order of P) would not show otherwise
      soldQ: await t.documents.listSoldTickets(fx.Q),
      orders: { P: await t.documents.listPerformanceOrders(fx.P), Q: await t.documents.listPerformanceOrders(fx.Q) },
      conflicts: await t.documents.listConflicts(100),
      order: await t.documents.getOrder(fx.order),
      person: await t.documents.getPerson(fx.email),
    },
    redis: await redisState(),
  };
}

export function stateDiff(before: string[], after: string[]): string {
  const b = new Set(before);
  const a = new Set(after);
  return [...before.filter((x) => !a.has(x)).map((x) => `- ${x}`), ...after.filter((x) => !b.has(x)).map((x) => `+ ${x}`)].join('\n');
}

export const POLLUTION_PROBES = ['tickets', 'quantity', 'status', 'hold_seconds', 'performance_id', 'name', 'price', 'polluted'];

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** After the whole run: the full snapshot is unchanged and no prototype was polluted. */
async function expectUnchanged(before: Snapshot, prototypeKeys: string[]): Promise<void> {
  expect(await snapshot()).toEqual(before);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  for (const probe of POLLUTION_PROBES) expect(({} as Record<string, unknown>)[probe]).toBeUndefined();
}

/** Runs a property: every generated case must verify and leave Redis exactly as it was; then the full snapshot. */
export async function fuzz(seed: number, numRuns: number, arb: fc.Arbitrary<Case>): Promise<void> {
  const before = await snapshot();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  let changed: { c: Case; diff: string } | undefined;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        if (changed) throw new Error('Redis already changed'); // the first change is reported below
        const res = await send(c.req);
        const now = await redisState();
        if (JSON.stringify(now) !== JSON.stringify(before.redis)) changed = { c, diff: stateDiff(before.redis, now) };
        verify(c, res);
        if (changed) throw new Error('Redis changed');
      }),
      { seed, numRuns },
    );
  } catch (err) {
    if (changed) {
      throw new Error(
        `Redis changed after "${changed.c.what}" ${changed.c.req.method} ${changed.c.req.path}\n` +
          `${String(changed.c.req.body ?? '').slice(0, 500)}\n${changed.diff}`,
      );
    }
    throw err;
  }
  await expectUnchanged(before, prototypeKeys);
}

/** The same checks for a few hand-picked cases, each sent once. */
export async function fixedCases(cases: readonly Case[]): Promise<void> {
  const before = await snapshot();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  for (const c of cases) {
    verify(c, await send(c.req));
    expect(stateDiff(before.redis, await redisState())).toBe('');
  }
  await expectUnchanged(before, prototypeKeys);
}

// ---------------------------------------------------------------- what the properties spoil

/** Requests that would succeed with the right key (http-fuzz-credentials.test.ts checks the read-only ones do). */
export const validEndpoints = (): { method: string; path: string; body?: unknown; admin?: boolean }[] => [
  { method: 'PUT', path: `/performances/${fx.P}`, body: { tickets: [{ id: tk(6), price: 1 }] }, admin: true },
  { method: 'PUT', path: '/performances/fuzz-new-perf', body: { name: 'New', tickets: [{ id: 'fuzz-new-perf-1' }] }, admin: true },
  { method: 'GET', path: `/performances/${fx.P}`, admin: true },
  { method: 'GET', path: `/performances/${fx.P}/tickets?state=locked&limit=5`, admin: true },
  { method: 'GET', path: `/tickets?performance_id=${fx.P}&quantity=1` },
  { method: 'GET', path: `/tickets/${tk(0)}` },
  { method: 'POST', path: '/transaction', body: { tickets: [tk(6)] } },
  { method: 'POST', path: '/transactions', body: { performance_id: fx.P, quantity: 1 } },
  { method: 'PUT', path: `/transaction/${fx.open}`, body: { status: 'complete' } },
  { method: 'POST', path: `/transactions/${fx.open}`, body: { status: 'checkout' } },
  { method: 'GET', path: `/transaction/${fx.open}` },
  { method: 'HEAD', path: `/transactions/${fx.open}` },
  { method: 'DELETE', path: `/transaction/${fx.open}` },
  { method: 'GET', path: `/orders/${fx.order}` },
  { method: 'GET', path: `/people?email=${encodeURIComponent(fx.email)}`, admin: true },
];

/** Bodies that would succeed as they are; the cases below spoil how they are sent. */
export const bodyTargets = (): { method: string; path: string; key: Record<string, string>; body: Record<string, unknown> }[] => [
  { method: 'POST', path: '/transaction', key: ALICE, body: { tickets: [tk(6)] } },
  { method: 'POST', path: '/transactions', key: BOB, body: { performance_id: fx.P, quantity: 1 } },
  { method: 'PUT', path: `/transaction/${fx.open}`, key: ALICE, body: { status: 'complete' } },
  { method: 'POST', path: `/transactions/${fx.open}`, key: ALICE, body: { status: 'checkout' } },
  { method: 'PUT', path: `/performances/${fx.P}`, key: ADMIN, body: { tickets: [{ id: tk(6), price: 1 }] } },
];
