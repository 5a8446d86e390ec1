// Mutation testing of src/domain, src/http and src/store (docs/mutation.md): `npm run mutation`, not in CI.
// One folder: npx stryker run --mutate 'src/store/**/*.ts'
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // not --findRelatedTests: jest.config.js's roots is test/, so jest's dependency graph does not hold src/ and finds
  // no test related to a file under src/ but those importing it directly; a mutant of code reached through the HTTP
  // API then ran no test at all and counted as survived (transactions.ts: 0 of 106 killed). perTest coverage and
  // test/support/mutation-sequencer.js already narrow each mutant's run to the files of its covering tests.
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  mutate: ['src/domain/**/*.ts', 'src/http/**/*.ts', 'src/store/**/*.ts'],
  // per-test coverage: a mutant runs only the tests that reach it
  coverageAnalysis: 'perTest',
  // static mutants (module-level code: SQL migration text, zod schemas, the OpenAPI document, route tables) run when
  // a module loads, so no test can be told apart for them and each would need every test: ~3.5 min per mutant here.
  // They are reported as Ignored and left out of the score (docs/mutation.md).
  ignoreStatic: true,
  // the machine has 2 cores; each test runner has its own Redis, Redis Cluster and PostgreSQL
  concurrency: 2,
  // a new test runner process (and servers) after this many mutants: a runner keeps what each mutant's jest run
  // loaded (~15 MB a test file, estimated; a survivor of the service's set-up loads ~90 files), and one near node's
  // heap limit (4 GB after ~60 mutants) was seen at 172 % CPU, mostly GC
  maxTestRunnerReuse: 10,
  // a bigger young generation: each mutant's run loads the whole service into a new module registry per test file,
  // garbage the default 16 MB semi-space collects over and over
  testRunnerNodeArgs: ['--max-semi-space-size=64'],
  // a mutant that makes the tests hang (a loop that never ends, an await that never settles) times out
  // (generous: a mutant's run also loads each covering test file, which the per-test times do not include)
  timeoutMS: 90000,
  timeoutFactor: 2,
  // the initial run is every selected test file, one at a time, on a shared machine
  dryRunTimeoutMinutes: 40,
  // only mutants whose code or tests changed since the last run are run again (the file is kept locally, not committed)
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // survivor-log (test/support/mutation-survivor-log.mjs): survivors as they are found, in reports/mutation/survivors.jsonl
  plugins: ['@stryker-mutator/*', './test/support/mutation-survivor-log.mjs'],
  reporters: ['clear-text', 'progress', 'html', 'json', 'survivor-log'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'data', 'coverage', 'reports'],
  cleanTempDir: 'always',
};
