// tixlock/client: a typed client of the tixlock HTTP API for Node 20+ (global fetch; no other dependency at run time).
// Usage, errors, retries, idempotency and timeouts: docs/client.md.
export { TixlockClient, type ClientOptions, type Operation } from './client';
export { TixlockError, type ClientErrorCode } from './errors';
export type { AttemptEvent, CallOptions } from './transport';
export type * from './types';
