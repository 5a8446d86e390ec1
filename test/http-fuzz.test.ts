// HTTP fuzz (issue 5, hardening): fast-check throws generated bad requests at every endpoint. Each one must get a
// 4xx (never 2xx, never 5xx) in API.md's error shape — JSON, {"status":"ERROR","error":{code,message,request_id,...}},
// no stack trace or file path — and must change nothing: the whole Redis database is fingerprinted after every
// request, and counts, tickets, transactions, the order, the person and the document store are compared before and
// after each property.
//
// Generated requests go through node:http against one listening server, not supertest: superagent parses URLs with
// WHATWG URL, which resolves dot segments and re-encodes paths and queries, and this suite sends exact bytes there.
// Every property has a fixed seed; the total number of generated requests is printed at the end.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import fc from 'fast-check';
import request from 'supertest';
import { as, countsOf, createPerformance, KEYS, startTestApp, startTestWriter, type TestApp } from './support/app';
import { waitFor } from './support/spawn';

// ---------------------------------------------------------------- fixture

let t: TestApp;
let server: http.Server;
let port = 0;
const agent = new http.Agent({ keepAlive: true });
let sent = 0; // generated requests, shrinking included
const startedAt = Date.now();

/**
 * Performance P: tickets A1..A7 (fx.t[0..6]). A1+A2 held by alice (fx.open), A3 held by alice in checkout
 * (fx.checkout), A4 sold by alice (fx.done, order fx.order, person fx.email), A5 held then released (fx.released,
 * so available), A6 held by bob (fx.bobs), A7 available. Performance Q: two available tickets.
 */
const fx = {
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
const tk = (i: number): string => fx.t[i] as string;
const txTickets = (): Record<string, string[]> => ({
  [fx.open]: [tk(0), tk(1)],
  [fx.checkout]: [tk(2)],
  [fx.done]: [tk(3)],
  [fx.released]: [tk(4)],
  [fx.bobs]: [tk(5)],
});

const ALICE = { Authorization: `Bearer ${KEYS.alice}` };
const BOB = { Authorization: `Bearer ${KEYS.bob}` };
const ADMIN = { Authorization: `Bearer ${KEYS.admin}` };
const JSON_TYPE = { 'Content-Type': 'application/json' };

beforeAll(async () => {
  // locks must outlive the suite (the test default is 2 s); the order writer reads every performance of this
  // worker's database, so start from an empty one
  t = await startTestApp({ LOCK_TTL_SECONDS: '600' });
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

  server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(`http-fuzz: ${sent} generated requests sent in ${seconds} s`);
  agent.destroy();
  await new Promise((r) => server?.close(r));
  await t?.close();
});

// ---------------------------------------------------------------- sending and checking

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Transfer-Encoding: chunked instead of Content-Length */
  chunked?: boolean;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(req: Req): Promise<Reply> {
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

interface Expect {
  status: number | readonly number[];
  code?: string | readonly string[];
  /** an entry of error.issues must have this path */
  issue?: string;
}

interface Case {
  what: string;
  req: Req;
  expect: Expect;
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ORDER_RE = /^[A-Z0-9]{1,12}$/;
const MAX_PRICE = 2 ** 31 - 1;
const ANY_4XX = [400, 404, 409];
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
 * design of RedisLockStore.runTx: the global transaction index (tix:txp:<id>) has its TTL re-set on every
 * transaction operation before the script's answer is known (one round trip), refused ones included (another
 * client's id, a tickets mismatch); for those keys only "has a TTL" is compared, their value still is.
 */
const REDIS_STATE = `
local out = {}
local keys = redis.call('KEYS', '*')
table.sort(keys)
for _, k in ipairs(keys) do
  local expiry = redis.call('PEXPIRETIME', k)
  if string.sub(k, 1, 8) == 'tix:txp:' and expiry > 0 then expiry = 'ttl' end
  out[#out + 1] = k .. ' ' .. redis.sha1hex(redis.call('DUMP', k)) .. ' ' .. expiry
end
return out`;

const redisState = async () => (await t.redis.eval(REDIS_STATE, 0)) as string[];

/** What the API and the document store say about the fixture, and the Redis fingerprint. */
async function snapshot() {
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
      conflicts: await t.documents.listConflicts(100),
      order: await t.documents.getOrder(fx.order),
      person: await t.documents.getPerson(fx.email),
    },
    redis: await redisState(),
  };
}

function stateDiff(before: string[], after: string[]): string {
  const b = new Set(before);
  const a = new Set(after);
  return [...before.filter((x) => !a.has(x)).map((x) => `- ${x}`), ...after.filter((x) => !b.has(x)).map((x) => `+ ${x}`)].join('\n');
}

const POLLUTION_PROBES = ['tickets', 'quantity', 'status', 'hold_seconds', 'performance_id', 'name', 'price', 'polluted'];

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** After the whole run: the full snapshot is unchanged and no prototype was polluted. */
async function expectUnchanged(before: Snapshot, prototypeKeys: string[]): Promise<void> {
  expect(await snapshot()).toEqual(before);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  for (const probe of POLLUTION_PROBES) expect(({} as Record<string, unknown>)[probe]).toBeUndefined();
}

/** Runs a property: every generated case must verify and leave Redis exactly as it was; then the full snapshot. */
async function fuzz(seed: number, numRuns: number, arb: fc.Arbitrary<Case>): Promise<void> {
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
async function fixedCases(cases: readonly Case[]): Promise<void> {
  const before = await snapshot();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  for (const c of cases) {
    verify(c, await send(c.req));
    expect(stateDiff(before.redis, await redisState())).toBe('');
  }
  await expectUnchanged(before, prototypeKeys);
}

// ---------------------------------------------------------------- generators: ids

const VALID_CHARS = 'ABCXYZabcxyz0189._:-'.split('');
const validChar = fc.constantFrom(...VALID_CHARS);
/** Characters that look like ones of the id alphabet (Cyrillic, Greek, fullwidth, Unicode dashes, Kelvin sign...). */
const LOOKALIKES: Record<string, string[]> = {
  a: ['\u0430', '\uff41', '\u0251'],
  c: ['\u0441'],
  e: ['\u0435', '\uff45'],
  o: ['\u043e', '\u03bf'],
  p: ['\u0440'],
  x: ['\u0445'],
  A: ['\u0410', '\u0391', '\uff21'],
  B: ['\u0412', '\u0392'],
  C: ['\u0421', '\uff23'],
  E: ['\u0415', '\u0395'],
  H: ['\u041d'],
  K: ['\u041a', '\u212a'],
  M: ['\u041c'],
  O: ['\u041e', '\u039f'],
  P: ['\u0420', '\u03a1'],
  T: ['\u0422', '\u03a4'],
  X: ['\u0425', '\u03a7'],
  '0': ['\uff10', '\u041e'],
  '1': ['\uff11', '\u0661'],
  '2': ['\uff12'],
  '3': ['\uff13', '\u0417'],
  '4': ['\uff14'],
  '5': ['\uff15'],
  '6': ['\uff16'],
  '7': ['\uff17'],
  '9': ['\uff19'],
  '-': ['\u2010', '\u2011', '\u2013', '\u2212', '\uff0d'],
  '.': ['\uff0e', '\u3002'],
  ':': ['\uff1a', '\u2236'],
  _: ['\uff3f'],
};
const ALL_LOOKALIKES = Object.values(LOOKALIKES).flat();
const BAD_ASCII = [...' !"#$%&\'()*+,/;<=>?@[\\]^`{|}~', '\t', '\n', '\r', '\u0000', '\u001f', '\u007f'];
const BAD_UNICODE = ['\u00a0', '\u200b', '\u200d', '\ufeff', '\u0301', '\u00e9', '\u00df', '\u0130', '\u0131', '\u017f', '\u2028', '\u4e2d', '\u03a9', '\ud83c\udf9f', '\ud83d\ude00'];
const badChar = fc.oneof(
  fc.constantFrom(...BAD_ASCII, ...BAD_UNICODE, ...ALL_LOOKALIKES),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((ch) => !/^[A-Za-z0-9._:-]$/.test(ch)),
);

/** An id like a real one with one character swapped for a look-alike (or a fullwidth one appended). */
const lookalikeOf = (ids: readonly string[]) =>
  fc.tuple(fc.constantFrom(...ids), fc.nat(), fc.nat()).map(([id, at, pick]) => {
    const chars = [...id];
    const positions = chars.map((ch, i) => (LOOKALIKES[ch] ? i : -1)).filter((i) => i >= 0);
    if (positions.length === 0) return `${id}\uff21`;
    const i = positions[at % positions.length] as number;
    const options = LOOKALIKES[chars[i] as string] as string[];
    chars[i] = options[pick % options.length] as string;
    return chars.join('');
  });

/** Strings that are not 1-128 characters of [A-Za-z0-9._:-] (never empty). */
const badId = (realIds: readonly string[]) =>
  fc
    .oneof(
      fc
        .tuple(fc.array(validChar, { maxLength: 24 }), fc.array(fc.tuple(badChar, fc.nat()), { minLength: 1, maxLength: 3 }))
        .map(([chars, bads]) => {
          const out = [...chars];
          for (const [ch, at] of bads) out.splice(at % (out.length + 1), 0, ch);
          return out.join('');
        }),
      fc.integer({ min: 129, max: 400 }).chain((n) => fc.string({ unit: validChar, minLength: n, maxLength: n })),
      lookalikeOf(realIds),
      fc.constantFrom('{id}', '*', '${id}', '../etc', 'a b', '%', '%00', '\u0000', 'NULL\u0000', 'a/b', '?', '#', '\\'),
    )
    .filter((s) => s.length > 0 && !ID_RE.test(s));

/** Strings that are not transaction ids (UUIDs), many of them close to a real one. */
const badTxId = (realTx: readonly string[], realIds: readonly string[]) =>
  fc
    .oneof(
      badId(realIds),
      fc.string({ unit: validChar, minLength: 1, maxLength: 40 }),
      fc.tuple(fc.constantFrom(...realTx), fc.nat(), fc.constantFrom(...ALL_LOOKALIKES, 'g', 'z', '')).map(([id, at, ch]) => {
        const i = at % id.length;
        return id.slice(0, i) + ch + id.slice(i + 1);
      }),
      fc.constantFrom(...realTx).chain((id) =>
        fc.constantFrom(`{${id}}`, `urn:uuid:${id}`, id.replace(/-/g, ''), `${id}0`, id.slice(1), `${id}-`, id.replace(/-/g, '\u2010')),
      ),
    )
    .filter((s) => s.length > 0 && !UUID_RE.test(s));

/** Strings that are not order numbers ([A-Z0-9]{1,12}). */
const badOrderNumber = (order: string, realIds: readonly string[]) =>
  fc
    .oneof(
      badId(realIds),
      fc.constantFrom(order.toLowerCase(), `${order}AB`.padEnd(13, 'A'), `${order.slice(0, 4)}-${order.slice(4)}`, ` ${order}`),
      lookalikeOf([order]),
      fc.string({ unit: fc.constantFrom(...'ABCDEFGHJK0123456789'), minLength: 13, maxLength: 30 }),
    )
    .filter((s) => s.length > 0 && !ORDER_RE.test(s));

/** Percent-encodings a router cannot decode. */
const MALFORMED_PERCENT = ['%', '%%', '%zz', '%G0', 'abc%2', '%E0%A4%A', '%C0%AF', '%C0%80', '%ED%A0%80', '%F4%90%80%80', '%FF', '%80', 'ok%', '%u0041'];

type Encoding = 'component' | 'every-byte' | 'raw-ascii' | 'double';
const encodings = fc.constantFrom<Encoding>('component', 'every-byte', 'raw-ascii', 'double');

/** A path segment that the router decodes back to exactly `s` (or, 'double', to a string that still contains '%'). */
function encodeSegment(s: string, how: Encoding, lowerHex: boolean): string {
  const hex = (b: number) => {
    const h = b.toString(16).padStart(2, '0');
    return `%${lowerHex ? h : h.toUpperCase()}`;
  };
  switch (how) {
    case 'component':
      return encodeURIComponent(s);
    case 'every-byte':
      return [...Buffer.from(s, 'utf8')].map(hex).join('');
    case 'raw-ascii':
      return [...s].map((ch) => (/^[\x21-\x7e]$/.test(ch) && !'/?#%'.includes(ch) ? ch : encodeURIComponent(ch))).join('');
    case 'double':
      return encodeURIComponent(encodeURIComponent(s));
  }
}

/** A generated bad id as a path segment: well-formed encodings of it, or a malformed percent sequence. */
const badSegment = (ids: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.tuple(ids, encodings, fc.boolean()).map(([s, how, lower]) => ({ seg: encodeSegment(s, how, lower), malformed: false })) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_PERCENT).map((seg) => ({ seg, malformed: true })) },
  );

