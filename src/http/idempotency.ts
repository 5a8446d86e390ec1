// Idempotency-Key on the transaction writes: a retry with the same key and body gets the first answer again
// instead of doing the work twice. Answers live in a store shared by every API replica (Redis).
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError, InvalidRequest } from '../errors';
import { caller } from './auth';
import { HEADER, transactionHeaders } from './headers';
import type { IdempotencyStore, StoredAnswer } from '../domain/idempotency';

export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/; // visible ASCII, as for other header tokens
/** A retry that finds its twin at work waits this long for the twin's answer before a 409. */
const WAIT_FOR_TWIN_MS = 1_000;
const POLL_MS = 25;
/** Headers of a transaction answer that a replay repeats, sent under the names first answers use. */
const REPLAYED_HEADERS = [HEADER.transactionStatus, HEADER.lockExpires];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface IdempotencySettings {
  store: IdempotencyStore;
  /** how long an answer is kept */
  ttlSeconds: number;
  /** how long a request holds its key while at work (so the claim of a replica that died frees itself) */
  leaseMs: number;
}

/**
 * Middleware for one route. operation(req) names what the request does (so POST and PUT aliases of one update
 * match); the fingerprint is that name plus the parsed body.
 */
export function idempotent(settings: IdempotencySettings, operation: (req: Request) => string) {
  const { store, ttlSeconds, leaseMs } = settings;
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get(HEADER.idempotencyKey);
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw new InvalidRequest([{ path: HEADER.idempotencyKey, message: 'must be 1-255 visible ASCII characters' }]);
    }
    const client = caller(res).name;
    const fingerprint = createHash('sha256')
      .update(`${operation(req)}\n${JSON.stringify(req.body ?? null)}`)
      .digest('hex');

    let claim = await store.claim(client, key, fingerprint, leaseMs);
    const deadline = Date.now() + WAIT_FOR_TWIN_MS;
    while (claim.kind === 'pending' && claim.sameRequest && Date.now() < deadline) {
      await sleep(POLL_MS);
      claim = await store.claim(client, key, fingerprint, leaseMs);
    }
    if (claim.kind !== 'claimed' && !claim.sameRequest) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request.');
    }
    if (claim.kind === 'pending') {
      throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still at work; retry shortly.');
    }
    if (claim.kind === 'done') {
      res.set(claim.answer.headers ?? transactionHeaders(claim.answer.body));
      res.set(HEADER.idempotentReplayed, 'true');
      res.status(claim.answer.status).json(claim.answer.body);
      return;
    }

    // Ours: remember the answer as it goes out. 5xx and 429 are not remembered (a retry may succeed).
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const status = res.statusCode;
      const outcome =
        status >= 500 || status === 429
          ? store.abandon(client, key)
          : store.save(client, key, fingerprint, storedAnswer(status, replayedHeaders(res), body), ttlSeconds * 1000);
      // A store that fails now leaves the claim to lapse with its lease; the answer still goes out.
      outcome.catch(() => undefined);
      return json(body);
    };
    next();
  };
}

/**
 * What a replay needs of an answer: its status and body, and its headers only when they are not the ones recomputed
 * from the body (transactionHeaders), which they always are today: a transaction answer's Transaction-Status and
 * Lock-Expires come from its body, an error sends neither.
 */
function storedAnswer(status: number, headers: Record<string, string>, body: unknown): StoredAnswer {
  const recomputed = transactionHeaders(body);
  const same = JSON.stringify(Object.entries(headers)) === JSON.stringify(Object.entries(recomputed));
  return same ? { status, body } : { status, headers, body };
}

function replayedHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = res.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
