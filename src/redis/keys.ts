// Every Redis key name tixlock uses. Keys of one performance share the hash tag {p:<id>}, so each script runs
// in one Redis Cluster slot; the few global keys are read or written outside scripts.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

const tag = (performanceId: string) => `tix:{p:${performanceId}}`;

/** Keys of one performance, in the order the per-performance scripts take them. */
export function performanceKeys(performanceId: string) {
  const t = tag(performanceId);
  return {
    performance: `${t}:perf`, // hash: settings, code, next_ord, order_seq, created_at, updated_at
    tickets: `${t}:tickets`, // hash: ticket id -> "ord|price|section|row|seat|price_level"
    available: `${t}:avail`, // set of partition names "section|price_level|price" (see availableChunkKey)
    holds: `${t}:holds`, // zset: locked ticket id by lock expiry (ms)
    sold: `${t}:sold`, // hash: ticket id -> "order_number|transaction_id"
    lockPrefix: `${t}:lock:`, // string per locked ticket: transaction id, PX TTL = the hold
    transactionPrefix: `${t}:tx:`, // hash per transaction
    outbox: `${t}:outbox`, // stream of completed sales, read by the order writer
    deadLetters: `${t}:outbox-dead`, // stream of sales the order writer gave up on, with their error
  };
}

/**
 * The available index (built by lua/includes/avail*.lua, documented in lua/includes/avail.lua): partition "section|price_level|price" of a
 * performance is a zset of its non-empty chunk numbers, and chunk floor(ord / 128) of it a small zset of available
 * ticket ids by price * 2^22 + ord. `<available>:n` counts the available tickets. The heads zsets order the
 * non-empty partitions by the score of their cheapest available ticket (all of them, and those of one price level);
 * a section's set lists its non-empty partitions. Section and price level never contain '|', so no name here can
 * equal a partition's.
 */
export const availablePartitionKey = (performanceId: string, partition: string) =>
  `${performanceKeys(performanceId).available}:${partition}`;
export const availableChunkKey = (performanceId: string, partition: string, chunk: number) =>
  `${availablePartitionKey(performanceId, partition)}#${chunk}`;
export const availableCountKey = (performanceId: string) => `${performanceKeys(performanceId).available}:n`;
export const availableHeadsKey = (performanceId: string) => `${performanceKeys(performanceId).available}:h`;
export const availableLevelHeadsKey = (performanceId: string, priceLevel: string) =>
  `${performanceKeys(performanceId).available}:hl:${priceLevel}`;
export const availableSectionKey = (performanceId: string, section: string) =>
  `${performanceKeys(performanceId).available}:s:${section}`;
/** Ords per chunk of the available index; the scripts get it as CHUNK (SHARED_CONSTANTS in scripts.ts). */
export const AVAILABLE_CHUNK = 128;
/** Ords per price in an availability score (price * ORD_SPAN + ord); the scripts get it as ORD_SPAN. */
export const ORD_SPAN = 2 ** 22;
/**
 * Every key of a performance's available index, given its partitions (the members of its `available` set) and each
 * one's chunk numbers: the set, its count and heads, and per partition its chunk list, chunks, section set and price
 * level heads (the archive removes them; an emptied chunk, partition, section or level leaves no key behind).
 */
export function availableIndexKeys(performanceId: string, partitions: readonly { partition: string; chunks: readonly number[] }[]): string[] {
  const keys = new Set([performanceKeys(performanceId).available, availableCountKey(performanceId), availableHeadsKey(performanceId)]);
  for (const { partition, chunks } of partitions) {
    const [section = '', level = ''] = partition.split('|');
    keys.add(availablePartitionKey(performanceId, partition));
    for (const chunk of chunks) keys.add(availableChunkKey(performanceId, partition, chunk));
    keys.add(availableSectionKey(performanceId, section));
    keys.add(availableLevelHeadsKey(performanceId, level));
  }
  return [...keys];
}

