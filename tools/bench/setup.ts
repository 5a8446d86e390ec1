// The benchmark's set-up work (not timed): its clients, loading a performance of a generated venue
// (tools/common/venue.ts), the ticket pairs the hold scenarios ask for, and running set-up calls a few at a time.
import { TixlockClient } from '../../src/client';
import { loadPerformance, type PerformanceSettings, type VenueTicket } from '../common/venue';

/** Pairs of adjacent tickets: [t0,t1], [t2,t3], ... (an odd last ticket is left out). */
export function ticketPairs(ids: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < ids.length; i += 2) pairs.push([ids[i] as string, ids[i + 1] as string]);
  return pairs;
}

/**
 * The benchmark's clients for its set-up work (loading, holding for the memory measurement; not timed): the typed
 * client without retries (a failure in the set-up is a finding) and without Idempotency-Keys (their stored answers
 * would count in the memory per locked ticket), with a long timeout (a 50,000-ticket PUT on a busy machine).
 */
export function setupClient(url: string, key: string): TixlockClient {
  return new TixlockClient({ baseUrl: url, apiKey: key, retries: 0, idempotencyKeys: false, timeoutMs: 300_000 });
}

/** Loads a benchmark performance (named `benchmark <id>`) through PUT /performances/{id}, 50,000 tickets per request. */
export function loadBenchPerformance(
  admin: TixlockClient,
  performanceId: string,
  tickets: readonly VenueTicket[],
  settings: Omit<PerformanceSettings, 'name'> = {},
): Promise<void> {
  return loadPerformance(admin, performanceId, tickets, { name: `benchmark ${performanceId}`, ...settings });
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
