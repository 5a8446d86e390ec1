// METRICS_PORT on a spawned `tixlock all`: /metrics without a key on a port of its own, not on the main port (one
// process, then two API workers whose series the primary gathers). It spawns the CLI, so the mutation run leaves it
// out (jest.mutation.config.js); test/http-metrics-server.test.ts covers the metrics server in process.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { KEYS, testRedisUrl } from './support/app';
import { sample } from './support/metrics-text';
import { spawnCli, waitForBanner } from './support/spawn';

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
    // PORT=0 and METRICS_PORT=0: the ports are bound by tixlock and read from its banner (a port found free
    // beforehand could be taken by another process before tixlock binds it)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-metrics-port-'));
    const cli = spawnCli(['all'], {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      API_WORKERS: workers,
      REDIS_URL: testRedisUrl(),
      DOCUMENT_STORE_URL: `sqlite:${path.join(dir, 'tixlock.db')}`,
      DATA_DIR: dir,
      TIXLOCK_API_KEYS: `alice:${KEYS.alice}`,
      TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
      LOG_LEVEL: 'warn',
    });
    try {
      const banner = await waitForBanner(cli, 60_000);
      const { port, metricsPort } = banner;
      expect(banner.notes).toBe(workers === '1' ? ' (with the order writer)' : ' (2 API workers, with the order writer in a process of its own)');
      expect(metricsPort).toEqual(expect.any(Number));
      expect(metricsPort).not.toBe(port);
      if (metricsPort === undefined) throw new Error('the banner names no metrics port');
      expect(cli.stdout()).toContain(`  metrics: http://127.0.0.1:${metricsPort}/metrics (METRICS_PORT, no key)`);
      for (let i = 0; i < 5; i++) expect((await get(port, '/healthz')).status).toBe(200);
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
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
