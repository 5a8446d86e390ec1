// Redis outages under traffic (API.md "Operations": Redis unreachable → 503 UNAVAILABLE with Retry-After, never a
// hang, never a partial lock). The service runs as production wires it (src/service.ts: auto-pipelining, a real
// HTTP server) against a redis-server of this file's own, which is paused (SIGSTOP) and killed (SIGKILL, then
// restarted from its AOF) while buyers hold, check out, complete, release and read. Afterwards the service must
// answer again without a restart, and the ticket and transaction state must be whole. What a SIGKILL may lose
// depends on appendfsync: the kill under traffic runs with `always`; the last test kills the Redis as shipped
// (`everysec`) and shows what that setting keeps (docs/redis-model.md, "What a Redis crash can lose"). The buyers are
// test/support/outage-traffic.ts; the state is checked by test/support/outage-state.ts (the on-sale harness's
// invariants over the API's listing, Redis itself, and every transaction a buyer was told about).
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { connectRedis } from '../src/redis/connection';
import { startService, type RunningService } from '../src/service';
import { as, BASE_ENV, KEYS, sleep, uniqueId } from './support/app';
import { checkOutageState, type OutagePerformance } from './support/outage-state';
import { CLIENT_TIMEOUT_MS, retryUnsure, Traffic, type Rec } from './support/outage-traffic';
import { aofBufferWritten, appendfsyncOf, startFaultyRedis, type FaultyRedis } from './support/redis-fault';
import { waitFor } from './support/spawn';

