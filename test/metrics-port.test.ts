// METRICS_PORT on a spawned `tixlock all`: /metrics without a key on a port of its own, not on the main port (one
// process, then two API workers whose series the primary gathers). It spawns the CLI, so the mutation run leaves it
// out (jest.mutation.config.js); test/http-metrics-server.test.ts covers the metrics server in process.
import http from 'node:http';
import os from 'node:os';
import { freePort } from '../src/redis/embedded';
import { KEYS, testRedisUrl } from './support/app';
import { sample } from './support/metrics-text';
import { spawnCli, waitFor } from './support/spawn';

describe('METRICS_PORT', () => {
  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });

  test.each([['one process', '1'], ['two API workers', '2']])('%s: /metrics without a key on its own port, not on the main port', async (_what, workers) => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const cli = spawnCli(['all'], {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      API_WORKERS: workers,
      REDIS_URL: testRedisUrl(),
      DOCUMENT_STORE_URL: `sqlite:${os.tmpdir()}/tixlock-metrics-${process.pid}-${workers}.db`,
      TIXLOCK_API_KEYS: `alice:${KEYS.alice}`,
      TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
      LOG_LEVEL: 'warn',
    });
    try {
      await waitFor('the service answers', async () => (await get(port, '/healthz').catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
      for (let i = 0; i < 4; i++) await get(port, '/healthz');
      const scraped = await get(metricsPort, '/metrics');
      expect(scraped.status).toBe(200);
      expect(sample(scraped.body, 'tixlock_http_request_duration_seconds_count', { route: '/healthz' })).toBeGreaterThanOrEqual(workers === '1' ? 5 : 1);
      if (workers === '2') expect(scraped.body).toMatch(/worker="\d+"/);
      expect((await get(metricsPort, '/other')).status).toBe(404);
      expect((await get(port, '/metrics', { Authorization: `Bearer ${KEYS.admin}` })).status).toBe(404);
    } finally {
      cli.child.kill('SIGTERM');
      await Promise.race([cli.exited, new Promise((r) => setTimeout(r, 15_000))]);
      await cli.kill();
    }
  }, 120_000);
});
