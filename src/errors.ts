// Domain errors with a stable `code`; the HTTP layer alone maps codes to statuses.

/**
 * Every error code tixlock answers with. ERRORS in src/http/errors.ts gives each its status and details, and must
 * name exactly these (the compiler checks both ways): a code without a status does not compile.
 */
export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'TICKETS_NOT_FOUND'
  | 'TICKET_NOT_FOUND'
  | 'TRANSACTION_NOT_FOUND'
  | 'PERFORMANCE_NOT_FOUND'
  | 'ORDER_NOT_FOUND'
  | 'PERSON_NOT_FOUND'
  | 'TICKETS_UNAVAILABLE'
  | 'NOT_ENOUGH_TICKETS'
  | 'INVALID_TRANSACTION_STATE'
  | 'HOLD_LIMIT_REACHED'
  | 'TICKET_CONFLICT'
  | 'PERFORMANCE_CLOSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'BUYER_LIMIT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'NOT_REPLICATED'
  | 'RECOVERING'
  | 'INTERNAL';

export class AppError extends Error {
  /** seconds after which a retry may succeed (sent as Retry-After) */
  retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface Issue {
  path: string;
  message: string;
}

export class InvalidRequest extends AppError {
  constructor(issues: Issue[], message = 'The request is not valid.') {
    super('INVALID_REQUEST', message, { issues });
  }
}

export class Unauthenticated extends AppError {
  constructor() {
    super('UNAUTHENTICATED', 'A valid API key is required (Authorization: Bearer <key>).');
  }
}

/** A client key on an admin route (the only role a route requires); the message says which key would do. */
export class Forbidden extends AppError {
  constructor() {
    super('FORBIDDEN', 'This route needs a key with the admin role (one of TIXLOCK_ADMIN_KEYS); this key has the client role.', {
      required_role: 'admin',
    });
  }
}

/** Redis or the document store did not answer; the caller may retry. */
export class Unavailable extends AppError {
  constructor(
    message = 'A backing service is unavailable; retry shortly.',
    /** which one (the 503s' cause in /metrics; not sent to clients) */
    readonly source: UnavailableSource = 'unknown',
  ) {
    super('UNAVAILABLE', message);
  }
}

/** redis_late: Redis answered after the caller's deadline; not_ready: a readiness check timed out. */
export type UnavailableSource = 'redis' | 'redis_late' | 'document_store' | 'not_ready' | 'unknown';

/**
 * A sale is done on the Redis primary but fewer replicas than REDIS_WAIT_REPLICAS acknowledged it in time: the
 * same complete, repeated, answers 200 with the same order once they have.
 */
export class NotReplicated extends AppError {
  constructor(wanted: number, acknowledged: number) {
    super(
      'NOT_REPLICATED',
      `The sale is recorded on the Redis primary, but ${acknowledged} of the ${wanted} replica(s) required acknowledged it in time; repeat the same request.`,
      { replicas_required: wanted, replicas_acknowledged: acknowledged },
    );
  }
}

/**
 * The performance's Redis state is behind the document store (Redis lost or rolled back data): no hold or sale
 * until it has been rehydrated, which the order writer does on its own.
 */
export class Recovering extends AppError {
  constructor() {
    super('RECOVERING', 'This performance is being restored after a Redis failure; retry shortly.');
    this.retryAfterSeconds = 5;
  }
}

/** Too many requests of one kind from one client key; retry after the given seconds. */
export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number, message: string) {
    super('RATE_LIMITED', message, { retry_after_seconds: retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const ticketsNotFound = (ids: string[]) =>
  new AppError('TICKETS_NOT_FOUND', 'Some tickets do not exist.', { tickets: ids });

export const transactionNotFound = () => new AppError('TRANSACTION_NOT_FOUND', 'No such transaction.');

export const performanceNotFound = () => new AppError('PERFORMANCE_NOT_FOUND', 'No such performance.');

/** The performance is closed (by an admin, or it ended) or archived: no new holds, no more inventory. */
export const performanceClosed = () =>
  new AppError('PERFORMANCE_CLOSED', 'This performance is closed: it takes no new holds and no inventory changes.');
