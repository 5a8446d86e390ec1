// The active outboxes: the performances whose outbox may hold a sale the order writer has not persisted yet
// (activeOutboxesKey, a zset: performance id -> Redis time in ms of its latest mark). The writers read, claim and
// trim only these, so an idle writer costs the same with 10 performances or 10,000.
//
// Who writes it. complete.lua runs in its performance's Cluster slot and may not touch this global key, so the API
// marks the performance (mark_outbox.lua) BEFORE it runs the complete: no crash of the API can leave a sale without
// its mark. The mark's time T bounds the sale: the complete carries the deadline T + MARK_VALID_MS and does nothing
// when it reaches Redis later (-50, a 503). A process reuses its mark for the completes it sends within
// MARK_REUSE_MS of getting it, so a busy performance costs one mark round trip per half minute, not one per sale.
// A mark that fails (on a Cluster, the set's shard unreachable while the performance's is fine) does not stop the
// sale: it runs unmarked and without a deadline, and the backstop below finds it.
//
// Who removes it. The writer elected for the sweep trims every active outbox (trim_outbox.lua) and takes a
// performance out (retire_outbox.lua) only when its outbox was found empty with nothing pending at least the
// writer's retireAfterMs (>= RETIRE_MIN_MS) after its latest mark, and the mark has not moved since the writer read
// it. Every complete covered by that mark ran, if at all, by T + MARK_VALID_MS on its performance's node, whose
// clock also timed the drained look at >= T + RETIRE_MIN_MS: its sale was in the outbox then, and had been
// persisted and acknowledged. A newer mark (ZADD GT) keeps the performance; one that comes after the removal
// puts it back. The archive drops a performance it has closed with dropActiveOutbox.
//
// What marks can still miss (the global key's shard failing over before it replicated a mark, outboxes left by a
// tixlock before this set existed) the sweep's scan finds: a few performances per sweep, round robin over every
// performance, and an outbox holding entries without a mark is marked again (see OrderWriter.sweep). A sale is
// then late by at most one pass of that scan, never lost: its entry stays in the outbox until acknowledged.
import { activeOutboxesKey, performanceKeys } from './keys';
import type { RedisClient } from './connection';
import { runBound, SCRIPT_BINDINGS } from './script-bindings';

/** A complete runs within this long of its performance's mark (Redis time), or does nothing. */
export const MARK_VALID_MS = 60_000;
/** A process sends completes under a mark it got this long ago at most, then marks again. */
export const MARK_REUSE_MS = 30_000;
/**
 * The writer retires an outbox found drained at least this long after its latest mark: MARK_VALID_MS plus 30 s
 * for the clock of the outbox's node to step back (a failover to a replica whose clock is behind).
 */
export const RETIRE_MIN_MS = 90_000;

/** Marks a performance's outbox active; returns the mark's Redis time (ms). */
export async function markOutbox(redis: RedisClient, performanceId: string): Promise<number> {
  const reply = await runBound(redis, 'mark_outbox', { keys: { active: activeOutboxesKey }, args: { performance_id: performanceId } });
  return SCRIPT_BINDINGS.mark_outbox.decode(reply);
}

/** The active performances and their latest marks (ms). */
export async function activeOutboxes(redis: RedisClient): Promise<Map<string, number>> {
  const flat = await redis.zrange(activeOutboxesKey, '0', '-1', 'WITHSCORES');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
  return out;
}

export interface TrimResult {
  /** entries left in the outbox (not yet delivered, pending, or after a pending one) */
  left: number;
  /** entries delivered and not acknowledged */
  pending: number;
  /** the Redis time of the look (ms, the outbox's node) */
  nowMs: number;
  /** entries removed now */
  trimmed: number;
}

/**
 * Removes the entries of a performance's outbox that every consumer group has delivered and had acknowledged
 * (XTRIM MINID below the oldest entry some group still needs); never a pending or undelivered one.
 */
export async function trimOutbox(redis: RedisClient, performanceId: string): Promise<TrimResult> {
  const reply = await runBound(redis, 'trim_outbox', { keys: { outbox: performanceKeys(performanceId).outbox }, args: {} });
  return SCRIPT_BINDINGS.trim_outbox.decode(reply);
}

/**
 * Takes a performance out of the active outboxes if it is still marked at `markedAt` and `drained` (a trim that
 * found its outbox empty, nothing pending) came at least `idleMs` after that mark. Returns whether it did.
 */
export async function retireOutbox(
  redis: RedisClient,
  performanceId: string,
  markedAt: number,
  drained: TrimResult,
  idleMs: number,
): Promise<boolean> {
  if (drained.left !== 0 || drained.pending !== 0) return false;
  const reply = await runBound(redis, 'retire_outbox', {
    keys: { active: activeOutboxesKey },
    args: { performance_id: performanceId, marked_at: markedAt, drained_at: drained.nowMs, idle_ms: Math.max(idleMs, 0) },
  });
  return SCRIPT_BINDINGS.retire_outbox.decode(reply);
}

/**
 * For the archive: forgets a performance that sells no more and whose outbox the writer has drained (call it
 * before deleting the performance's keys, so no writer re-creates its outbox). A complete that still ran would mark
 * it again.
 */
export async function dropActiveOutbox(redis: RedisClient, performanceId: string): Promise<void> {
  await redis.zrem(activeOutboxesKey, performanceId);
}

/** The marks one API process has made: performance id -> the mark's Redis time and when this process got it. */
export class OutboxMarks {
  private readonly marks = new Map<string, { at: number; gotAt: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly reuseMs = MARK_REUSE_MS,
    private readonly maxEntries = 100_000,
  ) {}

  /**
   * Marks the performance's outbox active unless this process did so within reuseMs; returns the deadline (Redis
   * ms) of a complete sent now: the mark's time + MARK_VALID_MS.
   */
  async deadlineFor(performanceId: string): Promise<number> {
    const known = this.marks.get(performanceId);
    if (known && Date.now() - known.gotAt < this.reuseMs) return known.at + MARK_VALID_MS;
    const at = await markOutbox(this.redis, performanceId);
    if (this.marks.size >= this.maxEntries) this.marks.clear(); // marking again is all a forgotten one costs
    this.marks.set(performanceId, { at, gotAt: Date.now() });
    return at + MARK_VALID_MS;
  }

  /** Redis may have lost the marks (a reconnection, a failover): the next complete of each performance marks again. */
  forget(): void {
    this.marks.clear();
  }
}
