// When a failed attempt is tried again, and after how long. Pure: the transport asks, then waits.

export interface RetryPolicy {
  /** attempts after the first */
  retries: number;
  /** the longest wait before a retry; a Retry-After beyond it is not waited for (the error goes to the caller) */
  maxRetryWaitMs: number;
  /** first wait of the exponential back-off used when the server names no Retry-After */
  retryDelayMs: number;
}

/** What went wrong with one attempt, as far as retrying cares. */
export interface Failure {
  status: number; // 0 = no answer
  code: string;
  retryAfterMs: number | undefined;
}

/** Codes a repeat can fix: the service is briefly unavailable, busy, or still at work on the same key. */
const TRANSIENT_CODES = new Set(['NETWORK_ERROR', 'IDEMPOTENCY_IN_PROGRESS']);

/**
 * The wait before the next attempt, or undefined for no retry. `attempt` is the attempt that just failed (1 = the
 * first). Only calls that are safe to repeat retry (`safe`: idempotent by nature, or sent with an Idempotency-Key).
 * A 429 without Retry-After (e.g. BUYER_LIMIT) does not lift by waiting; a timeout spent the caller's time.
 */
export function retryWait(policy: RetryPolicy, attempt: number, failure: Failure, safe: boolean, random = Math.random): number | undefined {
  if (!safe || attempt > policy.retries) return undefined;
  const transient = failure.status === 503 || (failure.status === 429 && failure.retryAfterMs !== undefined) || TRANSIENT_CODES.has(failure.code);
  if (!transient) return undefined;
  if (failure.retryAfterMs !== undefined) {
    return failure.retryAfterMs <= policy.maxRetryWaitMs ? failure.retryAfterMs : undefined;
  }
  // "equal jitter": between half and all of the back-off, so that many clients do not come back in step
  const backoff = Math.min(policy.maxRetryWaitMs, policy.retryDelayMs * 2 ** (attempt - 1));
  return Math.round(backoff / 2 + random() * (backoff / 2));
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
