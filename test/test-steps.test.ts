// `npm test` runs two steps (test/support/run-test-steps.js, docs/testing.md): every test file lands in exactly one
// of the two jest projects, as jest itself lists them, and the load step holds exactly the load tests; a failed
// first step fails npm test without skipping the second; a filter that matches nothing fails; both steps keep the
// servers and the 30 s test timeout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// plain CommonJS modules (jest.config.js and npm test load them without a compiler)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LOAD_TESTS: string[] = require('./support/load-tests');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const steps = require('./support/run-test-steps') as {
  STEPS: { project: string; flags: string[] }[];
  listTests(project: string, args: string[]): string[];
  runSteps(args: string[], io: unknown): number;
};

const root = path.resolve(__dirname, '..');
const onDisk = (dir: string): string[] =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : onDisk(rel);
    return e.name.endsWith('.test.ts') ? [rel] : [];
  });

test('every test file is in exactly one step; the load step holds exactly the load tests', () => {
  expect(steps.STEPS.map((s) => s.project)).toEqual(['parallel', 'load']);
  const byProject = new Map(steps.STEPS.map((s) => [s.project, steps.listTests(s.project, []).map((f) => path.relative(root, f))]));
  const all = onDisk('test').sort();
  expect(all.length).toBeGreaterThan(50);
  const placed: [string, string[]][] = all.map((file) => [file, steps.STEPS.filter((s) => byProject.get(s.project)?.includes(file)).map((s) => s.project)]);
  expect(placed.filter(([, projects]) => projects.length !== 1)).toEqual([]);
  expect([...(byProject.get('load') ?? [])].sort()).toEqual([...LOAD_TESTS].sort());
  expect(LOAD_TESTS.filter((file) => !all.includes(file))).toEqual([]); // no stale entry
  expect(steps.STEPS.find((s) => s.project === 'load')?.flags).toEqual(['--runInBand']);
  // arguments select files in each step (several paths too: --selectProjects, which takes every word after it as a
  // project name, must not swallow them)
  const picked = (project: string) => steps.listTests(project, ['test/test-steps.test.ts', 'test/scripts-large']).map((f) => path.relative(root, f));
  expect([picked('parallel'), picked('load')]).toEqual([['test/test-steps.test.ts'], ['test/scripts-large.test.ts']]);
}, 60_000);

test('both projects start the servers and keep the 30 s test timeout (a global option, ignored inside a project)', () => {
  const shown = spawnSync(process.execPath, [path.join(root, 'node_modules/jest/bin/jest.js'), '--showConfig'], { cwd: root, encoding: 'utf8' });
  const config = JSON.parse(shown.stdout) as {
    globalConfig: { testTimeout: number; maxWorkers: number };
    configs: { displayName: { name: string }; globalSetup: string; globalTeardown: string }[];
  };
  expect([config.globalConfig.testTimeout, config.globalConfig.maxWorkers]).toEqual([30_000, 2]);
  expect(config.configs.map((c) => [c.displayName.name, path.relative(root, c.globalSetup), path.relative(root, c.globalTeardown)])).toEqual(
    ['parallel', 'load'].map((name) => [name, 'test/support/global-setup.ts', 'test/support/global-teardown.ts']),
  );
}, 60_000);

/** runSteps with jest replaced: each project lists `files` and exits with `status`. */
function fakeRun(outcomes: Record<string, { files: string[]; status: number | null; signal?: string }>) {
  const ran: string[] = [];
  let out = '';
  const io = {
    listTests: (project: string) => outcomes[project]?.files ?? [],
    runJest: (project: string) => {
      ran.push(project);
      return { status: outcomes[project]?.status ?? null, signal: outcomes[project]?.signal ?? null };
    },
    write: (s: string) => (out += s),
  };
  return { code: steps.runSteps([], io), ran, out };
}

test('npm test fails when either step fails, and runs the load step after a failed first step', () => {
  const passing = fakeRun({ parallel: { files: ['a'], status: 0 }, load: { files: ['b'], status: 0 } });
  expect([passing.code, passing.ran]).toEqual([0, ['parallel', 'load']]);
  const firstFails = fakeRun({ parallel: { files: ['a'], status: 1 }, load: { files: ['b'], status: 0 } });
  expect([firstFails.code, firstFails.ran]).toEqual([1, ['parallel', 'load']]);
  expect(firstFails.out).toContain('parallel FAILED (exit 1); load passed');
  const secondFails = fakeRun({ parallel: { files: ['a'], status: 0 }, load: { files: ['b'], status: 1 } });
  expect(secondFails.code).toBe(1);
  const interrupted = fakeRun({ parallel: { files: ['a'], status: null, signal: 'SIGINT' }, load: { files: ['b'], status: 0 } });
  expect([interrupted.code, interrupted.ran]).toEqual([1, ['parallel']]);
  expect(interrupted.out).toContain('load not started (interrupted)');
  // a filter: a step with no matching file is skipped (and says so); no matching file at all fails
  const onlyLoad = fakeRun({ parallel: { files: [], status: 0 }, load: { files: ['b'], status: 0 } });
  expect([onlyLoad.code, onlyLoad.ran]).toEqual([0, ['load']]);
  expect(onlyLoad.out).toContain('parallel skipped: no test file matches');
  const none = fakeRun({ parallel: { files: [], status: 0 }, load: { files: [], status: 0 } });
  expect([none.code, none.ran]).toEqual([1, []]);
});
