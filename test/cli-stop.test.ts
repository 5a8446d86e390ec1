// Stopping tixlock leaves nothing behind. `npm start` on a fresh checkout (it builds, then runs `tixlock all` with
// its private redis-server): SIGTERM to npm, as a supervisor or `kill <pid>` sends it, reaches node (the script
// execs it), which stops the redis-server and exits, and the port closes. Ctrl-C (SIGINT to the whole process group)
// does the same. A start-up that fails half-way stops the redis-server it started, and a process that exits without
// stopping it (process.exit) takes it along. Also the banner of a default start: the bound loopback address, and the
// dev keys masked, found in their file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { maskKey } from '../src/banner';
import { freePort } from '../src/redis/embedded';
import { freshCheckout } from './support/checkout';
import { scratch } from './support/scratch';
import { alive, childrenOf, portAnswers, processesIn } from './support/processes';
import { exitWithin, httpCall, REPO, spawnProcess, waitFor, waitForBanner } from './support/spawn';

let checkout: string;
beforeAll(() => {
  checkout = freshCheckout();
  keepTidy(checkout);
});
const { tempDir, keepTidy, track } = scratch('tixlock-stop-');

/** The checkout's dist/, built by the first test's `npm start`, or here when that one did not run. */
function builtCli(): string {
  const cli = path.join(checkout, 'dist', 'src', 'cli.js');
  if (!fs.existsSync(cli)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: checkout, stdio: 'ignore' });
  return cli;
}

/** The private redis-server working in `dataDir`/redis: its pid and port (from the URL file tixlock writes there). */
function privateRedis(dataDir: string) {
  const pids = processesIn(path.join(dataDir, 'redis'));
  expect(pids).toHaveLength(1);
  const url = fs.readFileSync(path.join(dataDir, 'redis', 'url'), 'utf8').trim();
  return { pid: pids[0] as number, port: Number(new URL(url).port) };
}

/** Nothing of a stopped tixlock is left: node and redis-server gone, both ports closed, the URL file removed. */
async function nothingLeft(dataDir: string, nodePid: number, redis: { pid: number; port: number }, apiPort: number) {
  await waitFor('node and its redis-server to be gone', () => !alive(nodePid) && !alive(redis.pid), { timeoutMs: 60_000 });
  expect(processesIn(path.join(dataDir, 'redis'))).toEqual([]);
  expect(await portAnswers(apiPort)).toBe(false);
  expect(await portAnswers(redis.port)).toBe(false);
  expect(fs.existsSync(path.join(dataDir, 'redis', 'url'))).toBe(false);
}

test('npm start: the banner names 127.0.0.1 and masks the dev keys; SIGTERM to npm stops node and its redis-server', async () => {
  // PORT=0: tixlock binds a free port and its banner names it (one found free beforehand could be taken meanwhile)
  const npm = spawnProcess('npm', ['start'], { cwd: checkout, env: { PORT: '0' } });
  track(npm);
  // npm start builds first: generous on a slow machine
  const { url, port } = await waitForBanner(npm, 240_000);
  expect(url).toBe(`http://127.0.0.1:${port}`);
  expect((await httpCall(port, 'GET', '/healthz')).status).toBe(200);

  // the dev keys: in full only in their file, on the terminal a prefix and where the file is
  const dataDir = path.join(checkout, 'data');
  const keys = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-keys.json'), 'utf8'));
  for (const k of [keys.client.key, keys.admin.key] as string[]) {
    expect(npm.stdout()).not.toContain(k);
    expect(npm.stdout()).toContain(maskKey(k));
    expect(maskKey(k).length).toBeLessThan(k.length / 2);
  }
  expect(npm.stdout()).toContain(`in full in ${path.join(dataDir, 'dev-keys.json')}`);
  expect((await httpCall(port, 'GET', '/tickets?performance_id=none&quantity=1', keys.client.key)).status).toBe(404);

  // npm's child is node itself (the script execs it: no shell in between to swallow the signal)
  const [node, ...others] = childrenOf(npm.child.pid as number);
  expect(others).toEqual([]);
  expect(node?.args).toEqual(['node', 'dist/src/cli.js', 'all']);
  const redis = privateRedis(dataDir);
  expect(childrenOf(node?.pid as number).map((c) => c.pid)).toEqual([redis.pid]);

  npm.child.kill('SIGTERM');
  await exitWithin(npm, 60_000, 'npm after SIGTERM');
  await nothingLeft(dataDir, node?.pid as number, redis, port);
  expect(npm.stdout()).toMatch(/"message":"shutting down".*"signal":"SIGTERM"/);
}, 360_000);

test('Ctrl-C (SIGINT to the process group): tixlock and its redis-server stop, exit code 0', async () => {
  const cli = builtCli();
  const dataDir = tempDir();
  const proc = spawnProcess(process.execPath, [cli, 'all'], { cwd: checkout, env: { PORT: '0', DATA_DIR: dataDir }, detached: true });
  track(proc);
  const { port } = await waitForBanner(proc, 60_000);
  const redis = privateRedis(dataDir);
  expect(childrenOf(proc.child.pid as number).map((c) => c.pid)).toEqual([redis.pid]);

  process.kill(-(proc.child.pid as number), 'SIGINT'); // what a terminal's Ctrl-C sends: every process of the group
  expect(await exitWithin(proc, 60_000, 'tixlock after SIGINT')).toEqual({ code: 0, signal: null });
  await nothingLeft(dataDir, proc.child.pid as number, redis, port);
}, 180_000);

test('a start-up that fails after the redis-server started (the document store does not answer) stops it', async () => {
  const cli = builtCli();
  const dataDir = tempDir();
  const closed = await freePort();
  const proc = spawnProcess(process.execPath, [cli, 'all'], {
    cwd: checkout,
    env: { PORT: '0', DATA_DIR: dataDir, DOCUMENT_STORE_URL: `postgres://tixlock@127.0.0.1:${closed}/tixlock` },
  });
  track(proc);
  const { code } = await exitWithin(proc, 60_000, 'tixlock with no document store');
  expect(code).toBe(1);
  expect(fs.existsSync(path.join(dataDir, 'redis'))).toBe(true); // the redis-server had been started
  expect(processesIn(path.join(dataDir, 'redis'))).toEqual([]);
  expect(fs.existsSync(path.join(dataDir, 'redis', 'url'))).toBe(false);
}, 120_000);

test('a process that exits without stopping its redis-server (process.exit) takes it along', async () => {
  const dir = tempDir();
  const script = `
    const { startRedisServer } = require('./src/redis/embedded.ts');
    startRedisServer(process.env.REDIS_SERVER_BIN || 'redis-server', ${JSON.stringify(dir)}).then((r) => {
      process.stdout.write('port ' + r.port + '\\n');
      process.exit(3); // no stop()
    });`;
  const proc = spawnProcess(process.execPath, ['-r', path.join(REPO, 'test', 'support', 'swc-register.js'), '-e', script], {
    cwd: REPO,
    env: {},
  });
  track(proc);
  expect(await exitWithin(proc, 60_000, 'the script')).toEqual({ code: 3, signal: null });
  const port = Number(/port (\d+)/.exec(proc.stdout())?.[1]);
  expect(port).toBeGreaterThan(0);
  await waitFor('the redis-server to be gone', () => processesIn(dir).length === 0, { timeoutMs: 30_000 });
  expect(await portAnswers(port)).toBe(false);
}, 90_000);
