// The operations of the wire contract: for each route its parameters, body, answer and the error codes it may
// give. openapi.ts turns this table into the OpenAPI document; the routes in routes/ serve it (a test checks that
// the two list the same routes).
import type { z } from 'zod';
import {
  HealthAnswer,
  OrderAnswer,
  PerformanceAnswer,
  PerformanceUpsertAnswer,
  PersonAnswer,
  ReadyAnswer,
  TicketAnswer,
  TicketPageAnswer,
  TicketsAnswer,
  TransactionAnswer,
} from './answers';
import type { ErrorCode } from './errors';
import { HEADER } from './headers';
import { beginBody, id, inventoryBody, orderNumber, peopleQuery, searchQuery, ticketPageQuery, transactionId, updateBody } from './schemas';

export type Method = 'get' | 'put' | 'post' | 'delete' | 'head';
export type Role = 'none' | 'any' | 'owner' | 'admin';
/** headers a success answer may carry besides X-Request-Id */
export type AnswerHeader = typeof HEADER.transactionStatus | typeof HEADER.lockExpires;

export interface Operation {
  operationId: string;
  method: Method;
  /** OpenAPI path template */
  path: string;
  /** who may call it: no key, any key, the transaction's owner (or an admin), admins */
  role: Role;
  tag: string;
  summary: string;
  description: string;
  /** path parameters, in path order */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** request body and its component name */
  body?: { name: string; schema: z.ZodType; maxBytes: string };
  /** honours Idempotency-Key */
  idempotent?: boolean;
  success: {
    status: number;
    description: string;
    /** answer body and its component name; none for HEAD */
    body?: { name: string; schema: z.ZodType };
    /** an answer that is not one of ours in JSON: its media type and JSON Schema */
    other?: { mediaType: string; schema: Record<string, unknown> };
    headers?: AnswerHeader[];
  };
  errors: ErrorCode[];
}

/** Request body limits: the routes enforce them, the document states them (8 MiB: 50,000 tickets with every attribute). */
export const BODY_LIMIT = { transaction: '64kb', inventory: '8mb' } as const;

