// A performance's lifecycle: open (it sells) → closed (an admin closed it, POST /performances/{id}/close, or it ended:
// its ends_at, else its starts_at + PERFORMANCE_END_GRACE_SECONDS) → archived (once every sale is persisted and no lock
// is left, its Redis state is removed and the document store answers for it: archive.ts). Closed means no new holds
// and no inventory; a transaction whose lock is live may still be checked out and completed until the lock lapses.
// lua/includes/closed.lua enforces the same in Redis, from the perf hash's closed_at and ends_ms.
import { performanceClosed } from '../errors';
import type { DocumentStore } from './documents';
import type { PerformanceInfo } from './types';

export const LIFECYCLES = ['open', 'closed', 'archived'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

/** A performance's end (ms): its ends_at, else its starts_at + grace; undefined when it has neither (it never ends on its own). */
export function endOf(settings: { starts_at?: string | undefined; ends_at?: string | undefined }, graceSeconds: number): number | undefined {
  if (settings.ends_at !== undefined) return Date.parse(settings.ends_at);
  if (settings.starts_at !== undefined) return Date.parse(settings.starts_at) + graceSeconds * 1000;
  return undefined;
}

/** When it closed (ms): the earlier of an admin close and its end, once that came; undefined while open. */
export function closedAt(p: Pick<PerformanceInfo, 'closed_at_ms' | 'ends_ms' | 'now_ms'>): number | undefined {
  const ended = p.ends_ms !== undefined && p.now_ms >= p.ends_ms ? p.ends_ms : undefined;
  if (p.closed_at_ms === undefined) return ended;
  return ended === undefined ? p.closed_at_ms : Math.min(ended, p.closed_at_ms);
}

/** Where a performance Redis still has stands (a sealed one is archived: its keys are about to go). */
export function lifecycleOf(p: Pick<PerformanceInfo, 'closed_at_ms' | 'ends_ms' | 'now_ms' | 'sealed_at_ms'>): Lifecycle {
  if (p.sealed_at_ms !== undefined) return 'archived';
  return closedAt(p) === undefined ? 'open' : 'closed';
}

/**
 * What the document store knows of archived performances, for the answers about one Redis no longer has: a hold on
 * it is 409 PERFORMANCE_CLOSED rather than a 404. Only asked on those error paths; a store that does not answer
 * leaves the original error.
 */
export class ArchivedPerformances {
  constructor(private readonly documents: Pick<DocumentStore, 'getPerformance' | 'ticketPerformances'>) {}

  async isArchived(performanceId: string): Promise<boolean> {
    return (await this.documents.getPerformance(performanceId))?.archive !== undefined;
  }

  /** Every one of the ticket ids belongs to an archived performance. */
  async allArchived(ticketIds: readonly string[]): Promise<boolean> {
    const owners = await this.documents.ticketPerformances(ticketIds);
    if (ticketIds.some((id) => !owners.has(id))) return false;
    for (const performanceId of new Set(owners.values())) if (!(await this.isArchived(performanceId))) return false;
    return true;
  }

  /** `err` again, or PERFORMANCE_CLOSED when what it says is missing belongs to archived performances. */
  async explain(err: unknown, what: { performanceId?: string; ticketIds?: readonly string[] }): Promise<unknown> {
    try {
      if (what.performanceId !== undefined && (await this.isArchived(what.performanceId))) return performanceClosed();
      if (what.ticketIds !== undefined && what.ticketIds.length > 0 && (await this.allArchived(what.ticketIds))) return performanceClosed();
    } catch {
      // the store did not answer: the original answer stands
    }
    return err;
  }
}
