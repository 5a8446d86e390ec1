// The on-sale harness on a private Redis Cluster (`--cluster`) with the performance's primary SIGKILLed mid-sale
// (`--kill-primary-at`): every invariant holds across the failover, and the report shows it (the killed primary,
// when its shard answered again, the 503s meanwhile). Real servers; behaviour only, never speed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, UsageError } from '../tools/onsale/options';
import { runOnsale } from '../tools/onsale/onsale';
import type { OnsaleResult } from '../tools/onsale/report';

test('--cluster --kill-primary-at 1: invariants OK across the failover; the report shows it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-onsale-cluster-'));
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true), isTTY: false },
  };
  try {
    const code = await runOnsale(
      ['--cluster', '--kill-primary-at', '1', '--tickets', '300', '--buyers', '1500', '--concurrency', '50', '--hold-seconds', '2',
        '--think-ms', '5-40', '--seed', '3', '--quiet', '--json', path.join(dir, 'r.json')],
      io,
    );
    const result = JSON.parse(fs.readFileSync(path.join(dir, 'r.json'), 'utf8')) as OnsaleResult;
    if (!result.invariants.ok) console.error(out, err);
    expect(result.invariants.violations).toEqual([]);
    expect(code).toBe(0);
    expect(result.failover).toMatchObject({ killed_primary_port: expect.any(Number), recovered_after_s: expect.any(Number) });
    expect(result.failover?.killed_at_s).toBeGreaterThanOrEqual(1);
    expect(out).toMatch(/^failover {5}primary :\d+ killed \(SIGKILL\) at [\d.]+ s; its shard answered again after [\d.]+ s; \d+ answers 503 meanwhile$/m);
    // nothing but 2xx, 409 and 503 (the failover) was answered
    for (const e of result.endpoints) for (const status of Object.keys(e.statuses)) expect(['200', '201', '409', '503']).toContain(status);
    expect(result.buyers.paid).toBeGreaterThan(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test('the cluster options parse, and wrong combinations are one clear line', () => {
  expect(parseOptions(['--cluster', '--kill-primary-at', '3'])).toMatchObject({ cluster: 'embedded', killPrimaryAt: 3 });
  expect(parseOptions(['--redis-cluster-nodes', 'a:7000,b:7001'])).toMatchObject({ cluster: 'a:7000,b:7001', killPrimaryAt: undefined });
  for (const argv of [
    ['--kill-primary-at', '3'],
    ['--cluster', '--redis-cluster-nodes', 'a:7000'],
    ['--cluster', '--url', 'http://x', '--admin-key', 'k', '--client-key', 'k'],
    ['--redis-cluster-nodes', 'nonsense'],
    ['--cluster', '--kill-primary-at', 'soon'],
  ]) {
    expect(() => parseOptions(argv)).toThrow(UsageError);
  }
});
