// The service never loads the tools (tools/: the on-sale harness, the benchmark). No file under src/ imports from
// tools/ except src/cli.ts's lazy import() of the on-sale harness, which only `tixlock onsale` runs; a `tixlock api`
// that started and served a request has loaded no module under tools/, and `tixlock onsale --help` has.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { BASE_ENV, KEYS, testRedisUrl } from './support/app';
import { exitWithin, httpCall, REPO, spawnCli, waitForBanner } from './support/spawn';

const inTools = (file: string, root = REPO) => file.startsWith(`${path.join(root, 'tools')}${path.sep}`);
const relative = (file: string, root = REPO) => path.relative(root, file).split(path.sep).join('/');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return /\.(ts|js|cjs|mjs)$/.test(e.name) ? [file] : [];
  });
}

interface ModuleReference {
  file: string;
  specifier: string;
  /** import / export ... from (static), import() (lazy), require() */
  kind: 'static' | 'import()' | 'require()';
}

/** Every module a file names: import and export declarations, import x = require(), import() and require() calls. */
function referencesOf(file: string, root: string): ModuleReference[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: ModuleReference[] = [];
  const add = (node: ts.Node | undefined, kind: ModuleReference['kind']) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ file: relative(file, root), specifier: node.text, kind });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier, 'static');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, 'static');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'import()');
    else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node.arguments[0], 'require()');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'static');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The references of the files under `root`/src that lead into `root`/tools (relative paths; tools is no package). */
function srcReferencesToTools(root = REPO): ModuleReference[] {
  return sourceFiles(path.join(root, 'src'))
    .flatMap((file) => referencesOf(file, root))
    .filter((r) => r.specifier.startsWith('.') && inTools(path.resolve(root, path.dirname(r.file), r.specifier), root));
}

test('no file under src/ imports from tools/, except the lazy import() of the on-sale harness in src/cli.ts', () => {
  expect(srcReferencesToTools()).toEqual([{ file: 'src/cli.ts', specifier: '../tools/onsale/onsale', kind: 'import()' }]);
});

test('the scan finds what it looks for: a static import, an export from, a require(), another import()', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-boundary-scan-'));
  try {
    fs.mkdirSync(path.join(root, 'src', 'http'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'src', 'http', 'probe.ts'),
      [
        "import { HELP } from '../../tools/onsale/options';",
        "export { runBench } from '../../tools/bench/bench';",
        "const venue = require('../../tools/common/venue');",
        "const later = () => import('../../tools/bench/report');",
        "import { loadConfig } from '../config';",
      ].join('\n'),
    );
    expect(srcReferencesToTools(root).map((r) => [r.file, r.kind, r.specifier])).toEqual([
      ['src/http/probe.ts', 'static', '../../tools/onsale/options'],
      ['src/http/probe.ts', 'static', '../../tools/bench/bench'],
      ['src/http/probe.ts', 'require()', '../../tools/common/venue'],
      ['src/http/probe.ts', 'import()', '../../tools/bench/report'],
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

describe('the modules a tixlock process loads', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-boundary-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const PRELOAD = path.join(__dirname, 'support', 'loaded-modules.ts');
  const loadedTools = (file: string) => (JSON.parse(fs.readFileSync(file, 'utf8')) as string[]).filter((f) => inTools(f)).map((f) => relative(f));

  test('tixlock api, started and serving: nothing under tools/', async () => {
    const list = path.join(dir, 'api.json');
    const env = { ...BASE_ENV, REDIS_URL: testRedisUrl(), HOST: '127.0.0.1', PORT: '0', DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' };
    const api = spawnCli(['api'], { ...env, LOADED_MODULES_FILE: list }, [PRELOAD]);
    try {
      const { port } = await waitForBanner(api, 30_000);
      expect((await httpCall(port, 'GET', '/performances/boundary-none', KEYS.admin)).status).toBe(404);
      api.child.kill('SIGTERM');
      await exitWithin(api, 20_000, 'tixlock api after SIGTERM');
    } finally {
      await api.kill();
    }
    expect(loadedTools(list)).toEqual([]);
  }, 60_000);

  test('tixlock onsale --help: the on-sale harness, loaded when asked for', async () => {
    const list = path.join(dir, 'onsale.json');
    const onsale = spawnCli(['onsale', '--help'], { LOADED_MODULES_FILE: list }, [PRELOAD]);
    expect(await exitWithin(onsale, 30_000, 'tixlock onsale --help')).toEqual({ code: 0, signal: null });
    expect(onsale.stdout()).toMatch(/^usage: tixlock onsale/);
    expect(loadedTools(list)).toEqual(expect.arrayContaining(['tools/onsale/onsale.ts', 'tools/onsale/options.ts']));
  }, 60_000);
});
