// setupFilesAfterEnv of the mutation run (jest.mutation.config.js); outside Stryker it does nothing.
// - Stryker's initial test run: records which test file each test lives in, for mutation-sequencer.js.
// - A mutant's run: bails out. Stryker's jest runner cannot pass jest's bail, so a killed mutant would still run
//   every covering test file (here often dozens, each starting a test app). Once a test has failed under the active
//   mutant, this leaves a mark, and the test files after it register no tests and no hooks (their imports still
//   load). A mutant is killed by its first failing test; the rest cannot change that.
import fs from 'node:fs';
import path from 'node:path';

/** As mutation-sequencer.js reads it: in Stryker's sandbox (the working directory). */
const TEST_FILES_RECORD = path.join(process.cwd(), '.mutation-test-files.jsonl');

const underStryker = process.env.STRYKER_MUTATOR_WORKER !== undefined;
const activeMutant = process.env.__STRYKER_ACTIVE_MUTANT__;

type TestFn = (...args: unknown[]) => unknown;

if (underStryker && activeMutant === undefined) {
  beforeEach(() => {
    const { currentTestName, testPath } = expect.getState();
    if (currentTestName && testPath) fs.appendFileSync(TEST_FILES_RECORD, `${JSON.stringify({ file: testPath, name: currentTestName })}\n`);
  });
} else if (underStryker && activeMutant !== undefined) {
  const killedMark = path.join(process.cwd(), `.mutation-killed-${activeMutant}`);
  const g = globalThis as unknown as Record<string, unknown>;
  if (fs.existsSync(killedMark)) {
    // already killed: this file registers none of its tests or hooks, only one placeholder that the mutant's test
    // name filter leaves out (jest fails a file with no test at all, and Stryker counts a failed file as a
    // RuntimeError, not a kill). The stand-ins are plain functions with the members test files use: a Proxy answering
    // every member broke jest's teardown of the globals ("Cannot convert object to primitive value"), which turned
    // 356 of the 544 store mutants of the first run into RuntimeErrors.
    const placeholder = g.test as TestFn;
    const nothing = function nothing() {} as unknown as TestFn & Record<string, unknown>;
    for (const member of ['only', 'skip', 'todo', 'concurrent', 'failing']) nothing[member] = nothing;
    nothing.each = () => nothing;
    for (const name of ['describe', 'test', 'it', 'beforeAll', 'afterAll', 'beforeEach', 'afterEach']) g[name] = nothing;
    placeholder('(mutation run: an earlier test file killed this mutant)', () => undefined);
  } else {
    // a test body that throws or rejects leaves the mark (a test taking a done callback is left as it is)
    const marking = (fn: unknown) =>
      typeof fn !== 'function' || fn.length > 0
        ? fn
        : async function markingTest(this: unknown, ...args: unknown[]) {
            try {
              return await (fn as TestFn).apply(this, args);
            } catch (err) {
              fs.writeFileSync(killedMark, '');
              throw err;
            }
          };
    const wrap = (register: TestFn): TestFn =>
      new Proxy(register, {
        apply: (target, self, [name, fn, ...rest]: unknown[]) => Reflect.apply(target, self, [name, marking(fn), ...rest]),
        get: (target, key) => {
          const member = Reflect.get(target, key) as unknown;
          if (key === 'each' && typeof member === 'function') {
            return (...table: unknown[]) => {
              const bound = (member as TestFn).apply(target, table) as TestFn;
              return (name: unknown, fn: unknown, ...rest: unknown[]) => bound(name, marking(fn), ...rest);
            };
          }
          if (key === 'only' && typeof member === 'function') return wrap(member as TestFn);
          return member;
        },
      });
    g.test = wrap(g.test as TestFn);
    g.it = wrap(g.it as TestFn);
  }
}
