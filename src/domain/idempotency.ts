// The idempotency store port: remembered answers to Idempotency-Keys, shared by every API replica (the Redis
// adapter is src/redis/idempotency-store.ts; the HTTP middleware that uses it is src/http/idempotency.ts).

/**
 * An answer as a replay needs it: its status, its body, and the headers it sent that a replay cannot recompute from
 * the body (none for a transaction answer: Transaction-Status and Lock-Expires are read from the body again).
 */
export interface StoredAnswer {
  status: number;
  /** absent: the headers are recomputed from the body */
  headers?: Record<string, string>;
  body: unknown;
}

/**
 * What the store knows of one client's key: nothing yet (now claimed by the caller), a request at work, an answer.
 * sameRequest: whether the request that holds the key had the caller's fingerprint (the store keeps a hash of it,
 * never the request).
 */
export type Claim =
  | { kind: 'claimed' }
  | { kind: 'pending'; sameRequest: boolean }
  | { kind: 'done'; sameRequest: boolean; answer: StoredAnswer };

export interface IdempotencyStore {
  /** Claims the key for a request with this fingerprint for leaseMs, unless someone holds or answered it. */
  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim>;
  save(client: string, key: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<void>;
  /** Forgets a claim whose request failed in a way a retry may fix. */
  abandon(client: string, key: string): Promise<void>;
}
