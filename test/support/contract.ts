// The wire contract as a test oracle: every answer a test app sends (startTestApp wraps each app with checkedApp)
// is checked against the OpenAPI document the code generates — status declared for the operation, required headers,
// a JSON body that ends with a newline and validates (ajv, JSON Schema 2020-12) — and a test that got an answer
// outside the contract fails in its afterEach. contractProblems() is the check itself (test/contract-check.test.ts
// shows that it fails on answers that break the contract).
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import express, { type Express, type Response } from 'express';
import { openApiDocument } from '../../src/http/openapi';

type Json = Record<string, unknown>;

export interface Answer {
  method: string;
  /** the request path as sent, without the query string */
  path: string;
  status: number;
  /** header names in any letter case */
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

const DOC_ID = 'openapi.json';
const doc = openApiDocument() as { paths: Record<string, Record<string, Json>>; components: { headers: Record<string, Json> } };
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addVocabulary(['openapi', 'info', 'paths', 'components', 'tags', 'security']); // the document's own members
ajv.addSchema({ ...doc, $id: DOC_ID });

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
const validators = new Map<string, ValidateFunction>();
function validator(...parts: string[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer(...parts)}`;
  let v = validators.get(ref);
  if (!v) {
    v = ajv.getSchema(ref);
    if (!v) throw new Error(`no schema at ${ref}`);
    validators.set(ref, v);
  }
  return v;
}

/** Paths as Express matches them: case-insensitive, a trailing slash allowed, a parameter is one segment. */
const templates = Object.keys(doc.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
}));

/**
 * Answers to requests no operation serves: authentication runs before routing (401 without a valid key), then the
 * fallback route (404 NOT_FOUND). The document cannot state "any other path"; docs/api.md does.
 */
const UNROUTED: Record<number, string> = { 401: 'ErrorUnauthenticated', 404: 'ErrorNotFound' };

/** What in the answer breaks the contract; empty when nothing does. OPTIONS (CORS preflight) is not an operation. */
export function contractProblems(answer: Answer): string[] {
  const method = answer.method.toLowerCase();
  if (method === 'options') return [];
  const problems: string[] = [];
  const headers = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k.toLowerCase(), v === undefined ? undefined : String(v)]));
  const matched = templates.find((t) => t.pattern.test(answer.path));
  const item = matched ? doc.paths[matched.template] : undefined;
  // HEAD of a GET route is served by the GET handler, without a body
  const opMethod = item?.[method] ? method : method === 'head' && item?.get ? 'get' : undefined;
  const where = matched && opMethod ? `${answer.method.toUpperCase()} ${matched.template}` : `${answer.method.toUpperCase()} ${answer.path} (no operation)`;

  let responsePath: string[] | undefined;
  let response: Json | undefined;
  if (matched && opMethod) {
    const responses = (item?.[opMethod] as { responses: Record<string, Json> }).responses;
    response = responses[String(answer.status)];
    if (!response) return [`${where}: status ${answer.status} is not declared (declared: ${Object.keys(responses).join(', ')})`];
    responsePath = ['paths', matched.template, opMethod, 'responses', String(answer.status)];
  } else {
    const name = UNROUTED[answer.status];
    if (!name) return [`${where}: status ${answer.status} is not an answer to a path outside the contract (401 or 404)`];
    if (headers['x-request-id'] === undefined) problems.push(`${where} ${answer.status}: header X-Request-Id is missing`);
  }

  // headers: required ones present, every contract header valid, and none that this answer does not declare
  const declared = (response?.headers ?? {}) as Record<string, Json>;
  const declaredNames = new Set(Object.keys(declared).map((n) => n.toLowerCase()));
  for (const [name, spec] of Object.entries(declared)) {
    const component = String(spec.$ref ?? '').replace('#/components/headers/', '');
    const resolved = (doc.components.headers[component] ?? spec) as { required?: boolean; schema: Json };
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (resolved.required) problems.push(`${where} ${answer.status}: header ${name} is missing`);
    } else if (!ajv.validate(resolved.schema, value)) {
      problems.push(`${where} ${answer.status}: header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(ajv.errors)}`);
    }
  }
  for (const component of Object.keys(doc.components.headers)) {
    const name = component.toLowerCase();
    if (responsePath && headers[name] !== undefined && !declaredNames.has(name)) {
      problems.push(`${where} ${answer.status}: header ${component} is sent but not declared for this answer`);
    }
  }

  // body
  const content = response?.content as Record<string, Json> | undefined;
  if (method === 'head' || (responsePath && !content)) {
    if (answer.body !== '') problems.push(`${where} ${answer.status}: a body where none is declared`);
    return problems;
  }
  // the declared media type (answers outside the contract are errors: JSON)
  const mediaType = content ? (Object.keys(content)[0] as string) : 'application/json';
  if (!String(headers['content-type'] ?? '').startsWith(mediaType)) {
    problems.push(`${where} ${answer.status}: Content-Type ${String(headers['content-type'])}, not ${mediaType}`);
    return problems;
  }
  let body: unknown = answer.body;
  if (mediaType === 'application/json') {
    if (!answer.body.endsWith('\n')) problems.push(`${where} ${answer.status}: the JSON body does not end with a newline`);
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [...problems, `${where} ${answer.status}: the body is not JSON: ${answer.body.slice(0, 200)}`];
    }
  }
  const validate = responsePath
    ? validator(...responsePath, 'content', mediaType, 'schema')
    : validator('components', 'schemas', UNROUTED[answer.status] as string);
  if (!validate(body)) {
    problems.push(`${where} ${answer.status}: the body breaks the schema: ${ajv.errorsText(validate.errors)}\n  body: ${answer.body.slice(0, 500)}`);
  }
  return problems;
}

// ---- the hook: answers of wrapped apps are checked as they go out; a test with problems fails in afterEach ----

const found: string[] = [];
/** The problems recorded since the last call (and forgets them). */
export const takeProblems = (): string[] => found.splice(0);
function failOnProblems() {
  const problems = takeProblems();
  if (problems.length > 0) throw new Error(`answers outside the contract (openapi.json):\n${problems.join('\n')}`);
}
if (typeof afterEach === 'function') {
  afterEach(failOnProblems);
  afterAll(failOnProblems);
}

/** Records what the answer carries as it is sent, and checks it before the last byte leaves. */
function record(method: string, path: string, res: Response) {
  const chunks: Buffer[] = [];
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.write = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return write(...args);
  }) as Response['write'];
  res.end = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    const answer = { method, path, status: res.statusCode, headers: res.getHeaders() as Answer['headers'], body: Buffer.concat(chunks).toString('utf8') };
    found.push(...contractProblems(answer));
    return end(...args);
  }) as Response['end'];
}

/** The app behind a recorder that checks each answer against the contract. */
export function checkedApp(app: Express): Express {
  const outer = express();
  outer.locals.checked = app;
  outer.disable('x-powered-by');
  outer.use((req, res, next) => {
    record(req.method, req.originalUrl.split('?')[0] as string, res);
    next();
  });
  outer.use(app);
  return outer;
}

/** The service's own app inside a checkedApp (for looking at its routes). */
export const innerApp = (app: Express): Express => app.locals.checked as Express;
