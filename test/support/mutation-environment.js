// The jest test environment of the mutation run (jest.mutation.config.js, docs/mutation.md): jest's node environment,
// plus one thing for Stryker's per-test coverage. Stryker's jest plugin names the running test only from test_start
// to test_done, so code that runs in a beforeAll hook (most test files build the service there: app, CORS, auth,
// routes) counted as covered by no test, and its mutants were run only with the tests that happened to reach the
// same code again inside a test: mutants of the service's set-up survived although the file that sets it up would
// kill them. Here a beforeAll's coverage goes to every test of the hook's describe block (nested blocks included),
// whose run repeats the hook.
const { TestEnvironment } = require('jest-environment-node');

/** What Stryker's jest plugin calls a test (mixin-jest-environment.cjs): its describe blocks' names and its own. */
function fullName(test) {
  const names = [];
  for (let block = test.parent; block?.parent; block = block.parent) names.unshift(block.name);
  return [...names, test.name].join(' ').trimStart();
}

function testsUnder(block) {
  return block.children.flatMap((child) => (child.type === 'test' ? [child] : testsUnder(child)));
}

const HOOK_TEST_ID = '(a beforeAll hook of the mutation run)';

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    await super.handleTestEvent?.(event, state);
    const stryker = this.global.__stryker__;
    if (!stryker?.mutantCoverage || !('hook' in event) || event.hook.type !== 'beforeAll') return;
    if (event.name === 'hook_start') {
      stryker.currentTestId = HOOK_TEST_ID;
    } else if (event.name === 'hook_success' || event.name === 'hook_failure') {
      stryker.currentTestId = undefined;
      const covered = stryker.mutantCoverage.perTest[HOOK_TEST_ID];
      delete stryker.mutantCoverage.perTest[HOOK_TEST_ID];
      if (!covered) return;
      for (const test of testsUnder(event.hook.parent)) {
        const perTest = (stryker.mutantCoverage.perTest[fullName(test)] ??= {});
        for (const [mutant, hits] of Object.entries(covered)) perTest[mutant] = (perTest[mutant] ?? 0) + hits;
      }
    }
  }
}

module.exports = MutationEnvironment;
