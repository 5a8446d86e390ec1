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
