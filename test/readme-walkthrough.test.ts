// The README's curl walk-through ("The seed flow with curl"), run as written: its shell block, taken from README.md,
// run with bash twice in a row from a fresh checkout against `npm start` there, so that it cannot rot. Each run loads
// a performance of its own and sells two tickets; a run whose first step fails stops there with a non-zero code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/redis/embedded';
import { freshCheckout } from './support/checkout';
import { exitWithin, REPO, spawnProcess, waitForBanner, type CliProcess } from './support/spawn';

const SECTION = '## The seed flow with curl';

/** The first ```sh block of the README's walk-through section. */
function walkthrough(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf(`${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  if (!block) throw new Error(`README.md: no sh block in "${SECTION}"`);
  return block[1] as string;
}

let checkout: string;
let script: string;
const procs: CliProcess[] = [];
beforeAll(() => {
  checkout = freshCheckout();
  script = path.join(checkout, 'walkthrough.sh');
  fs.writeFileSync(script, walkthrough());
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  fs.rmSync(checkout, { recursive: true, force: true });
});

async function runWalkthrough(url: string, cwd = checkout) {
  const run = spawnProcess('bash', [script], { cwd, env: { URL: url } });
  procs.push(run);
  const { code } = await exitWithin(run, 120_000, 'the walk-through');
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

test('the walk-through runs as written, twice in a row, against npm start', async () => {
  // PORT=0: tixlock binds a free port and its banner names it (one found free beforehand could be taken meanwhile)
  const npm = spawnProcess('npm', ['start'], { cwd: checkout, env: { PORT: '0', LOG_LEVEL: 'warn' } });
  procs.push(npm);
  const { url } = await waitForBanner(npm, 240_000);

  const performances: string[] = [];
  for (const round of [1, 2]) {
    const { code, stdout, stderr } = await runWalkthrough(url);
    expect({ round, code, stderr }).toEqual({ round, code: 0, stderr: '' });
    const tx = /^transaction (\S+)$/m.exec(stdout)?.[1];
    const order = /^order (\S+)$/m.exec(stdout)?.[1];
    expect(tx).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(order).toMatch(/^[34679ACDEFGHJKMNPQRTVWXY]{10,12}$/);
    expect(stdout).toContain(`{"status":"OK","order":{"order_number":"${order}","transaction_id":"${tx}"`);
    expect(stdout).toMatch(/^Transaction-Status: complete\r?$/m);
    expect(stdout).toContain('"transaction_status":"released"');
    // the last answer: the live counts of this run's performance
    const last = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(last.performance.counts).toEqual({ total: 5, available: 3, locked: 0, sold: 2 });
    performances.push(last.performance.id);
  }
  expect(new Set(performances).size).toBe(2);

  npm.child.kill('SIGTERM');
  await exitWithin(npm, 60_000, 'npm start after SIGTERM');
}, 480_000);

test('a step that fails stops the walk-through with a non-zero code', async () => {
  // keys in place, but nothing answers at the URL
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-walkthrough-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'dev-keys.json'), JSON.stringify({ client: { key: 'tix_client' }, admin: { key: 'tix_admin' } }));
  const { code, stdout, stderr } = await runWalkthrough(`http://127.0.0.1:${await freePort()}`, dir).finally(() =>
    fs.rmSync(dir, { recursive: true, force: true }),
  );
  expect(code).not.toBe(0);
  expect(stdout).not.toMatch(/^transaction /m);
  expect(stderr).toMatch(/curl: \(7\)/); // could not connect: said so, not swallowed
});
