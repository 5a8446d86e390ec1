// API processes per machine (src/workers.ts): `tixlock api|all --workers N` as real processes with the private
// redis-server. The workers share one port and one Redis and accept the same dev keys; a worker that dies is
// restarted; `all` runs the order writer once; SIGTERM stops every worker and the redis-server, and the primary
// exits 0. With one worker there is no cluster at all.
import fs from 'node:fs';
import path from 'node:path';
import { testClusterNodes, uniqueId } from './support/app';
import { alive, childrenOf } from './support/processes';
import { scratch } from './support/scratch';
import { exitWithin, httpCall, runCli, spawnCli, waitFor, waitForBanner, type CliProcess } from './support/spawn';

const { tempDir, track } = scratch('tixlock-workers-');

/** A primary's children by kind: API workers, order-writer workers, redis-servers. */
function kinds(pid: number) {
  const all = childrenOf(pid);
  const role = (r: string) => all.filter((c) => c.args.at(-1) === r && c.args.some((a) => a.endsWith('cli.ts'))).map((c) => c.pid);
  return {
    api: role('api'),
    writer: role('order-writer'),
    redis: all.filter((c) => path.basename(c.args[0] ?? '').startsWith('redis-server')).map((c) => c.pid),
    count: all.length,
  };
}


/** Starts tixlock with the private redis-server in a fresh DATA_DIR on a free loopback port (PORT=0). */
function start(args: string[], extra: Record<string, string> = {}) {
  const dataDir = tempDir();
  const proc = spawnCli(args, { NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...extra });
  track(proc);
  return { proc, dataDir };
}

/** Waits for the banner; checks what its first line says after the URL; returns the port it names. */
async function listening(proc: CliProcess, suffix: string): Promise<number> {
  const banner = await waitForBanner(proc, 30_000);
  expect(banner.url).toBe(`http://127.0.0.1:${banner.port}`);
  expect(banner.notes).toBe(suffix);
  return banner.port;
}

function devKeys(dataDir: string) {
  const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-keys.json'), 'utf8'));
  return { client: saved.client.key as string, admin: saved.admin.key as string };
}

async function createPerformance(port: number, adminKey: string, id: string, seats: number): Promise<string[]> {
  const tickets = Array.from({ length: seats }, (_, i) => ({ id: `${id}-A${i + 1}`, section: 'ORCH', row: 'A', seat: i + 1, price: 5000 }));
  const res = await httpCall(port, 'PUT', `/performances/${id}`, adminKey, { name: 'Workers show', tickets });
  expect(res.status).toBe(200);
  return tickets.map((t) => t.id);
}

/** SIGTERM to the primary: it exits 0 and leaves no worker and no redis-server behind. */
async function stopAndCheck(proc: CliProcess, pids: number[]) {
  proc.child.kill('SIGTERM');
  expect(await exitWithin(proc, 30_000, 'the primary after SIGTERM')).toEqual({ code: 0, signal: null });
  expect(pids.filter(alive)).toEqual([]);
}

test('api --workers 2: two workers on one port, one redis-server, the same dev keys; a dead worker is restarted; SIGTERM stops all', async () => {
  const { proc, dataDir } = start(['api', '--workers', '2']);
  const port = await listening(proc, ' (2 API workers)');
  const primary = proc.child.pid as number;

  const first = kinds(primary);
  expect(first.api).toHaveLength(2);
  expect(first.writer).toEqual([]);
  expect(first.redis).toHaveLength(1);
  expect(first.count).toBe(3);
  expect(first.api.flatMap(childrenOf)).toEqual([]); // no worker started a redis-server of its own
  expect(proc.stdout()).toContain(`API worker pids ${first.api.join(' ')}`);
  expect(proc.stdout().match(/redis: private redis-server on/g)).toHaveLength(1); // the banner, once

  // every request on a connection of its own: round-robin over both workers; all know the keys
  expect((await httpCall(port, 'GET', '/healthz')).status).toBe(200);
  const keys = devKeys(dataDir);
  const ids = await createPerformance(port, keys.admin, 'workers-api', 8);
  const holds = [];
  for (const id of ids) holds.push(await httpCall(port, 'POST', '/transaction', keys.client, { tickets: [id] }));
  expect(holds.map((h) => h.status)).toEqual(ids.map(() => 201));
  await httpCall(port, 'GET', '/healthz'); // one more connection: each read below goes to the other worker than its hold
  const reads = [];
  for (const h of holds) reads.push(await httpCall(port, 'GET', `/transaction/${h.body.transaction_id}`, keys.client));
  expect(reads.map((r) => r.body.transaction_status)).toEqual(ids.map(() => 'open')); // one Redis behind both
  expect((await httpCall(port, 'GET', '/healthz', 'not-a-key')).status).toBe(200);
  expect((await httpCall(port, 'GET', '/tickets?performance_id=workers-api&quantity=1', 'tix_wrong_key_000000')).status).toBe(401);

  // a worker killed: the primary logs it and forks another on the same port
  const [victim, survivor] = first.api as [number, number];
  process.kill(victim, 'SIGKILL');
  const replaced = await waitFor(
    'a new API worker',
    () => {
      const now = kinds(primary).api;
      return now.length === 2 && !now.includes(victim) ? now : undefined;
    },
    { timeoutMs: 15_000 },
  );
  expect(replaced).toContain(survivor);
  expect(proc.stdout()).toMatch(/"message":"worker died; restarting it".*"role":"api"/);
  await waitFor('the new worker to serve', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => httpCall(port, 'GET', '/healthz')));
    return answers.every((a) => a.status === 200);
  });
  expect(kinds(primary).redis).toEqual(first.redis);

  await stopAndCheck(proc, [...replaced, victim, ...first.redis]);
  expect(proc.stdout().match(/worker died; restarting it/g)).toHaveLength(1); // none during the shutdown
}, 90_000);