// ---------------------------------------------------------------- generators: JSON values

/** A number literal written into the JSON text as is (1e400, -0, 1.5...), which JSON.stringify cannot produce. */
const RAW = (text: string) => `\u0000RAW:${text}\u0000`;

/** JSON text of value; RAW literals unquoted; extra `"key":value` members appended (a duplicate key wins). */
function jsonText(value: unknown, extra: readonly string[] = []): string {
  const text = JSON.stringify(value).replace(/"\\u0000RAW:([^"\\]*)\\u0000"/g, '$1');
  if (extra.length === 0 || !text.startsWith('{')) return text;
  return `${text.slice(0, -1)}${text === '{}' ? '' : ','}${extra.join(',')}}`;
}

/** Sets an own enumerable property, so "__proto__" becomes a key of the JSON text rather than the prototype. */
function own(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const show = (v: unknown) => jsonText(v).slice(0, 60);

/** Not a whole number in [min, max]: wrong types, strings of numbers, fractions, 1e400, out of range. */
function badNumber(min: number, max: number): fc.Arbitrary<unknown> {
  const literals = ['1.5', '0.1', '1e400', '-1e400', '2.5e0', '1e20', '9007199254740993', '-1', `${max + 1}`, `${max}.5`];
  if (min >= 1) literals.push('-0', '0', '1e-400', '0.0');
  return fc.oneof(
    fc.constantFrom<unknown>('1', '2', String(min), '', 'NaN', 'Infinity', '1e3', ' 1', '0x1', null, true, false, [], [1], {}, { value: 1 }),
    fc.string({ maxLength: 10 }),
    fc.constantFrom(...literals).map(RAW),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
  );
}

/** Not a ticket attribute (max 64, no '|' or control characters; with allowEmpty false also not empty). */
const badAttribute = (allowEmpty: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('|', '\u0000', '\n', '\t', '\r', '\u001f', '\u007f'), fc.string({ maxLength: 10 }))
      .map(([a, b, c]) => a + b + c),
    fc.string({ minLength: 65, maxLength: 120 }),
    fc.constantFrom<unknown>(null, 5, true, [], {}, ['ORCH']),
    ...(allowEmpty ? [] : [fc.constant('')]),
  );

/** Not a trimmed non-empty text of at most max characters. */
const badText = (max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>('', ' ', '   ', '\t\n', '\u00a0', null, 7, true, [], {}, ['x']),
    fc.integer({ min: max + 1, max: max + 50 }).map((n) => 'x'.repeat(n)),
  );

const BAD_EMAILS = ['', 'joe', 'joe@', '@example.com', 'joe@@example.com', 'j oe@example.com', '<joe@example.com>', 'joe@example.com ', 'joe@example.com,ann@example.com', `${'a'.repeat(250)}@example.com`];
const badEmailString = fc.oneof(fc.constantFrom(...BAD_EMAILS), fc.string({ maxLength: 30 }).filter((s) => !s.includes('@')));
const badEmail: fc.Arbitrary<unknown> = fc.oneof(badEmailString, fc.constantFrom<unknown>(null, 1, [], {}, ['joe@example.com']));

