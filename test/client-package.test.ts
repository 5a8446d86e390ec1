// `tixlock/client` as another project gets it: the build config emits the client with its declarations, the
// package's `exports` name it, a TypeScript consumer type-checks against it (node16 and node10 resolution),
// requiring it loads only the client's own files, and the client example of README.md type-checks and runs
// against a real tixlock. The client is built with tsconfig.build.json's options into a temporary directory (only
// the client's files, to keep this quick); `main` and the bin still name the CLI.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KEYS, putPerformance, startTestApp, uniqueId } from './support/app';
import { REPO } from './support/spawn';

const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  main: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
};

let dir: string;
let consumer: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-client-package-'));
  const installed = path.join(dir, 'node_modules', 'tixlock');
  fs.mkdirSync(installed, { recursive: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(installed, 'package.json'));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.build-client.json'),
    JSON.stringify({
      extends: path.join(REPO, 'tsconfig.build.json'),
      // typeRoots: a config elsewhere would look for @types next to itself
      compilerOptions: { rootDir: REPO, outDir: path.join(installed, 'dist'), typeRoots: [path.join(REPO, 'node_modules', '@types')] },
      files: [path.join(REPO, 'src', 'client', 'index.ts')],
      include: [],
    }),
  );
  execFileSync(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.build-client.json')], { cwd: REPO, stdio: 'pipe' });
  // what the consumer's own install would hold for the client's types: zod (a dependency) and Node's types
  for (const dep of ['zod', '@types/node', 'undici-types']) {
    const from = path.join(REPO, 'node_modules', dep);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', dep)), { recursive: true });
    fs.symlinkSync(from, path.join(dir, 'node_modules', dep), 'dir');
  }
  consumer = path.join(dir, 'consumer');
  fs.mkdirSync(consumer);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the build config compiles the client and emits its declarations', () => {
  const config = JSON.parse(execFileSync(process.execPath, [TSC, '-p', 'tsconfig.build.json', '--showConfig'], { cwd: REPO, encoding: 'utf8' })) as {
    compilerOptions: { declaration?: boolean };
    files: string[];
  };
  expect(config.compilerOptions.declaration).toBe(true);
  expect(config.files).toContain('./src/client/index.ts');
});

test('package.json: main and the bin still name the CLI; ./client names the built client and its types', () => {
  expect(pkg.main).toBe('dist/src/cli.js');
  expect(pkg.bin).toEqual({ tixlock: 'dist/src/cli.js' });
  expect(pkg.exports['.']).toBe('./dist/src/cli.js');
  expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
});

test('requiring tixlock/client gives the client and loads only its own files', () => {
  const script = [
    'const before = new Set(Object.keys(require.cache));',
    "const { TixlockClient, TixlockError } = require('tixlock/client');",
    "new TixlockClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });",
    'console.log(JSON.stringify({ error: typeof TixlockError, added: Object.keys(require.cache).filter((f) => !before.has(f)) }));',
  ].join('\n');
  const run = spawnSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  const out = JSON.parse(run.stdout) as { error: string; added: string[] };
  const installed = path.join(dir, 'node_modules', 'tixlock');
  expect(out.error).toBe('function');
  expect(out.added.map((f) => path.relative(installed, f)).sort()).toEqual(
    ['client.js', 'errors.js', 'index.js', 'retry.js', 'transport.js'].map((f) => path.join('dist', 'src', 'client', f)),
  );
});

test.each(['node16', 'node10'])('a TypeScript consumer type-checks against tixlock/client (moduleResolution %s)', (resolution) => {
  fs.writeFileSync(
    path.join(consumer, 'use.ts'),
    [
      "import { TixlockClient, TixlockError, type ErrorCode, type Transaction } from 'tixlock/client';",
      "const api = new TixlockClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'key', retries: 1 });",
      "export const held: Promise<Transaction> = api.holdBest({ performance_id: 'p', quantity: 2 });",
      "export const code: ErrorCode = 'TICKETS_UNAVAILABLE';",
      "// @ts-expect-error not a code of the API",
      "export const wrong: ErrorCode = 'NO_SUCH_CODE';",
      "// @ts-expect-error quantity is a number",
      "export const typed = api.searchTickets({ performance_id: 'p', quantity: '2' });",
      'export const isError = (e: unknown) => e instanceof TixlockError && e.status === 409;',
    ].join('\n'),
  );
  const module = resolution === 'node16' ? 'node16' : 'commonjs';
  const run = spawnSync(
    process.execPath,
    [TSC, '--noEmit', '--strict', '--skipLibCheck', '--types', 'node', '--module', module, '--moduleResolution', resolution, '--target', 'es2022', 'use.ts'],
    { cwd: consumer, encoding: 'utf8' },
  );
  expect({ status: run.status, out: run.stdout }).toEqual({ status: 0, out: '' });
});

describe('the client example in README.md', () => {
  const doc = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /<!-- client example: start -->\n```ts\n([\s\S]*?)```\n<!-- client example: end -->/.exec(doc);
  const example = block?.[1] ?? '';

  test('is there, about ten lines', () => {
    expect(example).toMatch(/from 'tixlock\/client'/);
    expect(example.trim().split('\n').length).toBeLessThanOrEqual(14);
  });

  test('type-checks as an ES module', () => {
    fs.writeFileSync(path.join(consumer, 'readme.mts'), example);
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--types', 'node', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', 'readme.mts'];
    const run = spawnSync(process.execPath, [TSC, ...args], { cwd: consumer, encoding: 'utf8' });
    expect({ status: run.status, out: run.stdout }).toEqual({ status: 0, out: '' });
  });

  test('runs: it sells two tickets and prints the order number', async () => {
    const t = await startTestApp();
    const server: Server = t.app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const performanceId = uniqueId('readme');
      await putPerformance(t, performanceId, [1, 2, 3].map((seat) => ({ id: `${performanceId}-${seat}`, row: 'A', seat, price: 5000 })));
      // the example as written, pointed at this tixlock and this performance (its code is plain JavaScript)
      const script = example.replace("'http://127.0.0.1:3000'", JSON.stringify(url)).replace("'jersey-boys-fri'", JSON.stringify(performanceId));
      fs.writeFileSync(path.join(consumer, 'readme.mjs'), script);
      // asynchronously: this process serves the example's requests meanwhile
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const env = { PATH: process.env.PATH ?? '', TIXLOCK_KEY: KEYS.alice };
        execFile(process.execPath, ['readme.mjs'], { cwd: consumer, env, timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^order [0-9A-Z]{1,12}\n$/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    }
  });
});
