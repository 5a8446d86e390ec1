// Detecting a Redis that lost or rolled back acknowledged data, and recovering from it: a performance whose Redis
// state is behind the document store answers RECOVERING to holds and sales until it has been rehydrated from the
// store (which sells in Redis every ticket the store has sold), so nothing is sold twice unnoticed.
//
// Behind means: Redis has nothing of a performance the store has, or its order sequence is below the highest
// order number the store holds (sales that Redis forgot), or the order writer met a conflicting sale (a number or
// a ticket the store has for another transaction: Redis sold again what it had forgotten).
import type { DocumentStore, PerformanceDoc } from './documents';
import { AppError } from '../errors';
import { storedOrderSequence } from './order-number';
import { rehydrate } from './rehydrate';
import type { LockStore } from './types';

export interface ReconcileResult {
  performance_id: string;
  /** why it was (or still is) marked recovering; undefined = in step with the store */
  behind: string | undefined;
  rehydrated: boolean;
}

/**
 * Why a performance's Redis state is behind the store, or undefined when it is not. The store is read first: every
 * sale it holds was numbered by Redis before, and Redis's sequence only grows, so a Redis read after it can be
 * behind only when Redis lost data. (Read the other way round, a sale completed and persisted between the two
 * reads looks like a loss: the on-sale harness met exactly that under load.)
 */
async function readBehind(documents: DocumentStore, locks: LockStore, performanceId: string) {
  const stored = await storedOrderSequence(documents, performanceId);
  const state = await locks.salesState(performanceId);
  let reason: string | undefined;
  if (!state.exists) {
    // archived since the list was read? The archive records it in the store before it removes a key, so a store read
    // after this Redis read sees it (Redis forgot it on purpose)
    if ((await documents.getPerformance(performanceId))?.archive) return { reason: undefined, marked: undefined };
    reason = 'Redis has none of this performance';
  }
  else if (state.orderSeq < stored.sequence) {
    reason = `Redis order sequence ${state.orderSeq} is behind the store's ${stored.sequence} (${stored.orderNumber})`;
  }
  return { reason, marked: state.recovering };
}

/**
 * Checks performances of the store against Redis (`performances`, or every one the store has): marks the ones
 * behind as recovering and, with `autoRehydrate`, rehydrates each marked one (new or earlier) and clears its mark.
 * An archived performance is not behind: Redis forgot it on purpose (archive.ts).
 */
export async function reconcile(
  documents: DocumentStore,
  locks: LockStore,
  autoRehydrate: boolean,
  performances?: readonly Pick<PerformanceDoc, 'id' | 'archive'>[],
): Promise<ReconcileResult[]> {
  const results: ReconcileResult[] = [];
  for (const performance of performances ?? (await documents.listPerformances())) {
    if (performance.archive) continue;
    const { reason, marked } = await readBehind(documents, locks, performance.id);
    if (reason !== undefined && marked === undefined) await locks.markRecovering(performance.id, reason);
    const behind = reason ?? marked;
    if (behind === undefined) continue;
    let rehydrated = false;
    if (autoRehydrate) {
      await rehydrate(documents, locks, [performance.id]);
      await locks.clearRecovering(performance.id);
      rehydrated = true;
    }
    results.push({ performance_id: performance.id, behind, rehydrated });
  }
  return results;
}

/**
 * Of these performances, the ones already marked recovering (by a complete that found Redis behind the store, or by
 * the order writer's conflict check): with `autoRehydrate`, each is rehydrated and its mark cleared. One Redis read
 * per performance, no store read unless one is marked. A performance the store does not have stays marked (reported,
 * not rehydrated).
 */
export async function rehydrateMarked(
  documents: DocumentStore,
  locks: LockStore,
  autoRehydrate: boolean,
  performanceIds: readonly string[],
): Promise<ReconcileResult[]> {
  const results: ReconcileResult[] = [];
  for (const id of performanceIds) {
    const { recovering } = await locks.salesState(id);
    if (recovering === undefined) continue;
    let rehydrated = false;
    if (autoRehydrate) {
      try {
        await rehydrate(documents, locks, [id]);
        await locks.clearRecovering(id);
        rehydrated = true;
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'PERFORMANCE_NOT_FOUND')) throw err;
      }
    }
    results.push({ performance_id: id, behind: recovering, rehydrated });
  }
  return results;
}
