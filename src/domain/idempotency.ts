// The idempotency store port: remembered answers to Idempotency-Keys, shared by every API replica (the Redis
// adapter is src/redis/idempotency-store.ts; the HTTP middleware that uses it is src/http/idempotency.ts).

/** An answer as it was sent: status, the headers a replay repeats, the body. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What the store knows of one client's key: nothing yet (now claimed by the caller), a request at work, an answer. */
export type Claim =
  | { kind: 'claimed' }
  | { kind: 'pending'; fingerprint: string }
  | { kind: 'done'; fingerprint: string; answer: StoredAnswer };

export interface IdempotencyStore {
  /** Claims the key for a request with this fingerprint for leaseMs, unless someone holds or answered it. */
  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim>;
  save(client: string, key: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<void>;
  /** Forgets a claim whose request failed in a way a retry may fix. */
  abandon(client: string, key: string): Promise<void>;
}
