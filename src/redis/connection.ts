// Redis connections: bounded waits (command timeout, no offline queue) so a Redis outage is a quick 503,
// and automatic reconnects so the service recovers without a restart.
import { Redis } from 'ioredis';
import { defineScripts } from './scripts';

export interface RedisOptions {
  commandTimeoutMs: number;
  /**
   * Write the commands issued in one event-loop turn in one go (ioredis enableAutoPipelining): under load the
   * API's many concurrent requests share socket writes and reads instead of paying one each. Not for a
   * connection that runs blocking commands.
   */
  autoPipelining?: boolean;
}

export async function connectRedis(url: string, options: RedisOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
    enableOfflineQueue: false, // fail fast while disconnected instead of queueing without bound
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    enableAutoPipelining: options.autoPipelining ?? false,
  });
  redis.on('error', () => {
    // connection errors surface on the commands that hit them (as 503s); reconnects are automatic
  });
  defineScripts(redis);
  await redis.connect();
  return redis;
}
