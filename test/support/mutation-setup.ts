// setupFilesAfterEnv of the mutation run (jest.mutation.config.js); outside Stryker it does nothing.
// - Stryker's initial test run: records which test file each test lives in, for mutation-sequencer.js.
// - A mutant's run: once a test has failed under the active mutant, this leaves a mark, and mutation-runner.js
//   starts no further test file (Stryker's jest runner forces jest's bail off). A mutant is killed by its first
//   failing test; the rest cannot change that.
import fs from 'node:fs';
import path from 'node:path';

/** As mutation-sequencer.js reads them: in Stryker's sandbox (the working directory), shared by the test runners. */
const TEST_FILES_RECORD = path.join(process.cwd(), '.mutation-test-files.jsonl');
const KILLS_RECORD = path.join(process.cwd(), '.mutation-kills.jsonl');

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
  // the mark, and which test file killed the mutant (the sequencer tries it first for the mutants next to this one)
  const markKilled = () => {
    if (fs.existsSync(killedMark)) return;
    fs.writeFileSync(killedMark, '');
    fs.appendFileSync(KILLS_RECORD, `${JSON.stringify({ mutant: activeMutant, file: expect.getState().testPath })}\n`);
  };
  const g = globalThis as unknown as Record<string, unknown>;
  // the test body running now, until it settles: one still unsettled in afterEach was failed by jest's timeout
  let unsettled: unknown;
  // a test body that throws, rejects or times out leaves the mark (a test taking a done callback is left as it is);
  // once the mark is there, the file's later tests fail at once instead of running (a mutant that hangs every
  // request would otherwise cost each later test its whole timeout, and the file Stryker's timeout)
  const marking = (fn: unknown) =>
    typeof fn !== 'function' || fn.length > 0
      ? fn
      : async function markingTest(this: unknown, ...args: unknown[]) {
          if (fs.existsSync(killedMark)) throw new Error('mutant already killed by an earlier test');
          const body = {};
          unsettled = body;
          try {
            return await (fn as TestFn).apply(this, args);
          } catch (err) {
            markKilled();
            throw err;
          } finally {
            if (unsettled === body) unsettled = undefined;
          }
        };
  afterEach(() => {
    if (unsettled === undefined) return;
    unsettled = undefined;
    markKilled();
  });
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
