// The one place that maps error codes to HTTP statuses, and the error body of API.md.
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { HEADER } from './headers';

const STATUS = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TICKETS_NOT_FOUND: 404,
  TICKET_NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  PERFORMANCE_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  PERSON_NOT_FOUND: 404,
  TICKETS_UNAVAILABLE: 409,
  NOT_ENOUGH_TICKETS: 409,
  INVALID_TRANSACTION_STATE: 409,
  HOLD_LIMIT_REACHED: 409,
  TICKET_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  BUYER_LIMIT: 429,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  NOT_REPLICATED: 503,
  RECOVERING: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

/** Every error code the API answers with (the typed client's `TixlockError.code` is one of these). */
export type ErrorCode = keyof typeof STATUS;

/** body-parser failures (err.type) -> our codes */
const BODY_ERRORS: Record<string, [string, string]> = {
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
  const status = (STATUS as Record<string, number>)[err.code] ?? 500;
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
