// What one test file leaves behind: temp directories and child processes, removed and killed after its tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Scratch {
  /** a new empty directory under the system temp dir, removed after the file's tests */
  tempDir(): string;
  /** a directory made elsewhere, removed after the file's tests */
  keepTidy(dir: string): string;
  /** a child process, killed after the file's tests (if still running) */
  track<T extends { kill(): Promise<void> }>(proc: T): T;
}

/** Registers the clean-up (an afterAll) in the calling test file. */
export function scratch(prefix: string): Scratch {
  const dirs: string[] = [];
  const procs: { kill(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    keepTidy: (dir) => {
      dirs.push(dir);
      return dir;
    },
    track: (proc) => {
      procs.push(proc);
      return proc;
    },
  };
}
