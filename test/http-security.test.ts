// HTTP hardening, on the service as production wires it (src/service.ts, a real HTTP server on loopback):
// API keys never reach the logs or an answer (API.md "Authentication and roles"), the recorded client IP follows
// TRUST_PROXY (hop counts and address lists; test/http-isolation.test.ts covers unset and `true`), security
// headers on every answer, and CORS: off by default, exact origins when CORS_ORIGINS lists them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { connectRedis } from '../src/redis/connection';
import { performanceCodeKey, performanceKeys } from '../src/redis/keys';
import { mintTransactionId } from '../src/domain/transaction-id';
import { startService, type RunningService } from '../src/service';
import { as, BASE_ENV, KEYS, testRedisUrl, uniqueId } from './support/app';
import { capturePrinted } from './support/printed';
import { startFaultyRedis, type FaultyRedis } from './support/redis-fault';
import { waitFor } from './support/spawn';

interface Api {
  base: string;
  http(): ReturnType<typeof request>;
  /** every log line written so far */
  logs: string[];
  service: RunningService;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-http-security-'));
const services: RunningService[] = [];
const redisServers: FaultyRedis[] = [];
let probe: Redis;

/** Starts the API (no writer) on a free loopback port with BASE_ENV + env, logging into a captured list. */
async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const config = loadConfig({
    ...BASE_ENV,
    REDIS_URL: testRedisUrl(),
    HOST: '127.0.0.1',
    PORT: '0',
    DOCUMENT_STORE_URL: 'sqlite::memory:',
    DATA_DIR: dataDir,
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const service = await startService(config, createLogger(config.logging.level, sink), { api: true, writer: false });
  services.push(service);
  const base = `http://127.0.0.1:${service.port}`;
  return { base, http: () => request(base), logs, service };
}

async function stopApi(api: Api) {
  services.splice(services.indexOf(api.service), 1);
  await api.service.stop();
}

/** A performance of `n` tickets `<id>-A1..An` through the API. */
async function createPerformance(api: Api, n = 4, key = KEYS.admin) {
  const id = uniqueId('sec');
  const tickets = Array.from({ length: n }, (_, i) => ({ id: `${id}-A${i + 1}`, section: 'ORCH', row: 'A', seat: i + 1, price: 5000 }));
  const res = await api.http().put(`/performances/${id}`).set(as(key)).send({ name: 'Security show', tickets });
  if (res.status !== 200) throw new Error(`createPerformance: ${res.status} ${res.text.slice(0, 500)}`);
  return { id, ticketIds: tickets.map((t) => t.id) };
}

/** Restarts a killed private Redis and waits until the service answers /readyz 200 again. */
async function backAgain(faulty: FaultyRedis, api: Api) {
  await faulty.restart();
  await waitFor('/readyz 200 after the restart', async () => (await api.http().get('/readyz')).status === 200, { timeoutMs: 10_000 });
}

beforeAll(async () => {
  probe = await connectRedis(testRedisUrl(), { commandTimeoutMs: 5000 });
});

afterAll(async () => {
  for (const s of services.splice(0)) await s.stop().catch(() => undefined);
  for (const r of redisServers.splice(0)) await r.stop();
  await probe?.quit();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

// ---------------------------------------------------------------------------------------------------------------

describe('API keys never in logs or answers', () => {
  const PRESENTED = ['presented-bad-key-4242', 'guessed-secret-key-777', 'query-only-key-31337'];
  const SECRETS = [KEYS.alice, KEYS.bob, KEYS.admin, ...PRESENTED];

  test('valid and invalid keys in every header and in the query string, 2xx/4xx/5xx answers: no key in any log line or answer', async () => {
    const printed = capturePrinted();
    const faulty = await startFaultyRedis('tixlock-http-security-');
    redisServers.push(faulty);
    const api = await startApi({ REDIS_URL: faulty.url, LOG_LEVEL: 'silly', REDIS_COMMAND_TIMEOUT_MS: '300' });
    const answers: request.Response[] = [];
    const send = async (t: request.Test) => {
      const res = await t;
      answers.push(res);
      return res;
    };
    try {
      const perf = await createPerformance(api);
      const search = `/tickets?performance_id=${perf.id}&quantity=1`;
      const forms = (key: string) => [
        { Authorization: `Bearer ${key}` },
        { 'X-API-Key': key },
        { 'X-ATHENA-Key': key },
      ];

      // 200: every valid key in every header form, also with keys in the query string (which are not a way in)
      for (const key of [KEYS.alice, KEYS.bob, KEYS.admin]) {
        for (const header of forms(key)) expect((await send(api.http().get(search).set(header))).status).toBe(200);
        const withQuery = `${search}&api_key=${key}&key=${PRESENTED[2]}&access_token=${key}&token=${key}`;
        expect((await send(api.http().get(withQuery).set(as(key)))).status).toBe(200);
      }
      // 201, 200, 404, 409: a transaction's life
      const hold = await send(api.http().post('/transaction').set('X-API-Key', KEYS.alice).send({ tickets: [perf.ticketIds[0]] }));
      expect(hold.status).toBe(201);
      const txid = hold.body.transaction_id as string;
      expect((await send(api.http().get(`/transaction/${txid}`).set('X-ATHENA-Key', KEYS.bob))).status).toBe(404);
      expect((await send(api.http().post('/transaction').set(as(KEYS.bob)).send({ tickets: [perf.ticketIds[0]] }))).status).toBe(409);
      expect((await send(api.http().put(`/transaction/${txid}?api_key=${KEYS.alice}`).set(as(KEYS.alice)).send({ status: 'complete' }))).status).toBe(200);

      // 401: invalid keys in every header form, malformed Authorization, keys only in the query string
      for (const bad of PRESENTED.slice(0, 2)) {
        for (const header of forms(bad)) expect((await send(api.http().get(search).set(header))).status).toBe(401);
      }
      for (const value of [`Basic ${KEYS.alice}`, `Token ${KEYS.bob}`, KEYS.admin, `Bearer ${KEYS.alice} ${PRESENTED[0]}`]) {
        expect((await send(api.http().get(search).set('Authorization', value))).status).toBe(401);
      }
      for (const q of ['api_key', 'key', 'access_token', 'token', 'apikey']) {
        expect((await send(api.http().get(`${search}&${q}=${KEYS.alice}`))).status).toBe(401);
        expect((await send(api.http().get(`${search}&${q}=${PRESENTED[2]}`))).status).toBe(401);
      }
      expect((await send(api.http().get(`/no/such/route?api_key=${KEYS.admin}`).set('X-API-Key', PRESENTED[1] as string))).status).toBe(401);
      // 403, 404, 400, 413, 415
      expect((await send(api.http().get(`/performances/${perf.id}?key=${KEYS.bob}`).set(as(KEYS.bob)))).status).toBe(403);
      expect((await send(api.http().get(`/no/such/route?token=${KEYS.alice}`).set(as(KEYS.alice)))).status).toBe(404);
      expect((await send(api.http().post(`/transaction?api_key=${KEYS.alice}`).set(as(KEYS.alice)).send({}))).status).toBe(400);
      expect(
        (await send(api.http().post('/transaction').set(as(KEYS.alice)).set('Content-Type', 'application/json').send('{"tickets": [')))
          .status,
      ).toBe(400);
      expect(
        (await send(api.http().post('/transaction').set(as(KEYS.alice)).send({ tickets: ['x'], pad: 'y'.repeat(100_000) }))).status,
      ).toBe(413);
      expect(
        (await send(api.http().post('/transaction').set(as(KEYS.alice)).set('Content-Type', 'text/plain').send(KEYS.alice))).status,
      ).toBe(415);

      // 500: a Redis reply the service does not expect (a wrong-type key where a performance code's entry should be)
      const brokenCode = 0xfffffff0 - Math.floor(Math.random() * 1000);
      const broken = mintTransactionId(brokenCode);
      const direct = await connectRedis(faulty.url, { commandTimeoutMs: 5000 });
      try {
        await direct.hset(performanceCodeKey(brokenCode), 'not', 'a string');
      } finally {
        await direct.quit();
      }
      const internal = await send(api.http().get(`/transaction/${broken}?api_key=${KEYS.alice}`).set(as(KEYS.alice)));
      expect({ status: internal.status, code: internal.body?.error?.code }).toEqual({ status: 500, code: 'INTERNAL' });

      // 503: Redis gone (a bad key is still a 401: keys are checked without Redis)
      await faulty.kill();
      for (const header of forms(KEYS.alice)) {
        expect((await send(api.http().get(`${search}&api_key=${KEYS.bob}`).set(header))).status).toBe(503);
      }
      for (const header of forms(PRESENTED[0] as string)) {
        expect((await send(api.http().get(`${search}&api_key=${KEYS.bob}`).set(header))).status).toBe(401);
      }
      expect((await send(api.http().post('/transaction').set(as(KEYS.admin)).send({ tickets: [perf.ticketIds[1]] }))).status).toBe(503);
      expect((await send(api.http().get('/readyz').set(as(KEYS.admin)))).status).toBe(503);
      await backAgain(faulty, api); // (a service stopped while its Redis is down leaves ioredis's 2 s disconnect timer behind)

      // the log saw all of it: one request line per answer (with its status), and the 500's error line
      const entries = api.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const requestLines = entries.filter((e) => e.message === 'request');
      expect(new Set(requestLines.map((e) => e.status))).toEqual(new Set(answers.map((a) => a.status)));
      expect(requestLines.length).toBeGreaterThanOrEqual(answers.length);
      expect(entries.some((e) => e.message === 'unhandled error' && e.level === 'error')).toBe(true);
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 201, 400, 401, 403, 404, 409, 413, 415, 500, 503]));
    } finally {
      await stopApi(api);
      printed.restore();
    }

    // nothing of any key, in the log, printed by this process (console, stdout, stderr: the service runs in it), or
    // in any answer's headers or body
    for (const secret of SECRETS) {
      expect(api.logs.filter((l) => l.includes(secret))).toEqual([]);
      expect(printed.lines().filter((l) => l.includes(secret))).toEqual([]);
      for (const res of answers) {
        expect(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`).not.toContain(secret);
      }
    }
    expect(api.logs.length).toBeGreaterThan(answers.length);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------------------------

describe('the recorded client IP follows TRUST_PROXY', () => {
  // The test client reaches the service over loopback (127.0.0.1). The chain says: the client claimed to be
  // 198.51.100.9 (anyone can write that), the proxy in front of us saw 203.0.113.7.
  const CHAIN = '198.51.100.9, 203.0.113.7';

  test.each([
    ['unset: every forwarding header ignored', {}, '127.0.0.1'],
    ['false', { TRUST_PROXY: 'false' }, '127.0.0.1'],
    ['1 hop: the address our one proxy saw, not what the client wrote', { TRUST_PROXY: '1' }, '203.0.113.7'],
    ['2 hops', { TRUST_PROXY: '2' }, '198.51.100.9'],
    ['loopback: the first address that is not a trusted proxy', { TRUST_PROXY: 'loopback' }, '203.0.113.7'],
    ['loopback and a trusted subnet', { TRUST_PROXY: 'loopback, 203.0.113.0/24' }, '198.51.100.9'],
    ['a list that does not include the socket address: ignored', { TRUST_PROXY: '10.0.0.0/8' }, '127.0.0.1'],
  ])('TRUST_PROXY %s', async (_name, env, expected) => {
    const api = await startApi(env);
    try {
      const perf = await createPerformance(api, 1);
      const hold = await api
        .http()
        .post('/transaction')
        .set(as(KEYS.alice))
        .set('X-Forwarded-For', CHAIN)
        .set('X-Real-IP', '192.0.2.55')
        .set('Forwarded', 'for=192.0.2.66')
        .send({ tickets: perf.ticketIds });
      expect(hold.status).toBe(201);
      expect(hold.body.locked_ip).toBe(expected);
      expect(hold.body.tickets[0].locked_ip).toBe(expected);
      // as the admin sees the ticket, and as the sale records it (the outbox entry the order writer persists)
      const ticket = await api.http().get(`/tickets/${perf.ticketIds[0]}`).set(as(KEYS.admin));
      expect(ticket.body.ticket).toMatchObject({ state: 'locked', locked_by: 'alice', locked_ip: expected });
      const done = await api
        .http()
        .put(`/transaction/${hold.body.transaction_id}`)
        .set(as(KEYS.alice))
        .set('X-Forwarded-For', '192.0.2.99, 192.0.2.100')
        .send({ status: 'complete' });
      expect(done.status).toBe(200);
      const outbox = await probe.xrange(performanceKeys(perf.id).outbox, '-', '+');
      expect(outbox).toHaveLength(1);
      const fields = outbox[0]?.[1] ?? [];
      const sale = Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])));
      expect(sale).toMatchObject({ transaction_id: hold.body.transaction_id, client: 'alice', ip: expected });
    } finally {
      await stopApi(api);
    }
  });

  test('TRUST_PROXY=true: a forwarded value that is not an IP address is not recorded (the socket address is); ::ffff: is dropped', async () => {
    const api = await startApi({ TRUST_PROXY: 'true' });
    try {
      const perf = await createPerformance(api, 3);
      for (const [i, [forwarded, expected]] of ([
        ['not-an-ip <script>', '127.0.0.1'],
        ['203.0.113.7', '203.0.113.7'],
        // an IPv4-mapped IPv6 address (what a dual-stack proxy may forward) is recorded as the IPv4 address it is
        ['::ffff:203.0.113.8', '203.0.113.8'],
      ] as const).entries()) {
        const ticket = perf.ticketIds[i];
        const hold = await api.http().post('/transaction').set(as(KEYS.alice)).set('X-Forwarded-For', forwarded).send({ tickets: [ticket] });
        expect(hold.status).toBe(201);
        expect(hold.body.locked_ip).toBe(expected);
      }
    } finally {
      await stopApi(api);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('security headers and CORS', () => {
  /** The headers helmet 8 sets by default that matter for a JSON API; x-powered-by gone. */
  function missingSecurityHeaders(res: request.Response): string[] {
    const h = res.headers;
    const missing: string[] = [];
    const want = (name: string, ok: (v: string | undefined) => boolean) => {
      if (!ok(h[name])) missing.push(`${name}: ${h[name] ?? '(none)'}`);
    };
    want('x-powered-by', (v) => v === undefined);
    want('x-content-type-options', (v) => v === 'nosniff');
    want('x-frame-options', (v) => /^(SAMEORIGIN|DENY)$/i.test(v ?? ''));
    want('strict-transport-security', (v) => /max-age=[1-9]\d*/.test(v ?? ''));
    want('content-security-policy', (v) => /default-src/.test(v ?? ''));
    want('referrer-policy', (v) => (v ?? '') !== '');
    want('cross-origin-resource-policy', (v) => (v ?? '') !== '');
    want('x-dns-prefetch-control', (v) => v === 'off');
    return missing;
  }

  const CORS_HEADERS = [
    'access-control-allow-origin',
    'access-control-allow-methods',
    'access-control-allow-headers',
    'access-control-allow-credentials',
  ];
  const corsHeadersOf = (res: request.Response) => CORS_HEADERS.filter((name) => res.headers[name] !== undefined);

  const preflight = (api: Api, origin: string) =>
    api
      .http()
      .options('/transaction')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

  let plain: Api;
  let perfId: string;
  beforeAll(async () => {
    plain = await startApi();
    perfId = (await createPerformance(plain, 4)).id;
  });

  test('helmet headers on every answer: success, 4xx, 500 and 503', async () => {
    const faulty = await startFaultyRedis('tixlock-http-headers-');
    redisServers.push(faulty);
    const down = await startApi({ REDIS_URL: faulty.url, REDIS_COMMAND_TIMEOUT_MS: '300' });
    const brokenCode = 0xfffffff0 - Math.floor(Math.random() * 1000);
    const broken = mintTransactionId(brokenCode);
    try {
      await probe.hset(performanceCodeKey(brokenCode), 'not', 'a string');
      const calls: [string, number, () => request.Test][] = [
        ['/healthz', 200, () => plain.http().get('/healthz')],
        ['HEAD /healthz', 200, () => plain.http().head('/healthz')],
        ['/readyz', 200, () => plain.http().get('/readyz')],
        ['search', 200, () => plain.http().get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice))],
        ['hold', 201, () => plain.http().post('/transaction').set(as(KEYS.alice)).send({ performance_id: perfId, quantity: 1 })],
        ['no key', 401, () => plain.http().get('/tickets')],
        ['client on an admin route', 403, () => plain.http().get(`/performances/${perfId}`).set(as(KEYS.alice))],
        ['no such route', 404, () => plain.http().get('/nothing-here').set(as(KEYS.alice))],
        ['empty hold', 400, () => plain.http().post('/transaction').set(as(KEYS.alice)).send({})],
        ['text body', 415, () => plain.http().post('/transaction').set(as(KEYS.alice)).set('Content-Type', 'text/plain').send('x')],
        ['wrong-type Redis key', 500, () => plain.http().get(`/transaction/${broken}`).set(as(KEYS.alice))],
      ];
      const seen: Record<string, string[]> = {};
      const check = async (name: string, status: number, call: () => request.Test) => {
        const res = await call();
        expect(`${name}: ${res.status}`).toBe(`${name}: ${status}`);
        seen[`${status} ${name}`] = missingSecurityHeaders(res);
      };
      for (const [name, status, call] of calls) await check(name, status, call);
      await faulty.kill();
      await check('Redis gone', 503, () => down.http().get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice)));
      await check('/readyz, Redis gone', 503, () => down.http().get('/readyz'));
      await backAgain(faulty, down);
      expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((k) => [k, []])));
    } finally {
      await probe.del(performanceCodeKey(brokenCode));
      await stopApi(down);
    }
  });

  test('CORS off by default: no CORS headers for any origin, preflights included', async () => {
    const origin = 'https://shop.example';
    const simple = await plain.http().get('/healthz').set('Origin', origin);
    expect(simple.status).toBe(200);
    expect(corsHeadersOf(simple)).toEqual([]);
    const authed = await plain.http().get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice)).set('Origin', origin);
    expect(authed.status).toBe(200);
    expect(corsHeadersOf(authed)).toEqual([]);
    const pre = await preflight(plain, origin);
    expect(corsHeadersOf(pre)).toEqual([]);
  });

  describe('with CORS_ORIGINS="https://shop.example,https://b.example"', () => {
    let cors: Api;
    beforeAll(async () => {
      cors = await startApi({ CORS_ORIGINS: 'https://shop.example,https://b.example' });
    });

    test.each(['https://shop.example', 'https://b.example'])('%s: its origin echoed, on success and on error', async (origin) => {
      const ok = await cors.http().get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice)).set('Origin', origin);
      expect(ok.status).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe(origin);
      expect(ok.headers.vary ?? '').toMatch(/\bOrigin\b/i);
      // what a browser client must be able to read of an answer
      const exposed = (ok.headers['access-control-expose-headers'] ?? '').toLowerCase();
      for (const name of ['x-request-id', 'retry-after']) expect(exposed).toContain(name);
      // a browser client must be able to read the error too
      const denied = await cors.http().get('/tickets').set('Origin', origin);
      expect(denied.status).toBe(401);
      expect(denied.headers['access-control-allow-origin']).toBe(origin);
      expect(missingSecurityHeaders(ok)).toEqual([]);
    });

    test('an allowed origin\'s preflight succeeds without a key and allows the method and the headers asked for', async () => {
      const pre = await preflight(cors, 'https://shop.example');
      expect(pre.status).toBeGreaterThanOrEqual(200);
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(pre.headers['access-control-allow-methods'] ?? '').toMatch(/\bPOST\b/);
      const allowed = (pre.headers['access-control-allow-headers'] ?? '').toLowerCase();
      expect(allowed).toContain('authorization');
      expect(allowed).toContain('content-type');
    });

    test.each([
      'https://evil.example',
      'http://shop.example', // another scheme is another origin
      'https://shop.example.evil.example', // a prefix is not a match
      'https://shop.example:8443', // nor another port
      'null',
    ])('a foreign origin (%s) is not allowed: no Access-Control-Allow-Origin, preflight included', async (origin) => {
      const res = await cors.http().get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice)).set('Origin', origin);
      expect(res.status).toBe(200);
      expect(corsHeadersOf(res)).toEqual([]);
      const pre = await preflight(cors, origin);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });
});
