// Order numbers stay unique when Redis rolls back. A rollback comes with a failover, and a failover with a new
// connection: after every (re)connection to Redis, each performance's first complete carries the highest order
// sequence the document store holds for it. complete.lua numbers the sale above it, and when Redis's own
// sequence is below it (Redis forgot sales the store has), marks the performance recovering and sells nothing
// (503 RECOVERING) until the order writer has rehydrated it. Afterwards the performance is "verified" for this
// connection and its completes carry 0 (no store read on the hot path).
import type { DocumentStore } from './documents';
import { storedOrderSequence } from './order-number';

export interface FenceRead {
  /** the store's highest order sequence for the performance; 0 = already verified (or unknown) */
  minSequence: number;
  epoch: number;
}

export class OrderNumberFence {
  private epoch = 0;
  /** performance id -> the epoch in which a complete with the store's sequence went through */
  private readonly verified = new Map<string, number>();

  constructor(
    private readonly documents: Pick<DocumentStore, 'lastOrderNumber'>,
    private readonly onStoreError: (err: unknown) => void = () => undefined,
  ) {}

  /** A (re)connection to Redis, or a change of its nodes: every performance must be checked again. */
  invalidate(): void {
    this.epoch++;
    this.verified.clear();
  }

  async read(performanceId: string): Promise<FenceRead> {
    const epoch = this.epoch;
    if (this.verified.get(performanceId) === epoch) return { minSequence: 0, epoch };
    try {
      return { minSequence: (await storedOrderSequence(this.documents, performanceId)).sequence, epoch };
    } catch (err) {
      // the store is down: sell on (completes need only Redis), unchecked; the next complete tries again
      this.onStoreError(err);
      return { minSequence: 0, epoch: -1 };
    }
  }

  /** The complete that carried `read` went through: the performance is verified until the next invalidate(). */
  confirm(performanceId: string, read: FenceRead): void {
    if (read.epoch === this.epoch) this.verified.set(performanceId, read.epoch);
  }
}
