// Idempotency-Key answers in Redis: one string per client and key, JSON {state, fingerprint, answer?}.
import type { Redis } from 'ioredis';
import type { Claim, IdempotencyStore, StoredAnswer } from '../http/idempotency';
import { Unavailable } from '../errors';
import { guarded } from './failures';
import { idempotencyKey } from './keys';
import { runScript } from './scripts';

interface Entry {
  state: 'pending' | 'done';
  fingerprint: string;
  answer?: StoredAnswer;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  /** Redis clock minus this process's clock (ms), from the last claim; undefined until one answered. */
  private redisClockOffsetMs: number | undefined;

  /**
   * claimDeadlineMs: a claim that reaches Redis later than ¾ of this after it was sent does nothing (its caller has
   * answered 503 by then); the Redis command timeout. 0 = no deadline.
   */
  constructor(
    private readonly redis: Redis,
    private readonly claimDeadlineMs = 0,
  ) {}

  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
    return guarded(async () => {
      const pending: Entry = { state: 'pending', fingerprint };
      const deadline =
        this.claimDeadlineMs === 0 || this.redisClockOffsetMs === undefined
          ? 0
          : Math.round(Date.now() + this.redisClockOffsetMs + this.claimDeadlineMs * 0.75);
      const reply = await runScript(this.redis, 'idempotency_claim', [idempotencyKey(client, key)], [JSON.stringify(pending), leaseMs, deadline]);
      if (Number(reply[0]) === -50) throw new Unavailable('Redis answered too late; retry shortly.');
      this.redisClockOffsetMs = Number(reply[1]) - Date.now();
      if (Number(reply[0]) === 1) return { kind: 'claimed' };
      const found = JSON.parse(String(reply[2])) as Entry;
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
