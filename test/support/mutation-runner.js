// The jest test runner of the mutation run (jest.mutation.config.js, docs/mutation.md): jest's own runner, which
// under Stryker (one process, test files in band) stops starting test files once a test has killed the active
// mutant (mutation-setup.ts leaves the mark). Stryker's jest runner forces jest's `bail` off, and a file that is
// started costs its imports (the whole service, in a module registry of its own) even when it runs no test: with
// dozens of files covering a mutant, that was most of each killed mutant's time.
const fs = require('node:fs');
const path = require('node:path');
const TestRunner = require('jest-runner').default;

class MutationRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (!options.serial || mutant === undefined) return super.runTests(tests, watcher, options);
    const killedMark = path.join(process.cwd(), `.mutation-killed-${mutant}`);
    // a mark already there is an earlier attempt's at this mutant (Stryker retries a mutant whose runner died, e.g.
    // restarted for its memory): run its tests again, or the retry runs none and the mutant counts as survived
    fs.rmSync(killedMark, { force: true });
    for (const test of tests) {
      if (fs.existsSync(killedMark)) return;
      await super.runTests([test], watcher, options);
    }
  }
}

module.exports = MutationRunner;