const KNOWN_KEYS = new Set([
  'tickets', 'performance_id', 'quantity', 'section', 'price_level', 'max_price', 'hold_seconds', 'buyer',
  'status', 'id', 'customer', 'payment_reference', 'name', 'starts_at', 'max_tickets_per_transaction',
]);
const noiseKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('Tickets', 'QUANTITY', 'quantity ', 'ticket', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', ''),
).filter((k) => !KNOWN_KEYS.has(k));

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Extra members that must not matter: unknown keys with any value, and __proto__/constructor/prototype. */
const noise = (helpful: readonly Record<string, unknown>[]) =>
  fc.record({
    extra: fc.array(fc.tuple(noiseKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
    proto: fc.option(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.oneof(fc.constantFrom(...helpful), fc.jsonValue({ maxDepth: 2 })))),
  });
type Noise = { extra: [string, unknown][]; proto: [string, unknown] | null };

function addNoise(body: Record<string, unknown>, n: Noise): void {
  for (const [k, v] of n.extra) own(body, k, v);
  if (n.proto) {
    const [k, v] = n.proto;
    own(body, k, k === 'constructor' ? { prototype: v } : v);
  }
}

// ---------------------------------------------------------------- generators: bodies by mutation

/**
 * A mutation of a valid body. stage 0 (domain-level: unknown, locked or sold tickets...) runs first, stage 1
 * (schema-level) next and stage 2 (removing required members) last, so a later mutation never repairs an earlier
 * one. bad400: the body is then certain to be a 400 INVALID_REQUEST; otherwise any of 400/404/409.
 */
interface Mutation {
  what: string;
  stage: 0 | 1 | 2;
  bad400: boolean;
  apply: (body: Record<string, unknown>, extra: string[]) => void;
}

const set = (key: string, value: unknown, bad400 = true, stage: 0 | 1 = 1): Mutation => ({
  what: `${key}=${show(value)}`,
  stage,
  bad400,
  apply: (b) => {
    b[key] = value;
  },
});

/** The same key again at the end of the text with a bad value: JSON.parse keeps the last one. */
const duplicateKey = (key: string, value: unknown): Mutation => ({
  what: `duplicate ${key}=${show(value)}`,
  stage: 1,
  bad400: true,
  apply: (_b, extra) => extra.push(`${JSON.stringify(key)}:${jsonText(value)}`),
});

/** Removes required members; the removed values may reappear under __proto__ / constructor.prototype / prototype. */
const removeRequired = (keys: readonly string[], repair: Record<string, unknown>) =>
  fc.constantFrom('plain', ...PROTO_KEYS).map(
    (where): Mutation => ({
      what: `without ${keys.join('+')}${where === 'plain' ? '' : ` (offered under ${where})`}`,
      stage: 2,
      bad400: true,
      apply: (b) => {
        for (const k of keys) delete b[k];
        if (where === 'constructor') own(b, 'constructor', { prototype: repair });
        else if (where !== 'plain') own(b, where, repair);
      },
    }),
  );

interface BodyCase {
  text: string;
  bad400: boolean;
  what: string;
}

function bodyCase(base: Record<string, unknown>, mutations: readonly Mutation[], n: Noise): BodyCase {
  const body = structuredClone(base);
  const extra: string[] = [];
  const ordered = [...mutations].sort((a, b) => a.stage - b.stage);
  for (const m of ordered) m.apply(body, extra);
  addNoise(body, n);
  return {
    text: jsonText(body, extra),
    bad400: mutations.some((m) => m.bad400),
    what: ordered.map((m) => m.what).join('; '),
  };
}

const mutationsOf = (arbs: fc.Arbitrary<Mutation>[]) => fc.array(fc.oneof(...arbs), { minLength: 1, maxLength: 3 });

function bodyExpect(bad400: boolean): Expect {
  return bad400 ? { status: 400, code: 'INVALID_REQUEST' } : { status: ANY_4XX };
}

// ---------------------------------------------------------------- generators: credentials and headers

const printable = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const REAL_KEYS = Object.values(KEYS);

/** Near misses of real keys: one character off, cut, extended, case-changed, wrapped. */
const nearKey = fc.tuple(fc.constantFrom(...REAL_KEYS), fc.nat(), fc.constantFrom('x', 'X', '0', '-', '.', ':')).chain(([k, at, ch]) => {
  const i = at % k.length;
  return fc.constantFrom(k.slice(0, i) + ch + k.slice(i + 1), k.slice(0, -1), `${k}${ch}`, k.toUpperCase(), `"${k}"`, `<${k}>`, `${k},${k}`);
});

/** Whether the headers present a real key the way API.md says keys are presented. */
function presentsRealKey(h: Record<string, string>): boolean {
  const trim = (v: string | undefined) => v?.replace(/^[ \t]+|[ \t]+$/g, '');
  const bearer = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(trim(h.Authorization) ?? '')?.[1];
  return [bearer, trim(h['X-API-Key']), trim(h['X-ATHENA-Key'])].some((k) => k !== undefined && REAL_KEYS.includes(k));
}

const garbageCredentials: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      Authorization: fc.oneof(
        printable(60),
        printable(60).map((s) => `Bearer ${s}`),
        nearKey.map((k) => `Bearer ${k}`),
        fc.constantFrom(...REAL_KEYS).chain((k) =>
          fc.constantFrom(k, `Basic ${Buffer.from(`alice:${k}`).toString('base64')}`, `Bearer ${k} ${k}`, `Bearer:${k}`, `Bearerr ${k}`, `Token ${k}`),
        ),
        fc.constantFrom('', 'Bearer', 'Bearer ', 'bearer  ', 'Basic', 'Bearer null', 'Bearer undefined'),
      ),
      'X-API-Key': fc.oneof(printable(40), nearKey, fc.constantFrom(...REAL_KEYS).map((k) => `Bearer ${k}`)),
      'X-ATHENA-Key': fc.oneof(printable(40), nearKey),
    },
    { requiredKeys: [] },
  )
  .map((h) => {
    // only the headers fc.record chose (printable ASCII: values Node accepts)
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
    return out;
  })
  .filter((h) => !presentsRealKey(h));

/** A client (non-admin) key in every accepted form. */
const clientCredentials: fc.Arbitrary<Record<string, string>> = fc
  .tuple(fc.constantFrom(KEYS.alice, KEYS.bob), fc.nat())
  .map(([k, form]) => {
    const forms: Record<string, string>[] = [
      { Authorization: `Bearer ${k}` },
      { Authorization: `bearer ${k}` },
      { Authorization: `BEARER \t${k}  ` },
      { 'X-API-Key': k },
      { 'X-ATHENA-Key': k },
      { Authorization: 'Basic Zm9vOmJhcg==', 'X-API-Key': k },
    ];
    return forms[form % forms.length] as Record<string, string>;
  });

/** Optionally an X-Request-Id: sane ones must be echoed, others replaced. */
const requestIdHeader: fc.Arbitrary<Record<string, string>> = fc.option(
  fc.oneof(printable(200), fc.string({ unit: validChar, minLength: 1, maxLength: 140 }), fc.constantFrom('', ' ', 'a b', '../x', '<script>')),
).map((v): Record<string, string> => (v === null ? {} : { 'X-Request-Id': v }));

