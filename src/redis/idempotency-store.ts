// Idempotency-Key answers in Redis: one string per client and key, JSON {state, fingerprint, answer?}.
import type { RedisClient } from './connection';
import type { Claim, IdempotencyStore, StoredAnswer } from '../domain/idempotency';
import { Unavailable } from '../errors';
import { RedisDeadlines } from './clock';
import { guarded } from './failures';
import { idempotencyKey } from './keys';
import { runBound, SCRIPT_BINDINGS } from './script-bindings';

interface Entry {
  state: 'pending' | 'done';
  fingerprint: string;
  answer?: StoredAnswer;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  /**
   * deadlines: a claim that reaches Redis after its caller answered 503 does nothing (else it would block the key's
   * retries for a whole lease). Default: none.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly deadlines = new RedisDeadlines(0),
  ) {}

  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
    return guarded(async () => {
      const pending: Entry = { state: 'pending', fingerprint };
      const reply = await runBound(this.redis, 'idempotency_claim', {
        keys: { record: idempotencyKey(client, key) },
        args: { pending: JSON.stringify(pending), lease_ms: leaseMs, deadline: this.deadlines.deadline() },
      });
      const claim = SCRIPT_BINDINGS.idempotency_claim.decode(reply);
      if (claim.status === -50) throw new Unavailable('Redis answered too late; retry shortly.', 'redis_late');
      this.deadlines.observe(claim.nowMs);
      if (claim.status === 1) return { kind: 'claimed' };
      const found = JSON.parse(claim.record ?? '{}') as Entry;
      if (found.state === 'done' && found.answer) return { kind: 'done', fingerprint: found.fingerprint, answer: found.answer };
      return { kind: 'pending', fingerprint: found.fingerprint };
    });
  }

  save(client: string, key: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<void> {
    const done: Entry = { state: 'done', fingerprint, answer };
    return guarded(async () => {
      await this.redis.set(idempotencyKey(client, key), JSON.stringify(done), 'PX', ttlMs);
    });
  }

  abandon(client: string, key: string): Promise<void> {
    return guarded(async () => {
      await this.redis.del(idempotencyKey(client, key));
    });
  }
}
