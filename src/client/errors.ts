// The one error the client throws for a call that did not succeed: an error answer of the API, or no answer.
import type { ErrorCode } from './types';

/**
 * Codes of failures that are not an API error body: TIMEOUT (no answer within the call's timeoutMs),
 * NETWORK_ERROR (no connection, or it broke), HTTP_ERROR (an error status without an API error body, e.g. from a
 * proxy, or any HEAD), INVALID_RESPONSE (a success whose body is not the API's JSON).
 */
export type ClientErrorCode = 'TIMEOUT' | 'NETWORK_ERROR' | 'HTTP_ERROR' | 'INVALID_RESPONSE';

export interface TixlockErrorInit {
  status: number;
  code: ErrorCode | ClientErrorCode;
  message: string;
  method: string;
  path: string;
  retryAfter?: number | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  attempts: number;
  cause?: unknown;
}

export class TixlockError extends Error {
  override readonly name = 'TixlockError';
  /** the HTTP status; 0 when no answer came (TIMEOUT, NETWORK_ERROR) */
  readonly status: number;
  /** the API's error code (see src/http/errors.ts), or one of ClientErrorCode */
  readonly code: ErrorCode | ClientErrorCode;
  /** seconds the server asked to wait before trying again (Retry-After), when it said */
  readonly retryAfter: number | undefined;
  /** the answer's X-Request-Id, to find the request in the service's logs */
  readonly requestId: string | undefined;
  /** the error body's other fields: `issues` of INVALID_REQUEST, `tickets` of TICKETS_UNAVAILABLE, `available`, ... */
  readonly details: Readonly<Record<string, unknown>>;
  /**
   * The Idempotency-Key the call sent. After a TIMEOUT or NETWORK_ERROR the outcome is unknown: repeat the call
   * with `{ idempotencyKey }` set to this and get the first answer instead of a second hold or sale.
   */
  readonly idempotencyKey: string | undefined;
  readonly method: string;
  readonly path: string;
  /** how many attempts the call made (1 + retries) */
  readonly attempts: number;

  constructor(init: TixlockErrorInit) {
    super(init.message, { cause: init.cause }); // the API's own sentence; status, code and route are fields
    this.status = init.status;
    this.code = init.code;
    this.retryAfter = init.retryAfter;
    this.requestId = init.requestId;
    this.details = init.details ?? {};
    this.idempotencyKey = init.idempotencyKey;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts;
  }
}
