// Dead letters: sales the order writer gave up on, kept per performance in `<outbox>-dead` with their error.
// Replay appends each back to its outbox (the writer's idempotent writes make a replay of a written sale harmless)
// and deletes it from the dead letters; the performance's outbox is marked active first, so the writers read it.
// The dead letters themselves are never trimmed: they stay until replayed (or deleted by an operator).
import { markOutbox } from '../redis/active-outboxes';
import type { RedisClient } from '../redis/connection';
import { performanceKeys, performanceSetKey } from '../redis/keys';

export interface DeadLetter {
  performance_id: string;
  id: string;
  fields: Record<string, string>;
}

export class DeadLetters {
  constructor(private readonly redis: RedisClient) {}

  private async performances(performanceId: string | undefined): Promise<string[]> {
    return performanceId ? [performanceId] : (await this.redis.smembers(performanceSetKey)).sort();
  }

  async list(performanceId?: string): Promise<{ dead_letters: DeadLetter[] }> {
    const out: DeadLetter[] = [];
    for (const id of await this.performances(performanceId)) {
      for (const [entryId, flat] of await this.redis.xrange(performanceKeys(id).deadLetters, '-', '+')) {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
        out.push({ performance_id: id, id: entryId, fields });
      }
    }
    return { dead_letters: out };
  }

  async replay(performanceId?: string): Promise<{ replayed: number }> {
    let replayed = 0;
    for (const id of await this.performances(performanceId)) {
      const k = performanceKeys(id);
      const letters = await this.redis.xrange(k.deadLetters, '-', '+');
      if (letters.length > 0) await markOutbox(this.redis, id); // before the entries exist, as a complete does
      for (const [entryId, flat] of letters) {
        // drop the dead-letter bookkeeping, keep the sale's own fields
        const sale: string[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          if (!['original_id', 'error', 'failed_at'].includes(flat[i] as string)) sale.push(flat[i] as string, flat[i + 1] as string);
        }
        await this.redis.multi().xadd(k.outbox, '*', ...sale).xdel(k.deadLetters, entryId).exec();
        replayed += 1;
      }
    }
    return { replayed };
  }
}