const COMMAND_TIMEOUT_MS = 300;
/** Every answer a request may get here (API.md); none at all within CLIENT_TIMEOUT_MS (status 0) is a hang. */
const ALLOWED_STATUSES = [200, 201, 409, 503];
/** How long each outage lasts. */
const OUTAGE_MS = 2500;
/** Requests that started at least this long after the outage began (and ended before it ended) must be 503s. */
const SETTLE_MS = 50;
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
  // a 1,200-ticket PUT can outlast the short command timeout on a busy box: retried on 503 as a client would
  let res = await http().put(`/performances/${id}`).set(as(KEYS.admin)).send({ name: 'Outage show', tickets });
  for (let attempt = 1; res.status === 503 && attempt < 10; attempt++) {
    await sleep(200);
    res = await http().put(`/performances/${id}`).set(as(KEYS.admin)).send({ name: 'Outage show', tickets });
  }
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
 * Runs traffic, causes the outage, ends it, and checks the answers: every request answered (no hang: an answer
 * within the client's generous timeout) with an allowed status, every request made wholly inside the outage a 503
 * UNAVAILABLE, /readyz 503 during and 200 after, writes succeeding after. How fast is for the benchmarks.
 */
async function outageUnderTraffic(
  label: string,
  perf: OutagePerformance,
  outage: { begin(): Promise<void>; end(): Promise<void> },
): Promise<Traffic> {
  const traffic = new Traffic(base, perf.id, perf.ticketIds[0] as string);
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

  // never a hang: every request answered (status 0 is no answer within CLIENT_TIMEOUT_MS), and only as API.md allows
  const unanswered = traffic.recs.filter((r) => !ALLOWED_STATUSES.includes(r.status));
  expect(unanswered.map((r) => `${r.op} ${r.status} ${r.code ?? ''} ${ms(r.ended - r.started)} ms`)).toEqual([]);
  expect(traffic.violations.slice(0, 20)).toEqual([]);
  // every request made inside the outage was a quick 503 UNAVAILABLE (the checks in send() covered its shape)
  expect(inside.length).toBeGreaterThanOrEqual(10);
  expect(inside.filter((r) => r.status !== 503 || r.code !== 'UNAVAILABLE').map((r) => `${r.op} ${r.status}`)).toEqual([]);
  // /readyz: 503 while Redis is out, 200 again after, each within the bound
  expect(readyDuring.res.status).toBe(503);
  expect(readyDuring.res.body).toMatchObject({ status: 'ERROR', error: { code: 'UNAVAILABLE', checks: { redis: 'unavailable' } } });
  expect(readyDuring.res.headers['retry-after']).toMatch(/^\d+$/);
  expect(readyAfter.res.status).toBe(200);
  expect(readyAfter.res.body).toMatchObject({ status: 'OK', checks: { redis: 'ok' } });
  // no Redis failure surfaced as a 500 (the error handler logs those)
  expect(logged.filter((l) => l.includes('unhandled error'))).toEqual([]);
  return traffic;
}

// ---------------------------------------------------------------------------------------------------------------

/** Each test's performance and traffic, checked again after every later restart from the AOF. */
const earlier: { label: string; perf: OutagePerformance; traffic: Traffic }[] = [];

/** Checks that every earlier test left its state here, then that Redis still has all of it; never skips one. */
async function checkEarlierStates(expected: string[]): Promise<void> {
  // a missing state is a failure, not a skipped check: run the whole file (each test builds on the ones before)
  expect(earlier.map((e) => e.label)).toEqual(expected);
  for (const e of earlier) await checkOutageState(probe as Redis, base, e.perf, e.traffic);
}

test('Redis paused (SIGSTOP) under traffic: quick 503s, /readyz 503, then recovery without a restart; state whole', async () => {
  const perf = await createPerformance(20, 60);
  const traffic = await outageUnderTraffic('SIGSTOP', perf, {
    begin: () => faulty.pause(),
    end: async () => faulty.resume(),
  });
  const retried = await retryUnsure(traffic);
  const state = await checkOutageState(probe as Redis, base, perf, traffic);
  earlier.push({ label: 'SIGSTOP', perf, traffic });
  expect(state.unknownToBuyers).toBe(0); // every hold that happened is known to its buyer
  const updates503 = traffic.recs.filter((r) => ['checkout', 'complete', 'release'].includes(r.op) && r.status === 503).length;
  console.log(
    `[SIGSTOP] ${traffic.known.size} transactions answered 201; ${updates503} update attempts answered 503 (retried by the buyers ` +
      `until 200; ${retried} holds or updates retried after the traffic stopped); holds unknown to their buyers: ${state.unknownToBuyers}; Redis: ${JSON.stringify(state)}`,
  );
}, 90_000);

test('Redis killed (SIGKILL) under traffic with appendfsync always, restarted from its AOF: quick 503s, recovery; nothing acknowledged lost', async () => {
  // always: each write is fsynced before its reply, so a kill at any moment keeps everything answered
  expect(await appendfsyncOf(probe as Redis)).toBe('always');
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
  const state = await checkOutageState(probe as Redis, base, perf, traffic);
  expect(state.unknownToBuyers).toBe(0);
  const updates503 = traffic.recs.filter((r) => ['checkout', 'complete', 'release'].includes(r.op) && r.status === 503).length;
  console.log(
    `[SIGKILL] ${traffic.known.size} transactions answered 201; ${updates503} update attempts answered 503 (retried by the buyers ` +
      `until 200; ${retried} holds or updates retried after the traffic stopped); holds unknown to their buyers: ${state.unknownToBuyers}; Redis: ${JSON.stringify(state)}`,
  );
  // what the first test left behind came back from the AOF as it was
  await checkEarlierStates(['SIGSTOP']);
  earlier.push({ label: 'SIGKILL', perf, traffic });
}, 90_000);

test('appendfsync everysec (as shipped): a SIGKILL of Redis once it has written its AOF buffer loses nothing acknowledged', async () => {
  // the setting the embedded redis-server starts with (src/redis/embedded.ts); CONFIG SET lasts until the restart
  await probe?.call('CONFIG', 'SET', 'appendfsync', 'everysec');
  const perf = await createPerformance(10, 60);
  const traffic = new Traffic(base, perf.id, perf.ticketIds[0] as string);
  running = traffic;
  await waitFor('sales under everysec', () => traffic.successesAfter(0, 'complete') >= 10, { timeoutMs: 20_000 });
  await traffic.stop();
  running = undefined;
  await retryUnsure(traffic);
  const before = await checkOutageState(probe as Redis, base, perf, traffic);
  // everysec replies before the fsync: what a SIGKILL of redis-server alone can take is what Redis has not yet
  // write()n (its AOF buffer, held back while a background fsync runs). Once that is written, the kernel has it.
  await aofBufferWritten(probe as Redis);
  await faulty.kill();
  await faulty.restart();
  await waitFor('the probe connection back', async () => (await probe?.ping().catch(() => '')) === 'PONG', { timeoutMs: 10_000 });
  expect(await appendfsyncOf(probe as Redis)).toBe('everysec'); // the restart came back as shipped
  await waitFor('/readyz 200 after the restart', async () => (await http().get('/readyz')).status === 200, { timeoutMs: 15_000 });
  const after = await checkOutageState(probe as Redis, base, perf, traffic);
  expect(after).toEqual(before);
  expect(after.sold).toBeGreaterThan(0);
  await checkEarlierStates(['SIGSTOP', 'SIGKILL']);
  console.log(`[everysec] ${traffic.known.size} transactions, Redis before and after the SIGKILL: ${JSON.stringify(after)}`);
}, 90_000);