// ---------------------------------------------------------------- the properties

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  /** Requests that would succeed with the right key (the last test checks the read-only ones do). */
  const validEndpoints = (): { method: string; path: string; body?: unknown; admin?: boolean }[] => [
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
  const bodyTargets = (): { method: string; path: string; key: Record<string, string>; body: Record<string, unknown> }[] => [
    { method: 'POST', path: '/transaction', key: ALICE, body: { tickets: [tk(6)] } },
    { method: 'POST', path: '/transactions', key: BOB, body: { performance_id: fx.P, quantity: 1 } },
    { method: 'PUT', path: `/transaction/${fx.open}`, key: ALICE, body: { status: 'complete' } },
    { method: 'POST', path: `/transactions/${fx.open}`, key: ALICE, body: { status: 'checkout' } },
    { method: 'PUT', path: `/performances/${fx.P}`, key: ADMIN, body: { tickets: [{ id: tk(6), price: 1 }] } },
  ];

  test('missing or garbage credentials on every endpoint -> 401 UNAUTHENTICATED', async () => {
    const endpoints = [
      ...validEndpoints(),
      { method: 'GET', path: '/nope' },
      { method: 'PATCH', path: `/transaction/${fx.open}` },
    ];
    const arb = fc
      .tuple(fc.constantFrom(...endpoints), garbageCredentials, requestIdHeader)
      .map(([e, creds, rid]): Case => ({
        what: `bad credentials ${JSON.stringify(creds)}`,
        req: {
          method: e.method,
          path: e.path,
          headers: { ...creds, ...rid, ...(e.body ? JSON_TYPE : {}) },
          body: e.body ? JSON.stringify(e.body) : undefined,
        },
        expect: { status: 401, code: 'UNAUTHENTICATED' },
      }));
    await fuzz(101, 150, arb);
  });

  test('a client key on admin routes -> 403 FORBIDDEN, whatever the id, query or body', async () => {
    const ids = fc.oneof(
      fc.constantFrom(fx.P, fx.Q, 'fuzz-unknown-perf'),
      fc.tuple(badId(fx.t), encodings, fc.boolean()).map(([s, how, lower]) => encodeSegment(s, how, lower)),
    );
    const query = fc.constantFrom('', '?state=locked', '?state=nope&limit=-1', '?limit=1&limit=2', '?cursor=%zz');
    const body = fc.constantFrom<{ type?: string; text?: string }>(
      { type: 'application/json', text: JSON.stringify({ tickets: [{ id: 'fuzz-x-1' }] }) },
      { type: 'application/json', text: '{"tickets": [' },
      { type: 'text/plain', text: 'hello' },
      { type: 'application/json', text: '' },
      {},
    );
    const arb = fc
      .tuple(fc.constantFrom('PUT perf', 'GET perf', 'GET tickets', 'GET people'), ids, query, body, clientCredentials, requestIdHeader)
      .map(([route, id, q, b, creds, rid]): Case => {
        const headers = { ...creds, ...rid, ...(b.type ? { 'Content-Type': b.type } : {}) };
        const req: Req =
          route === 'PUT perf'
            ? { method: 'PUT', path: `/performances/${id}`, headers, body: b.text }
            : route === 'GET perf'
              ? { method: 'GET', path: `/performances/${id}`, headers }
              : route === 'GET tickets'
                ? { method: 'GET', path: `/performances/${id}/tickets${q}`, headers }
                : { method: 'GET', path: `/people?email=${encodeURIComponent(fx.email)}${q.replace('?', '&')}`, headers };
        return { what: `client key on ${route}`, req, expect: { status: 403, code: 'FORBIDDEN' } };
      });
    await fuzz(102, 100, arb);
  });

  test('ids outside [A-Za-z0-9._:-]{1,128} (and non-UUIDs, non-order-numbers) in paths -> 400 INVALID_REQUEST', async () => {
    const realTx = [fx.open, fx.checkout, fx.done, fx.released, fx.bobs];
    const routes: { kind: 'perf' | 'ticket' | 'tx' | 'order'; method: string; path: (seg: string) => string; key: Record<string, string>; body?: string }[] = [
      { kind: 'perf', method: 'PUT', path: (s) => `/performances/${s}`, key: ADMIN, body: JSON.stringify({ tickets: [{ id: 'fuzz-x-1' }] }) },
      { kind: 'perf', method: 'GET', path: (s) => `/performances/${s}`, key: ADMIN },
      { kind: 'perf', method: 'GET', path: (s) => `/performances/${s}/tickets`, key: ADMIN },
      { kind: 'ticket', method: 'GET', path: (s) => `/tickets/${s}`, key: ALICE },
      { kind: 'tx', method: 'PUT', path: (s) => `/transaction/${s}`, key: ALICE, body: JSON.stringify({ status: 'checkout' }) },
      { kind: 'tx', method: 'POST', path: (s) => `/transactions/${s}`, key: ALICE, body: JSON.stringify({ status: 'complete' }) },
      { kind: 'tx', method: 'GET', path: (s) => `/transaction/${s}`, key: ADMIN },
      { kind: 'tx', method: 'HEAD', path: (s) => `/transactions/${s}`, key: ALICE },
      { kind: 'tx', method: 'DELETE', path: (s) => `/transaction/${s}`, key: ALICE },
      { kind: 'tx', method: 'DELETE', path: (s) => `/transactions/${s}`, key: ADMIN },
      { kind: 'order', method: 'GET', path: (s) => `/orders/${s}`, key: ALICE },
    ];
    const issue = { perf: 'performance_id', ticket: 'ticket_id', tx: 'id', order: 'order_number' } as const;
    const segments = {
      perf: badSegment(badId([fx.P, fx.Q])),
      ticket: badSegment(badId(fx.t)),
      tx: badSegment(badTxId(realTx, fx.t)),
      order: badSegment(badOrderNumber(fx.order, fx.t)),
    };
    const arb = fc.constantFrom(...routes).chain((r) =>
      segments[r.kind].map(({ seg, malformed }): Case => ({
        what: `bad ${r.kind} id in ${r.method} path`,
        req: { method: r.method, path: r.path(seg), headers: { ...r.key, ...(r.body ? JSON_TYPE : {}) }, body: r.body },
        expect: { status: 400, code: 'INVALID_REQUEST', issue: malformed ? undefined : issue[r.kind] },
      })),
    );
    await fuzz(103, 300, arb);
  });

  test('well-formed ids that do not exist or are not the caller\'s -> 404 (or 409), nothing changes', async () => {
    const unknownId = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 6, maxLength: 20 }).map((s) => `fz-${s}`);
    const unknownOrder = fc.string({ unit: fc.constantFrom(...'34679ACDEFGHJKMNPQRTVWXY'), minLength: 10, maxLength: 12 }).filter((s) => s !== fx.order);
    const uuid = fc.uuid().filter((u) => ![fx.open, fx.checkout, fx.done, fx.released, fx.bobs].includes(u));
    const othersTx = fc.constantFrom<[string, Record<string, string>]>([fx.open, BOB], [fx.done, BOB], [fx.checkout, BOB], [fx.bobs, ALICE]);
    const txCase = (id: string, key: Record<string, string>) =>
      fc.constantFrom(
        { method: 'GET', path: `/transaction/${id}`, headers: key },
        { method: 'HEAD', path: `/transactions/${id}`, headers: key },
        { method: 'DELETE', path: `/transaction/${id}`, headers: key },
        { method: 'PUT', path: `/transaction/${id}`, headers: { ...key, ...JSON_TYPE }, body: JSON.stringify({ status: 'checkout' }) },
        { method: 'POST', path: `/transactions/${id}`, headers: { ...key, ...JSON_TYPE }, body: JSON.stringify({ status: 'complete' }) },
      );
    const arb: fc.Arbitrary<Case> = fc.oneof(
      fc.tuple(uuid, fc.constantFrom(ALICE, BOB, ADMIN)).chain(([id, key]) => txCase(id, key)).map((req) => ({ what: 'unknown transaction', req, expect: { status: 404, code: 'TRANSACTION_NOT_FOUND' } })),
      othersTx.chain(([id, key]) => txCase(id, key)).map((req) => ({ what: "another client's transaction", req, expect: { status: 404, code: 'TRANSACTION_NOT_FOUND' } })),
      unknownId.map((id) => ({ what: 'unknown ticket', req: { method: 'GET', path: `/tickets/${id}`, headers: ALICE }, expect: { status: 404, code: 'TICKET_NOT_FOUND' } })),
      unknownId.chain((id) => fc.constantFrom(`/performances/${id}`, `/performances/${id}/tickets`)).map((path) => ({ what: 'unknown performance', req: { method: 'GET', path, headers: ADMIN }, expect: { status: 404, code: 'PERFORMANCE_NOT_FOUND' } })),
      unknownOrder.map((n) => ({ what: 'unknown order', req: { method: 'GET', path: `/orders/${n}`, headers: ADMIN }, expect: { status: 404, code: 'ORDER_NOT_FOUND' } })),
      fc.constant({ what: "another client's order", req: { method: 'GET', path: `/orders/${fx.order}`, headers: BOB }, expect: { status: 404, code: 'ORDER_NOT_FOUND' } }),
      unknownId.map((id) => ({ what: 'unknown person', req: { method: 'GET', path: `/people?email=${id}%40example.com`, headers: ADMIN }, expect: { status: 404, code: 'PERSON_NOT_FOUND' } })),
      unknownId.map((id) => ({ what: 'search an unknown performance', req: { method: 'GET', path: `/tickets?performance_id=${id}&quantity=1`, headers: ALICE }, expect: { status: [404, 409] } })),
      fc.tuple(unknownId, fc.boolean()).map(([id, best]) => ({
        what: 'hold on an unknown performance or ticket',
        req: { method: 'POST', path: '/transaction', headers: { ...ALICE, ...JSON_TYPE }, body: JSON.stringify(best ? { performance_id: id, quantity: 1 } : { tickets: [id] }) },
        expect: { status: [404, 409], code: best ? ['PERFORMANCE_NOT_FOUND', 'NOT_ENOUGH_TICKETS'] : 'TICKETS_NOT_FOUND' },
      })),
    );
    await fuzz(104, 100, arb);
  });

  describe('query strings', () => {
    /** Not a whole number written as 1-10 ASCII digits within [min, max]. */
    const badNumString = (min: number, max: number) =>
      fc
        .oneof(
          fc.constantFrom(
            '', ' ', '-1', '+1', '1.5', '1.0', '1e2', '0x10', '0b1', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '1,2', '1 ', ' 1',
            '\u0661', '\uff11', '\u00b2', '1_0', '12345678901', '99999999999999999999', '1e400', '-0', '0.5', '[1]', '{"a":1}',
            String(min - 1), String(max + 1), '00000000000', '1\u0000',
          ),
          fc.integer().map(String),
          fc.double().map(String),
          fc.string({ maxLength: 12 }),
        )
        .filter((s) => !(/^\d{1,10}$/.test(s) && Number(s) >= min && Number(s) <= max));
    const badAttr = fc.oneof(
      fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('|', '\u0000', '\n', '\u007f'), fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c),
      fc.string({ minLength: 65, maxLength: 100 }),
      fc.constant(''),
    );
    const noiseParams = fc.array(
      fc.tuple(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...'abcxyz_'), minLength: 1, maxLength: 8 }).map((s) => `x${s}`),
          fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__proto__[quantity]', 'constructor[prototype][quantity]', 'quantity[]', 'performance_id[0]', 'QUANTITY', 'email[]'),
        ),
        fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('1', '1000', 'available')),
      ),
      { maxLength: 3 },
    );
    type Pairs = [string, string][];
    /** A query mutation: it alone makes the query a 400. */
    type QMutation = { what: string; apply: (pairs: Pairs) => Pairs };
    const setParam = (key: string, values: fc.Arbitrary<string>) =>
      values.map((v): QMutation => ({ what: `${key}=${JSON.stringify(v)}`, apply: (p) => [...p.filter(([k]) => k !== key), [key, v]] }));
    const dropParam = (key: string) =>
      fc.constantFrom('', '[]', '[0]').map((suffix): QMutation => ({
        what: suffix ? `${key}${suffix} instead of ${key}` : `without ${key}`,
        apply: (p) => p.flatMap(([k, v]): Pairs => (k !== key ? [[k, v]] : suffix ? [[`${key}${suffix}`, v]] : [])),
      }));
    const repeatParam = (keys: readonly string[], values: fc.Arbitrary<string>) =>
      fc.tuple(fc.constantFrom(...keys), values, values).map(([key, a, b]): QMutation => ({
        what: `${key} repeated`,
        apply: (p) => [...p.filter(([k]) => k !== key), [key, a], [key, b]],
      }));

    const queryCases = (path: string, headers: Record<string, string>, base: fc.Arbitrary<Pairs>, mutations: fc.Arbitrary<QMutation>[]) =>
      fc
        .tuple(base, fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 3 }), noiseParams, fc.nat())
        .map(([pairs, muts, extra, rotate]): Case => {
          let p = pairs;
          for (const m of muts) p = m.apply(p);
          p = [...p, ...extra];
          const k = rotate % Math.max(1, p.length); // parameter order must not matter
          p = [...p.slice(k), ...p.slice(0, k)];
          const enc = (s: string) => (/^[A-Za-z0-9_[\]]*$/.test(s) ? s : encodeURIComponent(s));
          const qs = p.map(([k, v]) => `${enc(k)}=${encodeURIComponent(v)}`).join('&');
          return { what: muts.map((m) => m.what).join('; '), req: { method: 'GET', path: `${path}?${qs}`, headers }, expect: { status: 400, code: 'INVALID_REQUEST' } };
        });

    test('GET /tickets (search): missing, repeated, non-numeric and out-of-range parameters, bad ids -> 400', async () => {
      const base = fc
        .record({ section: fc.boolean(), max_price: fc.boolean() })
        .map(({ section, max_price }): Pairs => [
          ['performance_id', fx.P],
          ['quantity', '1'],
          ...(section ? ([['section', 'ORCH']] as Pairs) : []),
          ...(max_price ? ([['max_price', '100000']] as Pairs) : []),
        ]);
      const anyValue = fc.oneof(fc.constantFrom('1', '2', fx.P, 'ORCH'), fc.string({ maxLength: 6 }));
      const arb = queryCases('/tickets', ALICE, base, [
        dropParam('performance_id'),
        dropParam('quantity'),
        setParam('quantity', badNumString(1, 1000)),
        setParam('max_price', badNumString(0, MAX_PRICE)),
        setParam('performance_id', badId(fx.t)),
        setParam('section', badAttr),
        setParam('price_level', badAttr),
        repeatParam(['performance_id', 'quantity', 'section', 'price_level', 'max_price'], anyValue),
      ]);
      await fuzz(105, 200, arb);
    });

    test('GET /performances/{id}/tickets: unknown state values, bad limits and cursors, repeats -> 400', async () => {
      const base = fc
        .record({ state: fc.option(fc.constantFrom('available', 'locked', 'sold')), limit: fc.option(fc.constantFrom('1', '5', '1000')) })
        .map(({ state, limit }): Pairs => [...(state ? ([['state', state]] as Pairs) : []), ...(limit ? ([['limit', limit]] as Pairs) : [])]);
      const badState = fc
        .oneof(fc.constantFrom('AVAILABLE', 'Available', 'available ', ' locked', 'free', 'all', '', 'sold,locked', 'locked|sold', '*', 'available\u0000', '\u0430vailable'), fc.string({ maxLength: 10 }))
        .filter((s) => !['available', 'locked', 'sold'].includes(s));
      const badCursor = fc
        .oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 65, max: 100 }).map((n) => '1'.repeat(n)), fc.constantFrom('-1', '1e3', 'abc', '1 2', '%'))
        .filter((s) => !(/^[0-9.]*$/.test(s) && s.length <= 64));
      const arb = queryCases(`/performances/${fx.P}/tickets`, ADMIN, base, [
        setParam('state', badState),
        setParam('limit', badNumString(1, 1000)),
        setParam('cursor', badCursor),
        repeatParam(['state', 'limit', 'cursor'], fc.constantFrom('available', 'locked', '1', '5', '')),
      ]);
      await fuzz(106, 100, arb);
    });

    test('GET /people: missing, repeated or malformed email -> 400', async () => {
      const base = fc.constant<Pairs>([['email', fx.email]]);
      const arb = queryCases('/people', ADMIN, base, [
        dropParam('email'),
        setParam('email', badEmailString),
        repeatParam(['email'], fc.constantFrom(fx.email, 'ann@example.com')),
      ]);
      await fuzz(107, 80, arb);
    });
  });

  describe('JSON bodies', () => {
    const badIdValue = (ids: readonly string[]): fc.Arbitrary<unknown> => fc.oneof(badId(ids), fc.constantFrom<unknown>('', null, 7, true, [], {}, ['x']));
    /** A tickets member the schema rejects: not an array, an array with a bad element, more than 1,000 ids. */
    const badTicketsValue = (ids: readonly string[]): fc.Arbitrary<unknown> =>
      fc.oneof(
        fc.constantFrom<unknown>(tk(6), null, 1, true, {}, { 0: tk(6) }, `${tk(6)},${tk(4)}`),
        fc.tuple(fc.subarray([tk(6), tk(4)]), fc.oneof(badIdValue(ids), fc.constant([tk(6)]), fc.constant({ id: tk(6) })), fc.nat()).map(([good, bad, at]) => {
          const out: unknown[] = [...good];
          out.splice(at % (out.length + 1), 0, bad);
          return out;
        }),
        fc.constant(Array.from({ length: 1001 }, (_, i) => `fz-${i}`)),
      );

    test('POST /transaction(s): wrong types, strings for numbers, floats, 1e400, bad ids, missing or conflicting members -> 4xx', async () => {
      const ids = fx.t;
      const badBuyer: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('joe', null, 1, [], [{ id: 'b1' }]),
        badIdValue(ids).map((id) => ({ id })),
        badEmail.map((email) => ({ email })),
      );
      const schema = (base: 'tickets' | 'best'): fc.Arbitrary<Mutation>[] => [
        badTicketsValue(ids).map((v) => set('tickets', v)),
        badIdValue(ids).map((v) => set('performance_id', v)),
        badNumber(1, 1000).map((v) => set('quantity', v)),
        badNumber(1, 900).map((v) => set('hold_seconds', v)), // above the configured maximum (900) is the domain's 400
        fc.tuple(fc.constantFrom('section', 'price_level'), badAttribute(false)).map(([k, v]) => set(k, v)),
        badNumber(0, MAX_PRICE).map((v) => set('max_price', v)),
        badBuyer.map((v) => set('buyer', v)),
        fc.constant<Mutation>({ what: 'tickets and performance_id+quantity', stage: 1, bad400: true, apply: (b) => Object.assign(b, { tickets: [tk(6)], performance_id: fx.P, quantity: 1 }) }),
        fc.oneof(badNumber(1, 1000).map((v) => duplicateKey('quantity', v)), badTicketsValue(ids).map((v) => duplicateKey('tickets', v))),
        base === 'tickets'
          ? removeRequired(['tickets', 'quantity'], { tickets: [tk(6)] })
          : removeRequired(['quantity', 'tickets'], { quantity: 1, tickets: [tk(6)] }),
      ];
      const domainTickets = fc.constantFrom<[unknown, boolean]>(
        [[], true],
        [[tk(6), tk(6)], true],
        [[tk(4), fx.q[0]], true], // two performances
        [['fz-no-such-ticket'], false],
        [[tk(0)], false], // locked by alice's open transaction
        [[tk(0), tk(1)], false],
        [[tk(3)], false], // sold
        [[tk(5)], false], // bob's
        [[tk(6), tk(2)], false],
      ).map(([v, bad400]) => set('tickets', v, bad400, 0));
      const domainBest = fc.constantFrom<[string, unknown]>(
        ['quantity', 3], // two are available
        ['performance_id', 'fz-no-such-performance'],
        ['section', 'NOSUCH'],
        ['price_level', 'NOSUCH'],
        ['max_price', 1],
      ).map(([k, v]) => set(k, v, false, 0));
      const base = fc.record({
        form: fc.constantFrom('tickets', 'best') as fc.Arbitrary<'tickets' | 'best'>,
        hold_seconds: fc.option(fc.integer({ min: 30, max: 900 })),
        buyer: fc.option(fc.constantFrom({ id: 'buyer-1' }, { email: 'buyer@example.com' })),
      });
      const helpful = [{ tickets: [tk(6)] }, { performance_id: fx.P, quantity: 1 }, { quantity: 1 }, { hold_seconds: 60 }];
      const arb = fc
        .tuple(base, fc.constantFrom('/transaction', '/transactions'), fc.constantFrom(ALICE, BOB, ADMIN), noise(helpful))
        .chain(([b, path, key, n]) =>
          mutationsOf([...schema(b.form), b.form === 'tickets' ? domainTickets : domainBest]).map((muts): Case => {
            const body: Record<string, unknown> = b.form === 'tickets' ? { tickets: [tk(6)] } : { performance_id: fx.P, quantity: 1 };
            if (b.hold_seconds !== null) body.hold_seconds = b.hold_seconds;
            if (b.buyer !== null) body.buyer = b.buyer;
            const bc = bodyCase(body, muts, n);
            return { what: bc.what, req: { method: 'POST', path, headers: { ...key, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          }),
        );
      await fuzz(108, 300, arb);
    });

    test('PUT/POST /transaction(s)/{id}: bad status, id, tickets, customer, payment_reference -> 4xx, the transaction unchanged', async () => {
      const ids = fx.t;
      const all = [...fx.t, ...fx.q];
      const targets: [string, Record<string, string>][] = [
        [fx.open, ALICE],
        [fx.checkout, ALICE],
        [fx.done, ALICE],
        [fx.released, ALICE],
        [fx.bobs, BOB],
        [fx.open, ADMIN],
      ];
      const badStatus = fc
        .oneof(fc.constantFrom<unknown>('CHECKOUT', 'Complete', 'open', 'released', 'expired', 'cancel', '', ' checkout', 'checkout ', null, 1, true, ['checkout'], { status: 'checkout' }), fc.string({ maxLength: 10 }))
        .filter((s) => s !== 'checkout' && s !== 'complete');
      const badCustomer: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('joe@example.com', null, 1, [], [{ email: 'joe@example.com' }], {}, { first_name: 'Joe' }),
        badEmail.map((email) => ({ email })),
        fc.constantFrom('first_name', 'last_name', 'phone').chain((k) => badText(k === 'phone' ? 40 : 100).map((v) => ({ email: 'joe@example.com', [k]: v }))),
      );
      const arb = fc
        .tuple(
          fc.constantFrom(...targets),
          fc.constantFrom('PUT /transaction', 'POST /transaction', 'PUT /transactions', 'POST /transactions'),
          fc.record({
            status: fc.constantFrom('checkout', 'complete'),
            withId: fc.boolean(),
            withTickets: fc.boolean(),
            customer: fc.option(fc.constantFrom({ email: 'ann@example.com' }, { email: 'Ann@Example.com', first_name: 'Ann', last_name: 'Lee', phone: '+1 555' })),
            payment_reference: fc.option(fc.constantFrom('pay-2', 'ref 3')),
          }),
          noise([{ status: 'complete' }, { status: 'checkout' }, { customer: { email: 'x@example.com' } }]),
        )
        .chain(([[tx, key], route, b, n]) => {
          const mine = txTickets()[tx] as string[];
          const mutations: fc.Arbitrary<Mutation>[] = [
            badStatus.map((v) => set('status', v)),
            removeRequired(['status'], { status: 'checkout' }),
            fc
              .oneof(
                fc.uuid(),
                fc.constantFrom<unknown>(tx.toUpperCase(), ` ${tx}`, `${tx} `, fx.open, fx.bobs, fx.done, 'x'.repeat(129), null, 1, [], {}, [tx], { id: tx }),
                fc.string({ maxLength: 40 }),
              )
              .filter((v) => v !== tx)
              .map((v) => set('id', v)),
            badTicketsValue(ids).map((v) => set('tickets', v)),
            fc.constantFrom<unknown>([], [...mine, ...mine]).map((v) => set('tickets', v)),
            fc
              .shuffledSubarray(all, { minLength: 1, maxLength: 4 })
              .filter((v) => !(v.length === mine.length && mine.every((id) => v.includes(id))))
              .map((v) => set('tickets', v, false, 0)),
            badCustomer.map((v) => set('customer', v)),
            badText(200).map((v) => set('payment_reference', v)),
            badStatus.map((v) => duplicateKey('status', v)),
          ];
          return mutationsOf(mutations).map((muts): Case => {
            const body: Record<string, unknown> = { status: b.status };
            if (b.withId) body.id = tx;
            if (b.withTickets) body.tickets = [...mine];
            if (b.customer) body.customer = b.customer;
            if (b.payment_reference) body.payment_reference = b.payment_reference;
            const bc = bodyCase(body, muts, n);
            const [method, base] = route.split(' ') as [string, string];
            return { what: bc.what, req: { method, path: `${base}/${tx}`, headers: { ...key, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          });
        });
      await fuzz(109, 250, arb);
    });

    test('PUT /performances/{id}: bad tickets, attributes, prices, seats, settings, duplicates, foreign ids -> 4xx', async () => {
      const ids = fx.t;
      const badSeat: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>(null, true, [], {}, [1], RAW('1.5'), RAW('1e400'), RAW('-1e400'), -1, 1e9 + 1, 2 ** 53),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
        badAttribute(true).filter((v) => typeof v === 'string'),
      );
      const badDate: fc.Arbitrary<unknown> = fc.oneof(
        fc.constantFrom<unknown>('', 'tomorrow', '2026-12-04', '2026-13-01T00:00:00Z', '2026-12-04T25:00:00Z', '2026-12-04T19:30:00', '04/12/2026 19:30', 1733340600000, null, true, [], {}),
        fc.string({ maxLength: 20 }).filter((s) => !/^\d{4}-/.test(s)),
      );
      /** Corrupts one member of the first ticket (re-making tickets an array of tickets if a mutation replaced it). */
      const ticketMember = fc.oneof(
        badIdValue(ids).map((v) => ['id', v] as const),
        fc.constant(['id', undefined] as const),
        fc.tuple(fc.constantFrom('section', 'row', 'price_level'), badAttribute(true)),
        badSeat.map((v) => ['seat', v] as const),
        badNumber(0, MAX_PRICE).map((v) => ['price', v] as const),
      ).map(([k, v]): Mutation => ({
        what: `tickets[0].${k}=${v === undefined ? '(none)' : show(v)}`,
        stage: 1,
        bad400: true,
        apply: (b) => {
          const first = Array.isArray(b.tickets) && typeof b.tickets[0] === 'object' && b.tickets[0] !== null ? (b.tickets[0] as Record<string, unknown>) : { id: 'fz-t-1' };
          if (v === undefined) delete first[k];
          else first[k] = v;
          b.tickets = [first, ...(Array.isArray(b.tickets) ? b.tickets.slice(1) : [])];
        },
      }));
      const arb = fc
        .tuple(fc.constantFrom('existing', 'new'), fc.nat({ max: 9999 }), noise([{ tickets: [{ id: 'fz-proto-1' }] }, { name: 'Hacked', hold_seconds: 1 }]))
        .chain(([which, nonce, n]) => {
          const perf = which === 'existing' ? fx.P : `fz-new-${nonce}`;
          const own1 = which === 'existing' ? tk(6) : `${perf}-1`;
          const foreign = which === 'existing' ? (fx.q[0] as string) : tk(6);
          const mutations: fc.Arbitrary<Mutation>[] = [
            removeRequired(['tickets'], { tickets: [{ id: own1 }] }),
            fc.constantFrom<unknown>(null, 1, 'x', {}, { id: own1 }, [own1], [null], [[{ id: own1 }]]).map((v) => set('tickets', v)),
            ticketMember,
            badText(200).map((v) => set('name', v)),
            badDate.map((v) => set('starts_at', v)),
            badNumber(1, 900).map((v) => set('hold_seconds', v)),
            badNumber(1, 1000).map((v) => set('max_tickets_per_transaction', v)),
            fc.constant(set('tickets', [{ id: own1 }, { id: own1, price: 1 }])), // duplicate ids: 400
            fc.constant(set('tickets', [{ id: own1 }, { id: foreign }], false, 0)), // a ticket of another performance: 409
            badNumber(1, 1000).map((v) => duplicateKey('max_tickets_per_transaction', v)),
          ];
          return mutationsOf(mutations).map((muts): Case => {
            const body = { name: 'Fuzz show', starts_at: '2030-12-04T19:30:00.000Z', tickets: [{ id: own1, section: 'ORCH', row: 'A', seat: 7, price: 5000 }] };
            const bc = bodyCase(body, muts, n);
            return { what: `${which}: ${bc.what}`, req: { method: 'PUT', path: `/performances/${perf}`, headers: { ...ADMIN, ...JSON_TYPE }, body: bc.text }, expect: bodyExpect(bc.bad400) };
          });
        });
      await fuzz(110, 200, arb);
    });
  });

  describe('content types, encodings and raw bytes', () => {
    test('wrong content types -> 415, non-JSON text -> 400, other charsets and encodings -> 415 or 400', async () => {
      const wrongType = fc
        .oneof(
          fc.constantFrom(
            'text/plain', 'text/json', 'text/html; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
            'application/xml', 'application/javascript', 'application/octet-stream', 'application/jsonp', 'application/json-patch+json',
            'application/merge-patch+json', 'application/ld+json', 'application/vnd.api+json', 'application/jsonx', 'x-application/json',
            '*/*', 'application/*', 'json', 'application', 'foo', '',
          ),
          printable(30).filter((s) => !/json/i.test(s)),
        )
        .map((type) => ({ type: type as string | undefined }));
      const noType = fc.constant({ type: undefined as string | undefined });
      const nonJson = fc.oneof(
        fc.constantFrom(
          '{', '{"tickets": [', "{'tickets':['x']}", '{tickets:["x"]}', 'NaN', 'Infinity', '{"a":NaN}', '{"a":1,}', '[1,]', '// c\n{}',
          '{"a":1} x', '{"a":1}{"b":2}', '42', '"tickets"', 'null', 'true', '{"a":"\\x41"}', '{"a":01}', '{"a":.5}', '{"a":+1}',
          '{"status":"checkout"', 'undefined', '<json/>', '{"a":1e}', '\u0000{}',
        ),
        fc.string({ maxLength: 40 }).filter((s) => {
          try {
            JSON.parse(s.replace(/^\ufeff/, ''));
            return s.trim() === ''; // whitespace only: not JSON either
          } catch {
            return true;
          }
        }),
      );
      const arb: fc.Arbitrary<Case> = fc.constantFrom(...bodyTargets()).chain((tgt) =>
        fc.oneof(
          fc.tuple(fc.oneof(wrongType, noType), fc.boolean()).map(([{ type }, chunked]): Case => ({
            what: `Content-Type ${JSON.stringify(type)}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...(type === undefined ? {} : { 'Content-Type': type }) }, body: JSON.stringify(tgt.body), chunked },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.constantFrom('latin1', 'iso-8859-1', 'ascii', 'us-ascii', 'windows-1252', 'koi8-r', 'foo', 'binary', 'utf-7', 'UTF-7', 'utf-16', 'utf-16le', 'utf-32', 'utf8', '"utf-7"', 'utf-8; charset=utf-7').map((charset): Case => ({
            what: `charset ${charset}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, 'Content-Type': `application/json; charset=${charset}` }, body: JSON.stringify(tgt.body) },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.tuple(nonJson, fc.boolean()).map(([text, chunked]): Case => ({
            what: 'not JSON',
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: text, chunked },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          })),
          fc.constant<Case>({
            what: 'empty body',
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: '' },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          }),
          fc.tuple(fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80]), fc.boolean()).map(([bytes, inId]): Case => {
            // invalid UTF-8 inside a string where only an id or a status may stand
            const [field, close] = tgt.path.startsWith('/performances')
              ? ['{"tickets":[{"id":"A', '"}]}']
              : 'status' in tgt.body
                ? ['{"status":"check', '"}']
                : ['{"tickets":["A', '"]}'];
            const raw = Buffer.concat([Buffer.from(inId ? field : '{"'), Buffer.from(bytes), Buffer.from(inId ? close : '":1}')]);
            return {
              what: `invalid UTF-8 ${bytes.join(',')}`,
              req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: raw },
              expect: { status: 400, code: 'INVALID_REQUEST' },
            };
          }),
          fc.constantFrom('foo', 'compress', 'x-gzip', 'gzip, deflate', 'identity, gzip', 'zip').map((encoding): Case => ({
            what: `Content-Encoding ${encoding}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': encoding }, body: JSON.stringify(tgt.body) },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.tuple(fc.constantFrom('gzip', 'deflate', 'br'), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([encoding, bytes]): Case => ({
            what: `Content-Encoding ${encoding} over bytes that are not ${encoding}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': encoding }, body: Buffer.concat([Buffer.from('{"'), Buffer.from(bytes)]) },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          })),
        ),
      );
      await fuzz(111, 200, arb);
    });

    test('over-size bodies -> 413 (transaction routes over 64 KiB, inventory over 8 MiB; gzip that inflates past it too)', async () => {
      const LIMIT = 64 * 1024;
      const padded = (body: Record<string, unknown>, size: number) => {
        const text = JSON.stringify({ ...body, pad: '' });
        return `${text.slice(0, -2)}${'x'.repeat(Math.max(0, size - text.length))}"}`;
      };
      const targets = bodyTargets().filter((x) => !x.path.startsWith('/performances'));
      const arb = fc
        .tuple(fc.constantFrom(...targets), fc.integer({ min: LIMIT + 1, max: 4 * LIMIT }), fc.boolean(), fc.constantFrom('json', 'json', 'gzip', 'no-key', 'text'))
        .map(([tgt, size, chunked, variant]): Case => {
          const text = padded(tgt.body, size);
          const base = { method: tgt.method, path: tgt.path, chunked };
          switch (variant) {
            case 'gzip':
              return { what: `gzip inflating to ${size} bytes`, req: { ...base, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': 'gzip' }, body: zlib.gzipSync(text) }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } };
            case 'no-key':
              return { what: `${size} bytes without a key`, req: { ...base, headers: JSON_TYPE, body: text }, expect: { status: 401, code: 'UNAUTHENTICATED' } };
            case 'text':
              return { what: `${size} bytes of text/plain`, req: { ...base, headers: { ...tgt.key, 'Content-Type': 'text/plain' }, body: text }, expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' } };
            default:
              return { what: `${size} bytes of JSON`, req: { ...base, headers: { ...tgt.key, ...JSON_TYPE }, body: text }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } };
          }
        });
      await fuzz(112, 12, arb);

      // the inventory route: over 8 MiB, and over 50,000 tickets in a body it does accept
      const big = padded({ tickets: [{ id: tk(6), price: 1 }] }, 8 * 1024 * 1024 + 1);
      const many = JSON.stringify({ tickets: Array.from({ length: 50_001 }, (_, i) => ({ id: `fz-many-${i}` })) });
      await fixedCases([
        { what: 'inventory over 8 MiB', req: { method: 'PUT', path: `/performances/${fx.P}`, headers: { ...ADMIN, ...JSON_TYPE }, body: big }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } },
        { what: 'inventory of 50,001 tickets', req: { method: 'PUT', path: '/performances/fz-many', headers: { ...ADMIN, ...JSON_TYPE }, body: many }, expect: { status: 400, code: 'INVALID_REQUEST' } },
      ]);
    });
  });

  test('methods a path does not have -> 404 NOT_FOUND in the error shape', async () => {
    const paths: [string, string[]][] = [
      [`/performances/${fx.P}`, ['GET', 'PUT']],
      [`/performances/${fx.P}/tickets`, ['GET']],
      [`/tickets?performance_id=${fx.P}&quantity=1`, ['GET']],
      [`/tickets/${tk(0)}`, ['GET']],
      ['/transaction', ['POST']],
      ['/transactions', ['POST']],
      [`/transaction/${fx.open}`, ['GET', 'PUT', 'POST', 'DELETE']],
      [`/transactions/${fx.open}`, ['GET', 'PUT', 'POST', 'DELETE']],
      [`/orders/${fx.order}`, ['GET']],
      [`/people?email=${encodeURIComponent(fx.email)}`, ['GET']],
    ];
    // OPTIONS is left out (Express answers it with Allow), CONNECT is not a request, HEAD follows GET
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'PURGE', 'SEARCH', 'REPORT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LINK', 'UNLINK', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'MKACTIVITY', 'CHECKOUT', 'MKCALENDAR', 'TRACE'].filter((m) => http.METHODS.includes(m));
    const arb = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom(...methods), fc.constantFrom(ALICE, ADMIN))
      .filter(([[, allowed], method]) => !allowed.includes(method) && !(method === 'HEAD' && allowed.includes('GET')))
      .map(([[path], method, key]): Case => ({
        what: `${method} ${path}`,
        req: { method, path, headers: { ...key, ...JSON_TYPE }, body: method === 'TRACE' ? undefined : JSON.stringify({ status: 'complete', tickets: [tk(6)] }) },
        expect: { status: 404, code: 'NOT_FOUND' },
      }));
    await fuzz(114, 80, arb);
  });

  test('a bad Idempotency-Key -> 400 before anything is held or remembered', async () => {
    const visible = fc.constantFrom(...'abcXYZ0189-_.:!~'.split(''));
    const badKey = fc.oneof(
      fc.constantFrom('', ' ', 'a b', 'key\twith-tab', 'caf\u00e9', '\u00ff\u00fe'),
      fc.string({ unit: visible, minLength: 256, maxLength: 400 }),
      fc.tuple(fc.string({ unit: visible, minLength: 1, maxLength: 10 }), fc.string({ unit: visible, minLength: 1, maxLength: 10 })).map(([a, b]) => `${a} ${b}`),
    );
    const targets = bodyTargets().filter((x) => !x.path.startsWith('/performances'));
    const arb = fc.tuple(fc.constantFrom(...targets), badKey, requestIdHeader).map(([tgt, key, rid]): Case => ({
      what: `Idempotency-Key ${JSON.stringify(key)}`,
      req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, ...rid, 'Idempotency-Key': key }, body: JSON.stringify(tgt.body) },
      expect: { status: 400, code: 'INVALID_REQUEST', issue: 'Idempotency-Key' },
    }));
    await fuzz(115, 40, arb);
  });

  // ------------------------------------------------------------ valid bodies with prototype keys (differential)

  test('__proto__ / constructor / prototype members have no effect: a valid body behaves exactly as without them', async () => {
    const r = await createPerformance(t, { rows: 1, seats: 4 });
    const [r1, r2, r3, r4] = r.ticketIds as [string, string, string, string];
    const payload = fc.record(
      {
        quantity: fc.constantFrom<unknown>(1000, 3, '2', -1),
        tickets: fc.constantFrom<unknown>([r4], [r3, r4], 'x y'),
        hold_seconds: fc.constantFrom<unknown>(1, 899, 1e9),
        performance_id: fc.constantFrom<unknown>('x y', fx.P),
        status: fc.constantFrom('complete', 'released'),
        name: fc.constant('Hacked'),
        price: fc.constantFrom(1, -1),
        max_tickets_per_transaction: fc.constant(1),
      },
      { requiredKeys: [] },
    );
    const where = fc.constantFrom('__proto__', 'constructor', 'prototype', 'nested');
    const kind = fc.constantFrom('hold tickets', 'hold best', 'checkout', 'inventory');

    const api = (method: string, path: string, body?: unknown, key = ALICE) =>
      send({ method, path, headers: { ...key, ...(body === undefined ? {} : JSON_TYPE) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const withProto = (body: Record<string, unknown>, w: string, p: Record<string, unknown>) => {
      const out = structuredClone(body);
      if (w === 'constructor') own(out, 'constructor', { prototype: p });
      else if (w === 'nested') {
        const inner = Array.isArray(out.tickets) && typeof out.tickets[0] === 'object' ? (out.tickets[0] as Record<string, unknown>) : out;
        own(inner, '__proto__', p);
      } else own(out, w, p);
      return jsonText(out);
    };
    /** What must be equal between the two answers: everything but ids and times. */
    const normal = (res: Reply) => {
      const body = JSON.parse(res.text) as Record<string, unknown>;
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(strip)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).filter(([k]) => !/^(transaction_id|lock_expires|created_at|updated_at)$/.test(k)).map(([k, x]) => [k, strip(x)]))
            : v;
      const holdMs = typeof body.lock_expires === 'string' ? Date.parse(body.lock_expires) - Date.now() : undefined;
      return { status: res.status, body: strip(body), holdSeconds: holdMs === undefined ? undefined : Math.round(holdMs / 5000) * 5 };
    };

    await fc.assert(
      fc.asyncProperty(kind, where, payload, async (k, w, p) => {
        const outcomes = [];
        for (const polluted of [true, false]) {
          const text = (body: Record<string, unknown>) => (polluted ? withProto(body, w, p) : JSON.stringify(body));
          if (k === 'inventory') {
            const res = await api('PUT', `/performances/${r.id}`, text({ tickets: [{ id: r4, section: 'ORCH', row: 'A', seat: 4, price: 5000 }] }), ADMIN);
            const after = await api('GET', `/performances/${r.id}`, undefined, ADMIN);
            const ticket = await api('GET', `/tickets/${r4}`, undefined, ADMIN);
            outcomes.push({ res: normal(res), after: normal(after), ticket: normal(ticket) });
          } else if (k === 'checkout') {
            const held = await api('POST', '/transaction', { tickets: [r1, r2] });
            const txid = JSON.parse(held.text).transaction_id as string;
            const res = await api('PUT', `/transaction/${txid}`, text({ status: 'checkout' }));
            outcomes.push({ res: normal(res) });
            expect((await api('DELETE', `/transaction/${txid}`)).status).toBe(200);
          } else {
            const body = k === 'hold tickets' ? { tickets: [r1, r2] } : { performance_id: r.id, quantity: 2 };
            const res = await api('POST', '/transaction', text(body));
            outcomes.push({ res: normal(res) });
            if (res.status === 201) expect((await api('DELETE', `/transaction/${JSON.parse(res.text).transaction_id}`)).status).toBe(200);
          }
        }
        expect(outcomes[0]).toEqual(outcomes[1]);
        expect([200, 201]).toContain(outcomes[1]?.res.status);
      }),
      { seed: 116, numRuns: 24 },
    );
    expect(await countsOf(t, r.id)).toEqual({ total: 4, available: 4, locked: 0, sold: 0 });
    const perf = await request(t.app).get(`/performances/${r.id}`).set(as(KEYS.admin));
    expect(perf.body.performance).toMatchObject({ name: 'Test show' });
    expect(perf.body.performance.hold_seconds).toBeUndefined();
    expect(perf.body.performance.max_tickets_per_transaction).toBeUndefined();
    for (const probe of POLLUTION_PROBES) expect(({} as Record<string, unknown>)[probe]).toBeUndefined();
  });

  test('non-vacuity: the read-only endpoints used above answer 200 with the right key', async () => {
    for (const e of validEndpoints().filter((x) => x.method === 'GET' || x.method === 'HEAD')) {
      const res = await send({ method: e.method, path: e.path, headers: e.admin ? ADMIN : ALICE });
      expect({ path: e.path, status: res.status }).toEqual({ path: e.path, status: 200 });
    }
  });
});
