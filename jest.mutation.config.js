/**
 * The jest configuration of the mutation run (stryker.config.mjs, docs/mutation.md): jest.config.js with the tests
 * that exercise src/domain, src/http and src/store in this process. Left out, as they cannot see a mutant or cost
 * too much per mutant: tests that spawn the CLI or other node processes (the mutant lives only in this process),
 * benchmarks and on-sale runs, Redis Cluster / Sentinel / TLS tests, Redis restart and outage tests, and the
 * stadium-sized load tests. The global setup starts a Redis and a PostgreSQL once per Stryker test runner.
 */
// jest.config.js holds two projects (npm test's steps); the mutation run is one plain configuration built from the
// settings they share, with every test file of either step not left out below
const path = require('node:path');
const { projects, ...shared } = require('./jest.config');
const { displayName: _name, testPathIgnorePatterns: _ignored, ...base } = { ...shared, ...projects[0], testMatch: ['**/*.test.ts'] };

const LEFT_OUT = [
  // spawn the CLI, a built dist/ or another node process (archive and rehydrate stay: one test of each runs the CLI,
  // the others the archive and the rehydrate in this process)
  'api-workers', 'cli-commands', 'cli-stop', 'client-package', 'compose', 'metrics-port', 'readme-walkthrough',
  'tools-boundary', 'writer-process', 'store-sqlite-processes', 'test-steps', 'taken-ports',
  // benchmarks, on-sale runs
  'bench', 'bench-season', 'onsale', 'onsale-cluster',
  // Redis Cluster, Sentinel, TLS (the mutation run starts a single redis-server)
  'cluster', 'cluster-failover', 'cluster-migration', 'redis-sentinel', 'redis-tls',
  // Redis or PostgreSQL restarts and outages, replication waits
  'redis-data-loss', 'redis-failure', 'redis-role-swap', 'redis-wait', 'writer-outage', 'writer-redis-restart',
  // load: stadium-sized venues, memory model, idle cost
  'memory-model', 'scripts-index', 'scripts-large', 'scripts-stadium-fragmented', 'scripts-stadium-lapsed',
  'scripts-stadium-random', 'scripts-index-expiry', 'writer-idle-cost', 'writer-load',
];

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/', ...LEFT_OUT.map((name) => `/test/${name}\\.test\\.ts$`)],
  // a beforeAll's coverage counts for the tests under it (Stryker's per-test coverage leaves it to no test); a path,
  // as Stryker's jest plugin loads the environment itself, without jest's <rootDir>
  testEnvironment: path.join(__dirname, 'test/support/mutation-environment.js'),
  globalSetup: '<rootDir>/test/support/mutation-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/mutation-global-teardown.ts',
  // a mutant's tests only, and bail once one failed: see the two files
  setupFilesAfterEnv: [...(base.setupFilesAfterEnv ?? []), '<rootDir>/test/support/mutation-setup.ts'],
  testSequencer: '<rootDir>/test/support/mutation-sequencer.js',
  // stops starting test files once the mutant is killed
  runner: '<rootDir>/test/support/mutation-runner.js',
};