/** The available-index partition (and its section and price level) and chunk of a ticket record "ord|price|section|row|seat|price_level". */
export function availableSlotOf(record: string): { partition: string; section: string; priceLevel: string; chunk: number } {
  const [ord = '0', price = '', section = '', , , level = ''] = record.split('|');
  return { partition: `${section}|${level}|${price}`, section, priceLevel: level, chunk: Math.floor(Number(ord) / AVAILABLE_CHUNK) };
}

/**
 * zset of the tickets one buyer has locked in a performance, by lock expiry (ms): the per-buyer limit. The buyer is
 * its id, else its lower-cased email; hashed, so no buyer-supplied text becomes part of a key name.
 */
export function buyerKey(performanceId: string, buyer: { id?: string | undefined; email?: string | undefined }): string | undefined {
  const identity = buyer.id !== undefined ? `id:${buyer.id}` : buyer.email !== undefined ? `email:${buyer.email.toLowerCase()}` : undefined;
  if (identity === undefined) return undefined;
  return `${tag(performanceId)}:buyer:${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

export const transactionKey = (performanceId: string, transactionId: string) =>
  `${performanceKeys(performanceId).transactionPrefix}${transactionId}`;

/**
 * Global: performance code -> performance id, written once before the performance's first tickets load (a
 * transaction id carries its performance's code, see src/domain/transaction-id.ts). Never changes.
 */
export const performanceCodeKey = (code: number) => `tix:pc:${code}`;

const TICKET_INDEX_BUCKETS = 65536;
/**
 * Global: ticket id -> performance id, spread over 65,536 small hashes (compact listpack encoding keeps
 * the index at a few dozen bytes per ticket). A ticket id belongs to one performance forever.
 */
export const ticketIndexKey = (ticketId: string) => `tix:tp:${crc32(ticketId) % TICKET_INDEX_BUCKETS}`;

/** Global: prefix of the hold rate limiter's counters, one per client key name (rate-limiter-flexible adds ':<client>'). */
export const holdRateKeyPrefix = 'tix:rl:hold';

/**
 * Global: the remembered answer to one Idempotency-Key of one client (the key is hashed: any text is allowed; 132
 * bits of its SHA-256 in base64url). The value is the binary record of src/redis/idempotency-store.ts; `idem2`
 * names its format, so a replica of an earlier version (JSON under `tix:idem:`) never reads it, nor it theirs.
 */
export const idempotencyKey = (client: string, key: string) =>
  `tix:idem2:${client}:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;

/** Global: counter that numbers performances (the prefix of their order numbers). */
export const performanceSequenceKey = 'tix:perf-seq';

/**
 * Global: set of every performance id. The order writer's sweep scans it a few members per round (outboxes holding
 * sales without their mark in activeOutboxesKey); dead-letter commands list performances from it.
 */
export const performanceSetKey = 'tix:performances';

/**
 * Global: zset of the performances whose outbox the order writers read: performance id -> Redis time (ms) of its
 * latest mark. The API marks a performance before each complete; the writer's sweep removes it once its outbox is
 * drained and idle (src/redis/active-outboxes.ts).
 */
export const activeOutboxesKey = 'tix:outbox-active';

/** Consumer group of the order writers on every outbox stream (a group name, not a key). */
export const outboxGroup = 'order-writer';

/** redlock resource: the one order-writer replica that runs the periodic reclaim and sweep. */
export const writerSweepLockKey = 'tix:lock:writer-sweep';

/** redlock resource: the one archive run at a time (the sweeping writer's job, or `tixlock archive`). */
export const archiveLockKey = 'tix:lock:archive';

/** The performance id of an outbox or dead-letter stream key. */
export function performanceOfStream(key: string): string | undefined {
  return /^tix:\{p:(.+)\}:outbox(-dead)?$/.exec(key)?.[1];
}
