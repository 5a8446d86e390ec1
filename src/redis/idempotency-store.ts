// Idempotency-Key answers in Redis: one string per client and key, JSON {state, fingerprint, answer?}.
import type { Redis } from 'ioredis';
import type { Claim, IdempotencyStore, StoredAnswer } from '../http/idempotency';
import { guarded } from './failures';
import { idempotencyKey } from './keys';

interface Entry {
  state: 'pending' | 'done';
  fingerprint: string;
  answer?: StoredAnswer;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(private readonly redis: Redis) {}

  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
    return guarded(async () => {
      const k = idempotencyKey(client, key);
      const pending: Entry = { state: 'pending', fingerprint };
      // Two tries: the record may lapse between a refused SET NX and the GET.
      for (let attempt = 0; attempt < 2; attempt++) {
        if ((await this.redis.set(k, JSON.stringify(pending), 'PX', leaseMs, 'NX')) === 'OK') return { kind: 'claimed' };
        const raw = await this.redis.get(k);
        if (raw === null) continue;
        const found = JSON.parse(raw) as Entry;
        if (found.state === 'done' && found.answer) return { kind: 'done', fingerprint: found.fingerprint, answer: found.answer };
        return { kind: 'pending', fingerprint: found.fingerprint };
      }
      return { kind: 'pending', fingerprint };
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