test('all --workers 2: two API workers and ONE order writer; a sale through either worker is persisted', async () => {
  const { proc, dataDir } = start(['all', '--workers=2'], { WRITER_BLOCK_MS: '100' });
  const port = await listening(proc, ' (2 API workers, with the order writer in a process of its own)');
  const primary = proc.child.pid as number;
  const found = kinds(primary);
  expect({ api: found.api.length, writer: found.writer.length, redis: found.redis.length, count: found.count }).toEqual({
    api: 2,
    writer: 1,
    redis: 1,
    count: 4,
  });

  const keys = devKeys(dataDir);
  const ids = await createPerformance(port, keys.admin, 'workers-all', 4);
  const orders: string[] = [];
  for (const id of ids.slice(0, 2)) {
    const hold = await httpCall(port, 'POST', '/transaction', keys.client, { tickets: [id] });
    expect(hold.status).toBe(201);
    const done = await httpCall(port, 'PUT', `/transaction/${hold.body.transaction_id}`, keys.client, {
      status: 'complete',
      customer: { email: 'workers@example.com' },
    });
    expect(done.status).toBe(200);
    orders.push(done.body.order_number as string);
  }
  for (const order of orders) {
    await waitFor(`order ${order} persisted`, async () => (await httpCall(port, 'GET', `/orders/${order}`, keys.admin)).status === 200, {
      timeoutMs: 15_000,
    });
  }
  await stopAndCheck(proc, [...found.api, ...found.writer, ...found.redis]);
}, 90_000);

test('one worker (the default of all, or --workers 1): no cluster, one process with its redis-server', async () => {
  for (const args of [['all'], ['api', '--workers', '1']]) {
    const { proc } = start(args);
    await listening(proc, args[0] === 'all' ? ' (with the order writer)' : '');
    const found = kinds(proc.child.pid as number);
    expect({ api: found.api, writer: found.writer, redis: found.redis.length, count: found.count }).toEqual({
      api: [],
      writer: [],
      redis: 1,
      count: 1,
    });
    expect(proc.stdout()).not.toContain('API worker pids');
    await stopAndCheck(proc, found.redis);
  }
}, 60_000);

test('api --workers 2 on a configured Redis (a Cluster): no private redis-server; every worker uses the Cluster', async () => {
  const { proc, dataDir } = start(['api', '--workers', '2'], { REDIS_CLUSTER_NODES: testClusterNodes() });
  const port = await listening(proc, ' (2 API workers)');
  const found = kinds(proc.child.pid as number);
  expect({ api: found.api.length, redis: found.redis.length, count: found.count }).toEqual({ api: 2, redis: 0, count: 2 });
  expect(proc.stdout()).toContain(`redis: the Redis Cluster at ${testClusterNodes()} (REDIS_CLUSTER_NODES)`);

  const keys = devKeys(dataDir);
  const ids = await createPerformance(port, keys.admin, uniqueId('workers-cluster'), 4);
  const holds = [];
  for (const id of ids) holds.push(await httpCall(port, 'POST', '/transaction', keys.client, { tickets: [id] }));
  expect(holds.map((h) => h.status)).toEqual(ids.map(() => 201));
  await stopAndCheck(proc, found.api);
}, 90_000);

test('bad worker counts stop start-up with one clear line', async () => {
  const env = { NODE_ENV: 'test', DATA_DIR: tempDir() };
  const flag = await runCli(['api', '--workers', '0'], env);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toMatch(/^tixlock: --workers must be a whole number from 1 to 256, or auto \(one per core\)$/m);
  const setting = await runCli(['api'], { ...env, API_WORKERS: 'abc' });
  expect(setting.code).toBe(1);
  expect(setting.stderr.trim()).toBe(
    'tixlock: Invalid configuration: API_WORKERS: must be a whole number from 1 to 256, or auto (one per core)',
  );
  const stray = await runCli(['all', '--wrkers', '2'], env);
  expect(stray.code).toBe(2);
  expect(stray.stderr).toContain("tixlock: unknown argument '--wrkers' for all");
}, 60_000);
