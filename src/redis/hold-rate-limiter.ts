// The per-client-key hold rate limit (rate-limiter-flexible on Redis, so every API replica counts together).
import type { RedisClient } from './connection';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimited } from '../errors';
import type { HoldRateLimiter } from '../domain/types';
import { holdRateKeyPrefix } from './keys';
import { toStoreError } from './failures';

export class RedisHoldRateLimiter implements HoldRateLimiter {
  private readonly limiter: RateLimiterRedis;

  /** points: holds allowed per client key in each window of windowSeconds. */
  constructor(
    redis: RedisClient,
    private readonly points: number,
    private readonly windowSeconds: number,
  ) {
    this.limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: holdRateKeyPrefix, points, duration: windowSeconds });
  }

  async consume(client: string): Promise<void> {
    try {
      await this.limiter.consume(client);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw new RateLimited(
          Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
          `At most ${this.points} holds per ${this.windowSeconds} s for this key; retry later.`,
        );
      }
      throw toStoreError(err);
    }
  }
}
