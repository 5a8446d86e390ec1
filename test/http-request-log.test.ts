// The request log (src/http/middleware.ts): one line per request at info, except the health and readiness probes,
// which a load balancer calls every few seconds: those only at debug.
import { Writable } from 'node:stream';
import request from 'supertest';
import { createLogger } from '../src/logger';
import { as, KEYS, startTestApp, type TestApp } from './support/app';

/** A test app whose log lines (parsed) are collected at `level`. */
async function appLoggingAt(level: string): Promise<{ t: TestApp; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { t: await startTestApp({}, createLogger(level, sink)), lines };
}

/** The request lines for `route`, once each request's line has been written (it is written on 'finish'). */
const requestLines = (lines: Record<string, unknown>[], route: string) => lines.filter((l) => l.message === 'request' && l.route === route);

async function probeAndSearch(t: TestApp) {
  expect((await request(t.app).get('/healthz')).status).toBe(200);
  expect((await request(t.app).get('/readyz')).status).toBe(200);
  expect((await request(t.app).get('/tickets?performance_id=nope&quantity=1').set(as(KEYS.alice))).status).toBe(404);
  expect((await request(t.app).get('/no-such-route')).status).toBe(401);
}

test('at info: every request is logged except /healthz and /readyz', async () => {
  const { t, lines } = await appLoggingAt('info');
  try {
    await probeAndSearch(t);
    expect(requestLines(lines, '/tickets')).toEqual([expect.objectContaining({ level: 'info', method: 'GET', status: 404, client: 'alice' })]);
    expect(requestLines(lines, '(unmatched)')).toEqual([expect.objectContaining({ level: 'info', status: 401 })]);
    expect(requestLines(lines, '/healthz')).toEqual([]);
    expect(requestLines(lines, '/readyz')).toEqual([]);
  } finally {
    await t.close();
  }
});

test('at debug: the probes are logged too, at debug', async () => {
  const { t, lines } = await appLoggingAt('debug');
  try {
    await probeAndSearch(t);
    expect(requestLines(lines, '/healthz')).toEqual([expect.objectContaining({ level: 'debug', status: 200 })]);
    expect(requestLines(lines, '/readyz')).toEqual([expect.objectContaining({ level: 'debug', status: 200 })]);
    expect(requestLines(lines, '/tickets')).toEqual([expect.objectContaining({ level: 'info', status: 404 })]);
  } finally {
    await t.close();
  }
});

test("a line's ms is the request's own duration: not negative, not longer than the client waited", async () => {
  const { t, lines } = await appLoggingAt('info');
  try {
    const started = performance.now();
    expect((await request(t.app).get('/tickets?performance_id=nope&quantity=1').set(as(KEYS.alice))).status).toBe(404);
    const waited = performance.now() - started;
    const [line] = requestLines(lines, '/tickets');
    expect(line?.ms).toEqual(expect.any(Number));
    expect(line?.ms as number).toBeGreaterThanOrEqual(0);
    expect(line?.ms as number).toBeLessThanOrEqual(waited);
  } finally {
    await t.close();
  }
});
