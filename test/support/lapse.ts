// Watching locks lapse on Redis's own clock (TIME, the clock the scripts use; includes/time.lua), for the expiry
// tests: a test waits for what it needs to see (a key gone, the clock past a time) instead of sleeping a guessed
// length, and brackets an answer between two readings of the clock to check the times it reports.
import type { Redis } from 'ioredis';

const POLL_MS = 25;
/** Only turns a hang into a failure: every wait here ends in a few seconds on a working service. */
const DEADLINE_MS = 30_000;

/** Redis's clock, in ms (as the scripts read it). */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = (await redis.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not seen within ${DEADLINE_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Waits until none of these keys exists: their TTL ran out (Redis's own expiry). */
export function untilGone(redis: Redis, keys: string[]): Promise<void> {
  return until(`keys gone: ${keys.join(', ')}`, async () => (await redis.exists(...keys)) === 0);
}

/** Waits until Redis's clock reads at least `ms`. */
export function untilRedisTime(redis: Redis, ms: number): Promise<void> {
  return until(`Redis time ${new Date(ms).toISOString()}`, async () => (await redisNowMs(redis)) >= ms);
}

/** Each key's expiry as Redis holds it (PEXPIRETIME, ms; -2 for no key, -1 for no TTL). */
export function expiryOf(redis: Redis, keys: string[]): Promise<number[]> {
  return Promise.all(keys.map((k) => redis.call('PEXPIRETIME', k) as Promise<number>));
}

export interface Timed<T> {
  /** Redis's clock just before the call and just after its answer */
  before: number;
  after: number;
  answer: T;
}

/** Runs `call` between two readings of Redis's clock: whatever time the service read meanwhile lies between them. */
export async function timed<T>(redis: Redis, call: () => Promise<T>): Promise<Timed<T>> {
  const before = await redisNowMs(redis);
  const answer = await call();
  return { before, answer, after: await redisNowMs(redis) };
}

/**
 * A reported lock_expires is now + the hold (capped at `cap`), "now" being the script's reading of the clock
 * during the call; and it was in the future when the answer came.
 */
export function expectLockExpires(lockExpires: string, call: Timed<unknown>, holdMs: number, cap = Infinity): number {
  const at = Date.parse(lockExpires);
  expect(at).toBeGreaterThanOrEqual(Math.min(call.before + holdMs, cap));
  expect(at).toBeLessThanOrEqual(Math.min(call.after + holdMs, cap));
  expect(at).toBeGreaterThan(call.after);
  return at;
}

/**
 * Ends a "still held" phase: every lock key is still there (PTTL > 0), so the checks of the phase, made before,
 * all ran while the locks were held. A phase that outlived its hold fails here, saying so.
 */
export async function expectStillHeld(redis: Redis, keys: string[]): Promise<void> {
  const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
  expect({ stillHeld: keys, pttl: ttls.map((ms) => ms > 0) }).toEqual({ stillHeld: keys, pttl: keys.map(() => true) });
}

/** Waits until Redis's clock has moved on from now by a millisecond: a script run after it reads a later time. */
export async function untilRedisTimeAdvances(redis: Redis): Promise<void> {
  await untilRedisTime(redis, (await redisNowMs(redis)) + 1);
}
