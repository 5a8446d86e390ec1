// The OpenAPI document (src/http/openapi.ts): the committed openapi.json is what the code generates, the service
// serves it without a key, it is valid OpenAPI 3.1 (checked by @seriousme/openapi-schema-validator, shown to reject
// a broken document) with schemas that compile as JSON Schema 2020-12, it lists exactly the routes Express serves,
// and docs/api.md's tables agree with it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import { ERRORS } from '../src/http/errors';
import { openApiDocument } from '../src/http/openapi';
import { OPENAPI_FILE, openApiText } from '../src/http/openapi-file';
import { OPERATIONS } from '../src/http/operations';
import { useTestApp } from './support/app';
import { innerApp } from './support/contract';

const ROOT = path.resolve(__dirname, '..');
type Json = Record<string, unknown>;
const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };

/** Runs the OpenAPI validator (an ES module, so in its own node process) on a document. */
function validateOpenApi(document: unknown): { valid: boolean; version: string; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    import { readFileSync } from 'node:fs';
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(readFileSync(0, 'utf8')));
    process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, input: JSON.stringify(document), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`validator failed to run: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('the committed openapi.json', () => {
  test('is what the code generates (run `npm run openapi` after changing the contract)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText());
  });
});

describe('GET /openapi.json', () => {
  const t = useTestApp();

  test('serves the document without a key', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(openApiText()));
  });
});

describe('validity', () => {
  test('the document is valid OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(validateOpenApi(doc)).toEqual({ valid: true, version: '3.1' });
  });

  test('the validator rejects a broken 3.1 document (a response without its description, an unknown member)', () => {
    const broken = structuredClone(doc);
    delete (broken.paths['/tickets']?.get?.responses as Record<string, Json>)['200']?.description;
    expect(validateOpenApi(broken)).toMatchObject({ valid: false, version: '3.1' });
    const extra = structuredClone(doc) as Json;
    extra.surprise = true;
    expect(validateOpenApi(extra)).toMatchObject({ valid: false });
  });

  test('every schema compiles as JSON Schema 2020-12 in strict mode, and every $ref resolves', () => {
    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    ajv.addVocabulary(['openapi', 'info', 'paths', 'components', 'tags', 'security']);
    ajv.addSchema({ ...doc, $id: 'doc' });
    const names = Object.keys(doc.components.schemas);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(ajv.getSchema(`doc#/components/schemas/${name}`)).toEqual(expect.any(Function)); // throws when invalid
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(100);
    for (const [, kind, name] of refs) expect(Object.keys((doc.components as Record<string, Json>)[kind as string] ?? {})).toContain(name);
  });

  test('operation ids are unique, and every operation declares 500 and its success', () => {
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item)) as { operationId: string; responses: Json }[];
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
    for (const op of ops) expect(Object.keys(op.responses)).toContain('500');
    expect(ops.length).toBe(OPERATIONS.length);
  });
});

describe('the routes Express serves are the operations of the document', () => {
  const t = useTestApp();

  /** `METHOD /path/{}` of every route in an Express app (its router's stack, sub-routers included). */
  function routes(app: Express): string[] {
    const out: string[] = [];
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route) {
          for (const method of Object.keys(layer.route.methods)) out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:\w+/g, '{}')}`);
        } else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
    return out.sort();
  }

  test('the same method and path pairs, no more and no fewer', () => {
    const documented = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{\w+\}/g, '{}')}`).sort();
    expect(routes(innerApp(t.app))).toEqual(documented);
  });
});

describe('docs/api.md', () => {
  const text = readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
  /** The rows of the markdown table whose header row starts with `first`. */
  const table = (first: string): string[][] => {
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
    if (start < 0) throw new Error(`no table "${first}" in docs/api.md`);
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
    }
    return rows;
  };

  test('its error table lists every code with its status, and nothing else', () => {
    const rows = table('code').map(([code, status]) => [code?.replace(/`/g, ''), Number(status)]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])));
  });

  test("its error table names each code's details, and none for codes without", () => {
    for (const [code, , , details] of table('code')) {
      const spec = ERRORS[code?.replace(/`/g, '') as keyof typeof ERRORS] as { details?: Record<string, unknown> };
      const named = [...(details ?? '').matchAll(/^`(\w+)`|, `(\w+)`/g)].map((m) => m[1] ?? m[2]);
      expect({ code, details: named.sort() }).toEqual({ code, details: Object.keys(spec.details ?? {}).sort() });
    }
  });

  test('its endpoint table lists every operation (aliases under /transactions aside) with its role and status', () => {
    const rows = table('method and path').map(([route, role, answer]) => `${route?.replace(/`/g, '')} ${role} ${answer?.slice(0, 3)}`);
    const expected = OPERATIONS.filter((op) => !op.path.startsWith('/transactions')).map(
      (op) => `${op.method.toUpperCase()} ${op.path} ${op.role} ${op.success.status}`,
    );
    expect(rows.sort()).toEqual(expected.sort());
  });

  test('points to openapi.json', () => {
    expect(text).toContain('](../openapi.json)');
  });
});
