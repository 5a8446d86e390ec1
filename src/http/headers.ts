// The headers of the wire contract, spelled as they are sent: first answers, idempotent replays, CORS and the
// OpenAPI document all take the names from here, so a replay cannot differ from a first answer in a name's case.
export const HEADER = {
  requestId: 'X-Request-Id',
  transactionStatus: 'Transaction-Status',
  lockExpires: 'Lock-Expires',
  retryAfter: 'Retry-After',
  idempotencyKey: 'Idempotency-Key',
  idempotentReplayed: 'Idempotent-Replayed',
  authorization: 'Authorization',
  apiKey: 'X-API-Key',
  athenaKey: 'X-ATHENA-Key',
} as const;

/**
 * The headers of a transaction answer, read from its body: Transaction-Status always, Lock-Expires while open or
 * checkout. The routes send them from here, and an idempotent replay recomputes them from the stored body here, so
 * the two cannot differ. A body without a transaction_status (an error) has none.
 */
export function transactionHeaders(body: unknown): Record<string, string> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { transaction_status?: unknown; lock_expires?: unknown };
  const out: Record<string, string> = {};
  if (typeof b.transaction_status !== 'string') return out;
  out[HEADER.transactionStatus] = b.transaction_status;
  if (typeof b.lock_expires === 'string' && (b.transaction_status === 'open' || b.transaction_status === 'checkout')) {
    out[HEADER.lockExpires] = b.lock_expires;
  }
  return out;
}