// error codes many operations share
const KEYED: ErrorCode[] = ['UNAUTHENTICATED', 'INTERNAL', 'UNAVAILABLE'];
const ADMIN: ErrorCode[] = [...KEYED, 'FORBIDDEN'];
const BODY: ErrorCode[] = ['INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
const IDEMPOTENT: ErrorCode[] = ['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS'];

const transactionHeaders: AnswerHeader[] = [HEADER.transactionStatus, HEADER.lockExpires];
const txAnswer = { name: 'TransactionAnswer', schema: TransactionAnswer };
const performanceId = { performance_id: id };
const txId = { transaction_id: transactionId };

const beginTransaction: Omit<Operation, 'operationId' | 'path'> = {
  method: 'post',
  role: 'any',
  tag: 'transactions',
  summary: 'Hold tickets all-or-nothing and begin a transaction',
  description:
    'Either {"tickets": [ids]} (every ticket of one performance, each listed once, at most the per-transaction maximum) ' +
    'or {"performance_id", "quantity"} with optional section / price_level / max_price filters (best available, picked ' +
    'and locked in one atomic step). Optional hold_seconds within the configured bounds, and buyer for the per-buyer ' +
    'limit. Nothing is locked unless every ticket is.',
  body: { name: 'BeginRequest', schema: beginBody, maxBytes: BODY_LIMIT.transaction },
  idempotent: true,
  success: { status: 201, description: 'the open transaction', body: txAnswer, headers: transactionHeaders },
  errors: [
    ...KEYED,
    ...BODY,
    ...IDEMPOTENT,
    'TICKETS_NOT_FOUND',
    'PERFORMANCE_NOT_FOUND',
    'TICKETS_UNAVAILABLE',
    'NOT_ENOUGH_TICKETS',
    'BUYER_LIMIT',
    'RATE_LIMITED',
    'RECOVERING',
    'PERFORMANCE_CLOSED',
  ],
};

const updateTransaction: Omit<Operation, 'operationId' | 'path' | 'method'> = {
  role: 'owner',
  tag: 'transactions',
  summary: 'Checkout (extend the hold) or complete (sell) a transaction',
  description:
    '"checkout" resets every lock to now + the hold time, never past created_at + MAX_HOLD_SECONDS. "complete" sells ' +
    'every ticket and allocates an order number; completing a completed transaction answers the same order. After a ' +
    'lapsed lock both succeed while every ticket is still free; otherwise 409 TICKETS_UNAVAILABLE and the transaction ' +
    'becomes expired. If id is given it must equal the path id; if tickets is given it must be exactly the ' +
    "transaction's tickets.",
  params: txId,
  body: { name: 'UpdateRequest', schema: updateBody, maxBytes: BODY_LIMIT.transaction },
  idempotent: true,
  success: { status: 200, description: 'the transaction after the update', body: txAnswer, headers: transactionHeaders },
  errors: [
    ...KEYED,
    ...BODY,
    ...IDEMPOTENT,
    'TRANSACTION_NOT_FOUND',
    'TICKETS_UNAVAILABLE',
    'INVALID_TRANSACTION_STATE',
    'HOLD_LIMIT_REACHED',
    'NOT_REPLICATED',
    'RECOVERING',
    'PERFORMANCE_CLOSED',
  ],
};

const readTransaction: Omit<Operation, 'operationId' | 'path' | 'method' | 'summary' | 'success'> = {
  role: 'owner',
  tag: 'transactions',
  description: 'Readable for RECORD_RETENTION_SECONDS (24 h) after the transaction ends. Another client\'s is a 404.',
  params: txId,
  errors: [...KEYED, 'INVALID_REQUEST', 'TRANSACTION_NOT_FOUND'],
};

const releaseTransaction: Omit<Operation, 'operationId' | 'path'> = {
  method: 'delete',
  role: 'owner',
  tag: 'transactions',
  summary: 'Release every lock of a transaction',
  description: 'Releasing twice is 200; a completed transaction is 409 INVALID_TRANSACTION_STATE.',
  params: txId,
  success: { status: 200, description: 'the released transaction', body: txAnswer, headers: transactionHeaders },
  errors: [...KEYED, 'INVALID_REQUEST', 'TRANSACTION_NOT_FOUND', 'INVALID_TRANSACTION_STATE'],
};

/** Every route of one transaction, under /transaction and its alias /transactions. */
function transactionOperations(base: '/transaction' | '/transactions', suffix: string): Operation[] {
  const one = `${base}/{transaction_id}`;
  const alias = suffix ? ` Alias of the same operation under /transaction.` : '';
  return [
    { ...beginTransaction, operationId: `beginTransaction${suffix}`, path: base, description: beginTransaction.description + alias },
    {
      ...readTransaction,
      operationId: `getTransaction${suffix}`,
      method: 'get',
      path: one,
      summary: 'Read a transaction',
      description: readTransaction.description + alias,
      success: { status: 200, description: 'the transaction', body: txAnswer, headers: transactionHeaders },
    },
    {
      ...readTransaction,
      operationId: `headTransaction${suffix}`,
      method: 'head',
      path: one,
      summary: "A transaction's status in headers",
      description: 'The status code and headers of GET, without a body.' + alias,
      success: { status: 200, description: 'Transaction-Status, and Lock-Expires while locked', headers: transactionHeaders },
    },
    { ...updateTransaction, operationId: `updateTransaction${suffix}`, method: 'put', path: one, description: updateTransaction.description + alias },
    {
      ...updateTransaction,
      operationId: `updateTransactionByPost${suffix}`,
      method: 'post',
      path: one,
      description: `The same as PUT (the earlier form of the flow).${alias}`,
    },
    { ...releaseTransaction, operationId: `releaseTransaction${suffix}`, path: one, description: releaseTransaction.description + alias },
  ];
}

export const OPERATIONS: Operation[] = [
  {
    operationId: 'health',
    method: 'get',
    path: '/healthz',
    role: 'none',
    tag: 'operations',
    summary: 'The process is up',
    description: 'Answers while the process runs; checks nothing else.',
    success: { status: 200, description: 'up', body: { name: 'HealthAnswer', schema: HealthAnswer } },
    errors: ['INTERNAL'],
  },
  {
    operationId: 'ready',
    method: 'get',
    path: '/readyz',
    role: 'none',
    tag: 'operations',
    summary: 'Redis and the document store answer',
    description: 'A 503 UNAVAILABLE names each backing service in checks.',
    success: { status: 200, description: 'ready', body: { name: 'ReadyAnswer', schema: ReadyAnswer } },
    errors: ['INTERNAL', 'UNAVAILABLE'],
  },
  {
    operationId: 'openapi',
    method: 'get',
    path: '/openapi.json',
    role: 'none',
    tag: 'operations',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document of the wire contract, generated from the schemas in the code.',
    success: {
      status: 200,
      description: 'the OpenAPI document',
      other: { mediaType: 'application/json', schema: { type: 'object', description: 'an OpenAPI 3.1 document' } },
    },
    errors: ['INTERNAL'],
  },
  {
    operationId: 'metrics',
    method: 'get',
    path: '/metrics',
    role: 'admin',
    tag: 'operations',
    summary: 'Prometheus metrics',
    description:
      'Served here only while METRICS_PORT is unset; with METRICS_PORT set, GET /metrics is served without a key on ' +
      'that port instead (a plain server outside this document) and this path answers 404 NOT_FOUND.',
    success: {
      status: 200,
      description: 'the Prometheus text exposition format',
      other: { mediaType: 'text/plain', schema: { type: 'string' } },
    },
    errors: [...ADMIN, 'NOT_FOUND'],
  },
  {
    operationId: 'putPerformance',
    method: 'put',
    path: '/performances/{performance_id}',
    role: 'admin',
    tag: 'inventory',
    summary: "Create a performance or add to its inventory",
    description:
      'Upsert: new tickets are added, attributes of unsold tickets are updated (attributes left out keep their ' +
      'values), a sold ticket never changes. At most 50,000 tickets per request; larger inventories come in several. ' +
      'A closed (or ended) or archived performance takes nothing: 409 PERFORMANCE_CLOSED.',
    params: performanceId,
    body: { name: 'InventoryRequest', schema: inventoryBody, maxBytes: BODY_LIMIT.inventory },
    success: {
      status: 200,
      description: 'the performance with live counts and what this request did',
      body: { name: 'PerformanceUpsertAnswer', schema: PerformanceUpsertAnswer },
    },
    errors: [...ADMIN, ...BODY, 'TICKET_CONFLICT', 'PERFORMANCE_CLOSED'],
  },
  {
    operationId: 'getPerformance',
    method: 'get',
    path: '/performances/{performance_id}',
    role: 'admin',
    tag: 'inventory',
    summary: "A performance's settings, lifecycle and live counts",
    description:
      'counts are read live from Redis; an archived performance is answered from the document store, with its counts ' +
      'as they were when it was archived.',
    params: performanceId,
    success: { status: 200, description: 'the performance', body: { name: 'PerformanceAnswer', schema: PerformanceAnswer } },
    errors: [...ADMIN, 'INVALID_REQUEST', 'PERFORMANCE_NOT_FOUND'],
  },
  {
    operationId: 'closePerformance',
    method: 'post',
    path: '/performances/{performance_id}/close',
    role: 'admin',
    tag: 'inventory',
    summary: 'Close a performance: no new holds from now on',
    description:
      'Holds and inventory changes are refused from now on (409 PERFORMANCE_CLOSED); a transaction whose lock is live ' +
      'may still be checked out and completed until its lock lapses. Reads keep working. Once every sale is persisted ' +
      'and no lock is left, the performance is archived. Closing again (or an archived performance) answers the same. ' +
      'No body.',
    params: performanceId,
    success: { status: 200, description: 'the closed performance', body: { name: 'PerformanceAnswer', schema: PerformanceAnswer } },
    errors: [...ADMIN, 'INVALID_REQUEST', 'PERFORMANCE_NOT_FOUND'],
  },
  {
    operationId: 'listPerformanceTickets',
    method: 'get',
    path: '/performances/{performance_id}/tickets',
    role: 'admin',
    tag: 'inventory',
    summary: "A page of a performance's tickets",
    description: 'Follow next_cursor until it is null.',
    params: performanceId,
    query: ticketPageQuery,
    success: { status: 200, description: 'a page of tickets', body: { name: 'TicketPageAnswer', schema: TicketPageAnswer } },
    errors: [...ADMIN, 'INVALID_REQUEST', 'PERFORMANCE_NOT_FOUND'],
  },
  {
    operationId: 'searchTickets',
    method: 'get',
    path: '/tickets',
    role: 'any',
    tag: 'tickets',
    summary: 'The best available tickets (locks nothing)',
    description:
      'Cheapest first, then seat order; a run of adjacent seats in one row wins when it costs no more. Fewer available ' +
      'than quantity is 409 NOT_ENOUGH_TICKETS with available.',
    query: searchQuery,
    success: { status: 200, description: 'quantity tickets, best first', body: { name: 'TicketsAnswer', schema: TicketsAnswer } },
    errors: [...KEYED, 'INVALID_REQUEST', 'PERFORMANCE_NOT_FOUND', 'NOT_ENOUGH_TICKETS'],
  },
  {
    operationId: 'getTicket',
    method: 'get',
    path: '/tickets/{ticket_id}',
    role: 'any',
    tag: 'tickets',
    summary: 'One ticket',
    description: 'locked_by and locked_ip only for the client that holds it and for admins.',
    params: { ticket_id: id },
    success: { status: 200, description: 'the ticket', body: { name: 'TicketAnswer', schema: TicketAnswer } },
    errors: [...KEYED, 'INVALID_REQUEST', 'TICKET_NOT_FOUND'],
  },
  ...transactionOperations('/transaction', ''),
  ...transactionOperations('/transactions', 'Alias'),
  {
    operationId: 'getOrder',
    method: 'get',
    path: '/orders/{order_number}',
    role: 'owner',
    tag: 'orders',
    summary: 'An order as persisted in the document store',
    description: 'For admins and the client that completed it (anyone else: 404). 404 ORDER_NOT_FOUND until the order writer wrote it.',
    params: { order_number: orderNumber },
    success: { status: 200, description: 'the order', body: { name: 'OrderAnswer', schema: OrderAnswer } },
    errors: [...KEYED, 'INVALID_REQUEST', 'ORDER_NOT_FOUND'],
  },
  {
    operationId: 'getPerson',
    method: 'get',
    path: '/people',
    role: 'admin',
    tag: 'orders',
    summary: 'A PEOPLE record with its order numbers',
    description: 'Keyed by the lower-cased email.',
    query: peopleQuery,
    success: { status: 200, description: 'the person', body: { name: 'PersonAnswer', schema: PersonAnswer } },
    errors: [...ADMIN, 'INVALID_REQUEST', 'PERSON_NOT_FOUND'],
  },
];
