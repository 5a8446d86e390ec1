// The one place that maps error codes to HTTP statuses, with the details each code's body carries: the error body
// of the wire contract (and of the OpenAPI document, which is built from ERRORS).
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { TRANSACTION_STATUSES } from '../domain/types';
import { wireTime } from '../domain/views';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { HEADER } from './headers';

interface ErrorSpec {
  status: number;
  /** when a client sees it, for the OpenAPI document */
  means: string;
  /** members of `error` beside code, message and request_id */
  details?: z.ZodRawShape;
}

const count = z.number().int().min(0);
const ticketIds = z.array(z.string()).describe('the ticket ids concerned');

export const ERRORS = {
  INVALID_REQUEST: {
    status: 400,
    means: 'the request is malformed: a body, parameter or header that breaks the rules (issues says which)',
    details: { issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('one per problem; absent when the request could not be read at all') },
  },
  UNAUTHENTICATED: { status: 401, means: 'no API key, or one nobody knows' },
  FORBIDDEN: { status: 403, means: 'a client key on an admin route', details: { required_role: z.literal('admin') } },
  NOT_FOUND: { status: 404, means: 'no such route' },
  TICKETS_NOT_FOUND: { status: 404, means: 'some of the tickets do not exist', details: { tickets: ticketIds } },
  TICKET_NOT_FOUND: { status: 404, means: 'no such ticket', details: { tickets: ticketIds } },
  TRANSACTION_NOT_FOUND: { status: 404, means: "no such transaction, or another client's" },
  PERFORMANCE_NOT_FOUND: { status: 404, means: 'no such performance' },
  ORDER_NOT_FOUND: { status: 404, means: "no such order, another client's, or not persisted yet by the order writer" },
  PERSON_NOT_FOUND: { status: 404, means: 'no person with that email' },
  TICKETS_UNAVAILABLE: {
    status: 409,
    means: 'some tickets are sold or locked by another transaction; nothing was locked',
    details: { tickets: z.array(z.object({ id: z.string(), reason: z.enum(['sold', 'locked']) })) },
  },
  NOT_ENOUGH_TICKETS: { status: 409, means: 'fewer tickets available than asked for', details: { available: count } },
  INVALID_TRANSACTION_STATE: {
    status: 409,
    means: 'the transaction is in a state where this operation is refused (checkout after complete, anything after release...)',
    details: { transaction_status: z.enum(TRANSACTION_STATUSES), operation: z.enum(['checkout', 'complete', 'release']).describe('the refused operation') },
  },
  HOLD_LIMIT_REACHED: {
    status: 409,
    means: 'a checkout of a transaction that reached MAX_HOLD_SECONDS since creation; complete it or start anew',
    details: { hold_limit: wireTime },
  },
  TICKET_CONFLICT: { status: 409, means: 'some ticket ids belong to another performance', details: { tickets: ticketIds } },
  PERFORMANCE_CLOSED: {
    status: 409,
    means:
      'the performance is closed (by an admin, or it ended) or archived: no new holds and no inventory changes; a transaction whose lock lapsed can no longer be checked out or completed',
  },
  PAYLOAD_TOO_LARGE: { status: 413, means: 'the body is larger than this route accepts' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, means: 'a body that is not UTF-8 application/json' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, means: 'this Idempotency-Key was used for a different request' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, means: 'a request with this Idempotency-Key is still at work; retry shortly' },
  BUYER_LIMIT: {
    status: 429,
    means: "the buyer would hold more than BUYER_MAX_TICKETS of this performance's tickets at once",
    details: { limit: count, locked: count },
  },
  RATE_LIMITED: {
    status: 429,
    means: 'this client key began too many holds in the window; retry after Retry-After seconds',
    details: { retry_after_seconds: z.number().min(0) },
  },
  UNAVAILABLE: {
    status: 503,
    means: 'Redis or the document store did not answer (or Redis is changing topology); retry after Retry-After',
    details: { checks: z.record(z.string(), z.enum(['ok', 'unavailable'])).optional().describe('/readyz only: each backing service') },
  },
  NOT_REPLICATED: {
    status: 503,
    means: 'the sale is done on the Redis primary but too few replicas acknowledged it; repeat the same complete',
    details: { replicas_required: count, replicas_acknowledged: count },
  },
  RECOVERING: { status: 503, means: "the performance's Redis state is being restored from the document store; retry after Retry-After" },
  INTERNAL: { status: 500, means: 'a bug; it has been logged with the request_id' },
} as const satisfies Record<ErrorCode, ErrorSpec>;

/** Every error code the API answers with (the typed client's `TixlockError.code` is one of these). */
export type { ErrorCode };

/** The body of an error answer with this code. */
export function errorBody(code: ErrorCode) {
  const spec: ErrorSpec = ERRORS[code];
  return z.object({
    status: z.literal('ERROR'),
    error: z.object({
      code: z.literal(code),
      message: z.string().describe('a sentence for people; may change'),
      request_id: z.string().describe('the X-Request-Id of the request'),
      ...spec.details,
    }),
  });
}

const statusOf = (code: ErrorCode): number => ERRORS[code].status;

/** body-parser failures (err.type) -> our codes */
const BODY_ERRORS: Record<string, [ErrorCode, string]> = {
  'entity.parse.failed': ['INVALID_REQUEST', 'The body is not valid JSON.'],
  'entity.too.large': ['PAYLOAD_TOO_LARGE', 'The body is too large for this route.'],
  'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'Unsupported content encoding.'],
  'charset.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'Unsupported charset; send UTF-8 JSON.'],
  'request.aborted': ['INVALID_REQUEST', 'The request was aborted.'],
  'request.size.invalid': ['INVALID_REQUEST', 'The body length does not match Content-Length.'],
};

/** The 4xx status an error from Express or its parsers carries, if any. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = Number((err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode);
  return status >= 400 && status < 500 ? status : undefined;
}

export function sendError(res: Response, err: AppError) {
  const status = statusOf(err.code);
  const retryAfter = err.retryAfterSeconds ?? (status === 503 ? 1 : undefined);
  if (retryAfter !== undefined) res.set(HEADER.retryAfter, String(Math.max(1, Math.ceil(retryAfter))));
  res.locals.error = err; // for the request metrics (request-metrics.ts)
  res.status(status).json({
    status: 'ERROR',
    error: { code: err.code, message: err.message, request_id: res.locals.requestId, ...err.details },
  });
}

export function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let appError: AppError;
    const bodyError = BODY_ERRORS[(err as { type?: string })?.type ?? ''];
    if (err instanceof AppError) {
      appError = err;
    } else if (bodyError) {
      appError = new AppError(bodyError[0], bodyError[1]);
    } else if (clientErrorStatus(err) !== undefined) {
      // Express's own 4xx without a body-parser type: a path that is not valid percent-encoding (the router's
      // URIError), a body that is not the gzip/deflate/br its Content-Encoding claims (test/http-fuzz found both)
      appError = new AppError(clientErrorStatus(err) === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST', 'The request could not be read.');
    } else {
      const e = err as Error;
      logger.error('unhandled error', { request_id: res.locals.requestId, error: e?.message, stack: e?.stack });
      appError = new AppError('INTERNAL', 'Internal error; it has been logged.');
    }
    if (res.headersSent) return;
    sendError(res, appError);
  };
}
