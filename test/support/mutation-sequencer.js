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
/** One JSON line per killed mutant: { mutant, file } (the test file that killed it), from mutation-setup.ts. */
const KILLS_RECORD = path.join(process.cwd(), '.mutation-kills.jsonl');
/** Where Stryker's instrumented code marks a mutant: its id */
const MUTANT_ID = /stryMutAct_\w+\("(\d+)"\)/g;

/** @type {Map<string, string> | undefined} mutant id -> the instrumented source file that holds it */
let sourceOfMutant;

/** The sandbox's instrumented sources, read once: Stryker numbers the mutants file by file, in source order. */
function readSources() {
  if (sourceOfMutant) return sourceOfMutant;
  sourceOfMutant = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        for (const [, id] of fs.readFileSync(full, 'utf8').matchAll(MUTANT_ID)) sourceOfMutant.set(id, full);
      }
    }
  };
  const src = path.join(process.cwd(), 'src');
  if (fs.existsSync(src)) walk(src);
  return sourceOfMutant;
}

/**
 * Test file -> how far (in mutant ids) the nearest mutant it killed lies from `mutant`, over the mutants of the same
 * source file killed so far by either test runner. Neighbouring mutants (the same expression, line, function) are
 * mostly killed by the same test file, which may be far down the quickest-first order.
 */
function killersNear(mutant) {
  if (!fs.existsSync(KILLS_RECORD)) return new Map();
  const sources = readSources();
  const source = sources.get(mutant);
  const distance = new Map();
  if (source === undefined) return distance;
  for (const line of fs.readFileSync(KILLS_RECORD, 'utf8').split('\n')) {
    if (!line) continue;
    const kill = JSON.parse(line);
    if (!kill.file || sources.get(kill.mutant) !== source) continue;
    const d = Math.abs(Number(kill.mutant) - Number(mutant));
    if (!(distance.get(kill.file) <= d)) distance.set(kill.file, d);
  }
  return distance;
}

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
    const ordered = this.quickestFirst(wanted);
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) return ordered;
    // the files that killed this mutant's nearest neighbours first, nearest first; then the rest as they were
    const near = killersNear(mutant);
    const first = ordered.filter((test) => near.has(test.path)).sort((a, b) => near.get(a.path) - near.get(b.path));
    return [...first, ...ordered.filter((test) => !near.has(test.path))];
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
