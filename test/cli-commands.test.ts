// The built tixlock command, as the README runs it (`npx tixlock ...` in a fresh checkout after `npm run build`):
// --help for the whole and for each command (no connection made), and a maintenance command that cannot reach
// Redis: one line on stderr naming where it looked and the settings that point elsewhere, exit code 1, no stack.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS } from '../src/cli-help';
import { freePort } from '../src/redis/embedded';
import { freshCheckout } from './support/checkout';
import { scratch } from './support/scratch';
import { exitWithin, spawnProcess, waitForBanner } from './support/spawn';

let checkout: string;
let cli: string;
beforeAll(() => {
  checkout = freshCheckout();
  keepTidy(checkout);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: checkout, stdio: 'ignore' });
  cli = path.join(checkout, 'dist', 'src', 'cli.js');
}, 240_000);
const { tempDir, keepTidy, track } = scratch('tixlock-commands-');

/** Runs the built CLI (or `npx tixlock` when asked) in the checkout with exactly `env`, to its end. */
async function tixlock(args: string[], env: Record<string, string> = {}, via: 'node' | 'npx' = 'node') {
  const proc =
    via === 'npx'
      ? spawnProcess('npx', ['--offline', 'tixlock', ...args], { cwd: checkout, env })
      : spawnProcess(process.execPath, [cli, ...args], { cwd: checkout, env });
  track(proc);
  const { code } = await exitWithin(proc, 60_000, `tixlock ${args.join(' ')}`);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** A port nothing listens on. */
const closedPort = () => freePort();

/** stderr is exactly one line `tixlock: <what>`: no JSON log line, no stack. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tixlock: /);
  expect(stderr).not.toMatch(/\n\s+at |"stack"|^\{/m);
  return lines[0] as string;
}

const SETTINGS_HINT = 'set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_SENTINEL_NAME) to use another';

describe('help', () => {
  test('npx tixlock --help, tixlock help and -h: every command with its summary', async () => {
    const answers = [await tixlock(['--help'], {}, 'npx'), await tixlock(['help']), await tixlock(['-h'])];
    for (const { code, stdout, stderr } of answers) {
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(/^usage: tixlock <command>/);
      for (const [name, c] of Object.entries(COMMANDS)) {
        expect(stdout).toContain(`  ${name}`);
        expect(stdout.replace(/\s+/g, ' ')).toContain(c.summary);
      }
    }
    expect(answers[1]?.stdout).toBe(answers[0]?.stdout);
  });

  test('tixlock <command> --help: its usage, what it does and its settings; nothing is started or connected', async () => {
    // a Redis that is not there and no data directory: a command that tried either would fail or leave files
    const dataDir = path.join(tempDir(), 'never-made');
    const env = { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, DATA_DIR: dataDir };
    for (const name of Object.keys(COMMANDS)) {
      const own = await tixlock([name, '--help'], env);
      expect({ name, code: own.code, stderr: own.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(own.stdout).toMatch(new RegExp(`^usage: tixlock ${name}\\b`));
      expect((await tixlock(['help', name], env)).stdout).toBe(own.stdout);
    }
    expect(fs.existsSync(dataDir)).toBe(false);

    const api = await tixlock(['api', '-h']);
    expect(api.stdout).toMatch(/--workers N\s+N API processes sharing the port/);
    expect(api.stdout).toContain('HOST (127.0.0.1)'); // defaults come from the config schema
    expect(api.stdout).toContain('PORT (3000)');
    expect((await tixlock(['dead-letters', '--help'])).stdout).toContain('DATA_DIR (./data)');
    expect((await tixlock(['onsale', '--help'])).stdout).toContain('--buyers B');
  }, 180_000); // about twenty node processes one after another: slow on a loaded 2-core machine, not wrong

  test('help for a command that does not exist: exit code 2 and the list of commands', async () => {
    for (const args of [['help', 'nope'], ['nope', '--help']]) {
      const { code, stdout, stderr } = await tixlock(args);
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr).toMatch(/^tixlock: (no|unknown) command 'nope'\n\nusage: tixlock <command>/);
    }
  });
});

describe('Redis out of reach: one line, exit code 1', () => {
  test('dead-letters beside a tixlock that stopped: it works while tixlock runs, then says none runs', async () => {
    const dataDir = tempDir();
    const service = spawnProcess(process.execPath, [cli, 'all'], { cwd: checkout, env: { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' } });
    track(service);
    await waitForBanner(service, 60_000);

    const running = await tixlock(['dead-letters'], { DATA_DIR: dataDir });
    expect({ code: running.code, stderr: running.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(running.stdout)).toMatchObject({ status: 'OK' });

    service.child.kill('SIGTERM');
    expect(await exitWithin(service, 60_000, 'tixlock all after SIGTERM')).toEqual({ code: 0, signal: null });
    const stopped = await tixlock(['dead-letters'], { DATA_DIR: dataDir });
    expect({ code: stopped.code, stdout: stopped.stdout }).toEqual({ code: 1, stdout: '' });
    expect(oneLine(stopped.stderr)).toBe(
      `tixlock: no Redis to use: no tixlock with a private redis-server runs on DATA_DIR=${dataDir} ` +
        `(no ${path.join(dataDir, 'redis', 'url')}); start one (npm start), or ${SETTINGS_HINT}`,
    );
  }, 120_000);

  test('a tixlock that died (its URL file left behind): names the URL it tried and the file', async () => {
    const dataDir = tempDir();
    const url = `redis://127.0.0.1:${await closedPort()}`;
    fs.mkdirSync(path.join(dataDir, 'redis'));
    fs.writeFileSync(path.join(dataDir, 'redis', 'url'), url);
    for (const command of ['dead-letters', 'replay-dead-letters', 'rehydrate', 'archive']) {
      const { code, stdout, stderr } = await tixlock([command], { DATA_DIR: dataDir });
      expect({ command, code, stdout }).toEqual({ command, code: 1, stdout: '' });
      const line = oneLine(stderr);
      expect(line).toContain(`tixlock: cannot reach Redis at ${url} (the private redis-server of the tixlock on DATA_DIR=${dataDir}`);
      expect(line).toContain(path.join(dataDir, 'redis', 'url'));
      expect(line.endsWith(SETTINGS_HINT)).toBe(true);
    }
  });

  test('REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS: each names what it tried (no password) and the settings', async () => {
    const port = await closedPort();
    const cases: [Record<string, string>, string][] = [
      [{ REDIS_URL: `redis://ops:s3cret-pass@127.0.0.1:${port}/2` }, `redis://ops:***@127.0.0.1:${port}/2 (REDIS_URL)`],
      [{ REDIS_CLUSTER_NODES: `127.0.0.1:${port}` }, `the Redis Cluster at 127.0.0.1:${port} (REDIS_CLUSTER_NODES)`],
      // the sentinel client would ask forever: the command gives up
      [{ REDIS_SENTINELS: `127.0.0.1:${port}`, REDIS_SENTINEL_NAME: 'tixlock' }, `the primary 'tixlock' of the sentinels at 127.0.0.1:${port} (REDIS_SENTINELS)`],
    ];
    for (const [env, where] of cases) {
      const { code, stdout, stderr } = await tixlock(['dead-letters'], env);
      expect({ env, code, stdout }).toEqual({ env, code: 1, stdout: '' });
      const line = oneLine(stderr);
      expect(line.startsWith(`tixlock: cannot reach Redis at ${where}: `)).toBe(true);
      expect(line.endsWith(SETTINGS_HINT)).toBe(true);
      expect(line).not.toContain('s3cret-pass');
    }
  }, 120_000);

  test('tixlock api with a REDIS_URL that does not answer: the same one line', async () => {
    const port = await closedPort();
    const { code, stderr } = await tixlock(['api'], { REDIS_URL: `redis://127.0.0.1:${port}`, PORT: '0', DATA_DIR: tempDir() });
    expect(code).toBe(1);
    const line = oneLine(stderr);
    expect(line.startsWith(`tixlock: cannot reach Redis at redis://127.0.0.1:${port} (REDIS_URL): `)).toBe(true);
    expect(line.endsWith(SETTINGS_HINT)).toBe(true);
  });
});
