// Every Redis key name tixlock uses. Keys of one performance share the hash tag {p:<id>}, so each script runs
// in one Redis Cluster slot; the few global keys are read or written outside scripts.
import { crc32 } from 'node:zlib';

const tag = (performanceId: string) => `tix:{p:${performanceId}}`;

/** Keys of one performance, in the order the per-performance scripts take them. */
export function performanceKeys(performanceId: string) {
  const t = tag(performanceId);
  return {
    performance: `${t}:perf`, // hash: settings, code, next_ord, order_seq, created_at, updated_at
    tickets: `${t}:tickets`, // hash: ticket id -> "ord|price|section|row|seat|price_level"
    available: `${t}:avail`, // set of partition names "section|price_level" (see availablePartitionKey)
    holds: `${t}:holds`, // zset: locked ticket id by lock expiry (ms)
    sold: `${t}:sold`, // hash: ticket id -> "order_number|transaction_id"
    lockPrefix: `${t}:lock:`, // string per locked ticket: transaction id, PX TTL = the hold
    transactionPrefix: `${t}:tx:`, // hash per transaction
    outbox: `${t}:outbox`, // stream of completed sales, read by the order writer
    deadLetters: `${t}:outbox-dead`, // stream of sales the order writer gave up on, with their error
  };
}

/** zset of a performance's available tickets of one section and price level, by price * 2^22 + ord. */
export const availablePartitionKey = (performanceId: string, section: string, priceLevel: string) =>
  `${performanceKeys(performanceId).available}:${section}|${priceLevel}`;

export const transactionKey = (performanceId: string, transactionId: string) =>
  `${performanceKeys(performanceId).transactionPrefix}${transactionId}`;

/** Global: transaction id -> performance id (so a request by transaction id finds its slot). */
export const transactionIndexKey = (transactionId: string) => `tix:txp:${transactionId}`;

const TICKET_INDEX_BUCKETS = 65536;
/**
 * Global: ticket id -> performance id, spread over 65,536 small hashes (compact listpack encoding keeps
 * the index at a few dozen bytes per ticket). A ticket id belongs to one performance forever.
 */
export const ticketIndexKey = (ticketId: string) => `tix:tp:${crc32(ticketId) % TICKET_INDEX_BUCKETS}`;

/** Global: counter that numbers performances (the prefix of their order numbers). */
export const performanceSequenceKey = 'tix:perf-seq';

/** Global: set of every performance id (the order writer finds outboxes here). */
export const performanceSetKey = 'tix:performances';

/** Consumer group of the order writers on every outbox stream (a group name, not a key). */
export const outboxGroup = 'order-writer';

/** redlock resource: the one order-writer replica that runs the periodic reclaim and sweep. */
export const writerSweepLockKey = 'tix:lock:writer-sweep';

/** The performance id of an outbox or dead-letter stream key. */
export function performanceOfStream(key: string): string | undefined {
  return /^tix:\{p:(.+)\}:outbox(-dead)?$/.exec(key)?.[1];
}
