// The OpenAPI 3.1 document of the wire contract, built from the operation table (operations.ts), the zod schemas
// of requests and answers and the error table (errors.ts). GET /openapi.json serves it; openapi.json at the
// repository root is a copy that a test keeps equal (npm run openapi writes it).
import { z } from 'zod';
import { TRANSACTION_STATUSES } from '../domain/types';
import { OrderDoc, PersonDoc } from '../domain/documents';
import { PerformanceView, TicketView, wireTime } from '../domain/views';
import { ERRORS, errorBody, type ErrorCode } from './errors';
import { HEADER } from './headers';
import { KEY_PATTERN } from './idempotency';
import { OPERATIONS, type Operation, type Role } from './operations';
import { ID } from './schemas';

type Json = Record<string, unknown>;

/** The version of the contract (not of the package): raise it when the wire contract changes. */
export const CONTRACT_VERSION = '1.1.0';

const JSON_TYPE = 'application/json';
const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const DESCRIPTION = `Ticket holds for high-traffic on-sales: tickets are locked all-or-nothing in Redis, then checked out
(the hold extended) and completed (sold), or released.

- JSON in and out (\`Content-Type: application/json\`, UTF-8); field names are snake_case; times are ISO-8601 UTC
  with milliseconds; money is integer cents. Every JSON answer ends with a newline.
- Every success body has \`"status": "OK"\`; every error body is
  \`{"status":"ERROR","error":{"code","message","request_id",...details}}\`: branch on \`code\`, never on \`message\`.
- Every answer carries \`X-Request-Id\` (the caller's when it sent a sane one).
- A key goes in \`Authorization: Bearer <key>\` (or \`X-API-Key\`, \`X-ATHENA-Key\`). Client keys search tickets and
  own their transactions and orders; admin keys may do everything, inventory included. A client never sees another
  client's transaction or order (404, not 403).
- Performance and ticket ids are 1–128 characters of \`[A-Za-z0-9._:-]\`; transaction ids are UUIDs (opaque).
- Answers may gain members: clients ignore members they do not know.
- \`/transactions/...\` is an alias of \`/transaction/...\`; \`POST /transaction/{id}\` of \`PUT\`.`;

const ROLE_TEXT: Record<Role, string> = {
  none: 'No key needed.',
  any: 'Any key, client or admin.',
  owner: 'The client key that owns it, or an admin key; to anyone else it does not exist (404).',
  admin: 'An admin key; a client key gets 403 FORBIDDEN.',
};

/** Response headers, as components (keyed by name; Retry-After twice: always on 503, on 429 only when rate-limited). */
const RATE_LIMIT_RETRY = 'Retry-After-429';
const RESPONSE_HEADERS: Record<string, Json> = {
  [HEADER.requestId]: {
    description: "The caller's X-Request-Id when it was sane, else a new one.",
    required: true,
    schema: { type: 'string', pattern: ID.source },
  },
  [HEADER.transactionStatus]: { description: 'The transaction_status of the answer.', required: true, schema: jsonSchema(z.enum(TRANSACTION_STATUSES)) },
  [HEADER.lockExpires]: {
    description: 'lock_expires of the answer, while the transaction is open or checkout.',
    required: false,
    schema: jsonSchema(wireTime),
  },
  [HEADER.retryAfter]: { description: 'Seconds after which a retry may succeed.', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
  [RATE_LIMIT_RETRY]: {
    description: `${HEADER.retryAfter}, with RATE_LIMITED: seconds until the window lets another hold through.`,
    required: false,
    schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
  },
  [HEADER.idempotentReplayed]: {
    description: 'The answer is the stored answer of an earlier request with the same Idempotency-Key.',
    required: false,
    schema: { type: 'string', const: 'true' },
  },
};

const headerRef = (component: string) => ({ $ref: `#/components/headers/${component}` });

/** One schema on its own (a parameter's, a header's): JSON Schema 2020-12, as OpenAPI 3.1 uses it. */
function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'output' }) as Json;
  return rest;
}

/** Named schemas as components: each refers to the others by $ref. */
function components(named: Map<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of named) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  // $id and $schema belong to stand-alone schemas, not to components of one document
  return Object.fromEntries(Object.entries(schemas).map(([id, { $id: _id, $schema: _schema, ...rest }]) => [id, rest]));
}

/** Objects several answers contain, named once. */
const SHARED: Record<string, z.ZodType> = { Ticket: TicketView, Performance: PerformanceView, Order: OrderDoc, Person: PersonDoc };

const pascal = (code: string) => code.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
export const errorSchemaName = (code: ErrorCode) => `Error${pascal(code)}`;

