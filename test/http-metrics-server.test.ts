// The metrics port (METRICS_PORT, src/http/metrics-server.ts) in this process: GET /metrics answers the source's
// exposition, anything else a plain 404, a failing source a 503; starting on a taken port rejects, and stopping
// frees the port. test/metrics.test.ts covers the same port through the CLI, which the mutation run leaves out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import request from 'supertest';
import { createMetrics } from '../src/metrics';
import { startMetricsServer, stopMetricsServer, type MetricsSource } from '../src/http/metrics-server';

const NOT_SERVED = 'Only GET /metrics is served on this port.\n';

const portOf = (server: http.Server) => (server.address() as AddressInfo).port;

/** Resolves with the error code of a connection attempt to the port (undefined when it connected). */
const connectError = (port: number) =>
  new Promise<string | undefined>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });

describe('metrics port', () => {
  const metrics = createMetrics();
  new Counter({ name: 'tixlock_test_scrapes_total', help: 'a test counter', registers: [metrics.registry] });
  const source: MetricsSource = { contentType: metrics.registry.contentType, render: () => metrics.registry.metrics() };
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = await startMetricsServer('127.0.0.1', 0, source);
    base = `http://127.0.0.1:${portOf(server)}`;
  });
  afterAll(() => stopMetricsServer(server));

  test('GET /metrics answers the exposition with the source content type', async () => {
    const res = await request(base).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(metrics.registry.contentType);
    expect(res.text).toContain('# TYPE tixlock_test_scrapes_total counter');
    expect(res.text).toContain('tixlock_test_scrapes_total 0');
  });

  test('a query string does not change the path', async () => {
    const res = await request(base).get('/metrics?name[]=tixlock_test_scrapes_total');
    expect(res.status).toBe(200);
    expect(res.text).toContain('tixlock_test_scrapes_total 0');
  });

  test.each([
    ['GET', '/'],
    ['GET', '/healthz'],
    ['GET', '/metrics/'],
    ['GET', '/metricsx'],
    ['POST', '/metrics'],
    ['PUT', '/metrics'],
    ['DELETE', '/metrics'],
  ])('%s %s is a plain 404', async (method, path) => {
    const res = await request(base)[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.text).toBe(NOT_SERVED);
  });

  test('HEAD /metrics is a 404 too, without a body', async () => {
    const res = await request(base).head('/metrics');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain');
  });
});

describe('metrics port with a failing source', () => {
  test('a source that rejects gives a plain 503 naming the cause, and the port keeps serving', async () => {
    let fail = true;
    const source: MetricsSource = {
      contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      render: () => (fail ? Promise.reject(new Error('worker 2 did not answer')) : Promise.resolve('up 1\n')),
    };
    const server = await startMetricsServer('127.0.0.1', 0, source);
    try {
      const base = `http://127.0.0.1:${portOf(server)}`;
      const failed = await request(base).get('/metrics');
      expect(failed.status).toBe(503);
      expect(failed.headers['content-type']).toBe('text/plain');
      expect(failed.text).toBe('metrics unavailable: worker 2 did not answer\n');

      fail = false;
      const served = await request(base).get('/metrics');
      expect(served.status).toBe(200);
      expect(served.headers['content-type']).toBe(source.contentType);
      expect(served.text).toBe('up 1\n');
    } finally {
      await stopMetricsServer(server);
    }
  });
});

describe('metrics port start and stop', () => {
  const source: MetricsSource = { contentType: 'text/plain', render: () => Promise.resolve('up 1\n') };

  test('starting on a port in use rejects with the listen error', async () => {
    const taken = await startMetricsServer('127.0.0.1', 0, source);
    try {
      await expect(startMetricsServer('127.0.0.1', portOf(taken), source)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // the first server still answers
      expect((await request(`http://127.0.0.1:${portOf(taken)}`).get('/metrics')).status).toBe(200);
    } finally {
      await stopMetricsServer(taken);
    }
  });

  test('stopping closes the port, with a scrape connection kept alive', async () => {
    const server = await startMetricsServer('127.0.0.1', 0, source);
    const port = portOf(server);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
      await expect(stopMetricsServer(server)).resolves.toBeUndefined();
      expect(server.listening).toBe(false);
      expect(await connectError(port)).toBe('ECONNREFUSED');
    } finally {
      agent.destroy();
    }
  });

  test('stopping no server is a no-op', async () => {
    await expect(stopMetricsServer(undefined)).resolves.toBeUndefined();
  });
});
