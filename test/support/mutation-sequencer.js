// The test sequencer of the mutation run (jest.mutation.config.js). Stryker's jest runner runs a mutant's tests as a
// test name pattern over every related test file, and jest loads each of those files (the whole service, in a
// module registry of its own) only to find most of its tests filtered out: with this service, ~45 files per mutant.
// This sequencer keeps only the files that hold a test the pattern names, from the record mutation-test-names.ts
// made in Stryker's initial test run. No pattern, or no record: every file, as jest would.
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/** One JSON line per test of the initial run: { file, name }, in Stryker's sandbox (the working directory). */
const TEST_FILES_RECORD = path.join(process.cwd(), '.mutation-test-files.jsonl');

/** @type {Map<string, string[]> | undefined} test file -> the full names of its tests */
let namesByFile;

function readRecord() {
  if (namesByFile) return namesByFile;
  if (!fs.existsSync(TEST_FILES_RECORD)) return undefined;
  const map = new Map();
  for (const line of fs.readFileSync(TEST_FILES_RECORD, 'utf8').split('\n')) {
    if (!line) continue;
    const { file, name } = JSON.parse(line);
    map.set(file, [...(map.get(file) ?? []), name]);
  }
  namesByFile = map;
  return map;
}

class MutationSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.testNamePattern = options?.globalConfig?.testNamePattern;
  }

  sort(tests) {
    const record = this.testNamePattern ? readRecord() : undefined;
    if (!record) return super.sort(tests);
    const pattern = new RegExp(this.testNamePattern, 'i'); // as jest matches it
    const wanted = tests.filter((test) => (record.get(test.path) ?? []).some((name) => pattern.test(name)));
    return this.quickestFirst(wanted);
  }

  // jest runs the slowest files first (to keep its workers busy to the end); a mutant's run stops at its first
  // failing file (mutation-runner.js), so here the file that failed last, then the quickest, then the smallest go
  // first: a kill costs the files before it
  quickestFirst(tests) {
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    for (const test of tests) test.duration = this.time(test);
    return tests.sort((a, b) => {
      const failed = Number(this.hasFailed(b)) - Number(this.hasFailed(a));
      if (failed !== 0) return failed;
      if ((a.duration == null) !== (b.duration == null)) return a.duration == null ? 1 : -1;
      if (a.duration != null && b.duration != null && a.duration !== b.duration) return a.duration - b.duration;
      return size(a) - size(b);
    });
  }
}

module.exports = MutationSequencer;
