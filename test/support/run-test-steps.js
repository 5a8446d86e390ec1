// `npm test`: the jest projects of jest.config.js as two steps. First "parallel" (every test file but the load
// tests, on parallel workers), then "load" (test/support/load-tests.js) one file at a time (--runInBand), so the
// load tests never compete for CPU with the timing-sensitive suites. The load step runs even when the first step
// failed (its results are worth having), and npm test fails when either step failed. Arguments are passed to both
// steps (`npm test -- test/expiry` runs the files that match, in whichever step holds them); a step none of whose
// files match is said to be skipped; matching no file at all is a failure, as it is for jest.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const jestBin = path.join(root, 'node_modules/jest/bin/jest.js');
const STEPS = [
  { project: 'parallel', flags: [] },
  { project: 'load', flags: ['--runInBand'] },
];

// --selectProjects takes every word after it as a project name: it comes last

/** The test files of a project that the arguments select, as jest lists them. */
function listTests(project, args) {
  const out = spawnSync(process.execPath, [jestBin, ...args, '--listTests', '--json', '--selectProjects', project], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) throw new Error(`jest --listTests (${project}) exited with ${out.status}`);
  return JSON.parse(out.stdout);
}

/** Runs one step; its exit status and signal. */
function runJest(project, flags, args) {
  const run = spawnSync(process.execPath, [jestBin, ...args, ...flags, '--selectProjects', project], { cwd: root, stdio: 'inherit' });
  return { status: run.status, signal: run.signal };
}

/** Runs the steps in order; the exit code for npm test (0 only when every step that had files passed). */
function runSteps(args, io = { listTests, runJest, write: (s) => process.stdout.write(s) }) {
  const results = [];
  for (const step of STEPS) {
    const files = io.listTests(step.project, args);
    if (files.length === 0) {
      results.push({ project: step.project, outcome: 'skipped: no test file matches' });
      continue;
    }
    if (args.includes('--listTests')) {
      io.write(`${step.project}:\n${files.map((f) => `  ${path.relative(root, f)}`).join('\n')}\n`);
      results.push({ project: step.project, outcome: `${files.length} files listed`, ok: true });
      continue;
    }
    io.write(`\n== npm test, step "${step.project}": ${files.length} test files\n`);
    const run = io.runJest(step.project, step.flags, args);
    const ok = run.status === 0;
    results.push({ project: step.project, outcome: ok ? 'passed' : `FAILED (exit ${run.status ?? run.signal})`, ok });
    if (run.signal === 'SIGINT' || run.signal === 'SIGTERM') break; // interrupted: the next step is not started
  }
  const notStarted = STEPS.slice(results.length).map((s) => `${s.project} not started (interrupted)`);
  io.write(`\n== npm test: ${[...results.map((r) => `${r.project} ${r.outcome}`), ...notStarted].join('; ')}\n`);
  const ran = results.filter((r) => r.ok !== undefined);
  return notStarted.length === 0 && ran.length > 0 && ran.every((r) => r.ok) ? 0 : 1;
}

module.exports = { STEPS, listTests, runSteps };

if (require.main === module) process.exitCode = runSteps(process.argv.slice(2));
