/**
 * Jest runs TypeScript through swc; `npm run typecheck` is the type check.
 *
 * Two projects, which `npm test` runs as two steps (test/support/run-test-steps.js; docs/testing.md): "parallel",
 * every test file but the load tests, on parallel workers; then "load", the load tests (test/support/load-tests.js)
 * one file at a time. Each step starts and stops its own servers (globalSetup, globalTeardown).
 * `npx jest test/<file>` runs one file in whichever project holds it. test/test-steps.test.ts checks that every
 * test file is in exactly one project.
 */
const LOAD_TESTS = require('./test/support/load-tests');

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  maxWorkers: 2,
  testTimeout: 30000, // a global option: in a project's config jest ignores it
  projects: [
    {
      ...common,
      displayName: 'parallel',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...LOAD_TESTS.map((file) => `^<rootDir>/${escapeRegExp(file)}$`)],
    },
    { ...common, displayName: 'load', testMatch: LOAD_TESTS.map((file) => `<rootDir>/${file}`) },
  ],
};