function parameters(op: Operation): Json[] {
  const out: Json[] = [];
  for (const [name, schema] of Object.entries(op.params ?? {})) {
    const { description, ...s } = jsonSchema(schema);
    out.push({ name, in: 'path', required: true, description, schema: s });
  }
  for (const [name, schema] of Object.entries(op.query?.shape ?? {})) {
    const { description, ...s } = jsonSchema(schema as z.ZodType);
    const required = !(schema as z.ZodType).safeParse(undefined).success;
    out.push({ name, in: 'query', required, description, schema: s });
  }
  if (op.idempotent) {
    out.push({
      name: HEADER.idempotencyKey,
      in: 'header',
      required: false,
      description:
        "A retry with the same key (per client key) and the same body gets the first answer again (with Idempotent-Replayed: true) instead of doing the work twice; 5xx and 429 answers are not kept. The same key with another body is 422 IDEMPOTENCY_KEY_REUSED.",
      schema: { type: 'string', pattern: KEY_PATTERN.source },
    });
  }
  return out.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
}

function responses(op: Operation): Json {
  const noBody = op.method === 'head';
  const replayable = (status: number) => op.idempotent === true && status < 500 && status !== 429;
  const headersOf = (status: number, extra: Record<string, Json>) => ({
    [HEADER.requestId]: headerRef(HEADER.requestId),
    ...extra,
    ...(replayable(status) ? { [HEADER.idempotentReplayed]: headerRef(HEADER.idempotentReplayed) } : {}),
  });

  const success = op.success;
  const successHeaders: Record<string, Json> = {};
  for (const name of success.headers ?? []) successHeaders[name] = headerRef(name);
  const out: Json = {
    [success.status]: {
      description: success.description,
      headers: headersOf(success.status, successHeaders),
      ...(success.body ? { content: { [JSON_TYPE]: { schema: schemaRef(success.body.name) } } } : {}),
      ...(success.other ? { content: { [success.other.mediaType]: { schema: success.other.schema } } } : {}),
    },
  };

  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(op.errors)) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const codes = byStatus.get(status) as ErrorCode[];
    const extra: Record<string, Json> = {};
    if (status === 503) extra[HEADER.retryAfter] = headerRef(HEADER.retryAfter);
    if (status === 429) extra[HEADER.retryAfter] = headerRef(RATE_LIMIT_RETRY);
    const refs = codes.map((c) => schemaRef(errorSchemaName(c)));
    out[status] = {
      description: codes.map((c) => `- ${c}: ${ERRORS[c].means}`).join('\n'),
      headers: headersOf(status, extra),
      ...(noBody ? {} : { content: { [JSON_TYPE]: { schema: refs.length === 1 ? refs[0] : { oneOf: refs } } } }),
    };
  }
  return out;
}

function operation(op: Operation): Json {
  const doc: Json = {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: `${op.description}\n\n${ROLE_TEXT[op.role]}`,
  };
  if (op.role === 'none') doc.security = [];
  const params = parameters(op);
  if (params.length > 0) doc.parameters = params;
  if (op.body) {
    doc.requestBody = {
      required: true,
      description: `JSON, at most ${op.body.maxBytes}.`,
      content: { [JSON_TYPE]: { schema: schemaRef(op.body.name) } },
    };
  }
  doc.responses = responses(op);
  return doc;
}

let built: Json | undefined;

/** The document; the same for every deployment (nothing in it comes from configuration). Built once: do not change it. */
export function openApiDocument(): Json {
  return (built ??= build());
}

function build(): Json {
  const requests = new Map<string, z.ZodType>();
  const answers = new Map<string, z.ZodType>();
  for (const op of OPERATIONS) {
    if (op.body) requests.set(op.body.name, op.body.schema);
    if (op.success.body) answers.set(op.success.body.name, op.success.body.schema);
  }
  for (const code of Object.keys(ERRORS) as ErrorCode[]) answers.set(errorSchemaName(code), errorBody(code));
  // the objects answers share, as components of their own
  for (const [name, schema] of Object.entries(SHARED)) answers.set(name, schema);
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);

  return {
    openapi: '3.1.1',
    info: {
      title: 'tixlock',
      version: CONTRACT_VERSION,
      summary: 'All-or-nothing ticket holds for high-traffic on-sales',
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'tickets', description: 'Finding tickets (locks nothing)' },
      { name: 'transactions', description: 'Hold, checkout, complete, release' },
      { name: 'orders', description: 'Orders and people, as the order writer persisted them' },
      { name: 'inventory', description: 'Performances and their tickets (admin)' },
      { name: 'operations', description: 'Health, readiness and this document' },
    ],
    security: [{ bearer: [] }, { apiKey: [] }, { athenaKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: `${HEADER.authorization}: Bearer <key>` },
        apiKey: { type: 'apiKey', in: 'header', name: HEADER.apiKey },
        athenaKey: { type: 'apiKey', in: 'header', name: HEADER.athenaKey },
      },
      headers: RESPONSE_HEADERS,
      schemas: { ...components(requests, 'input'), ...components(answers, 'output') },
    },
  };
}
