// Transaction ids carry their performance: a UUID (version 8, RFC 9562) whose first 32 bits are the performance's
// code. Any API replica finds a transaction's performance, and so its Redis slot, from the id alone (through the
// code -> performance mapping written when the performance was created, and cached for good), with no index
// written beside the hold: a hold either happened with its id or not at all, on one shard.
import { createHash, randomBytes } from 'node:crypto';

/** The largest performance code an id can carry (32 bits). */
export const MAX_CODE = 0xffffffff;

const V8 = /^([0-9a-f]{8})-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A transaction id for a performance: random, or derived from `seed` (the same seed and code give the same id;
 * a client's retry key). 90 random (or hashed) bits follow the code.
 */
export function mintTransactionId(performanceCode: number, seed?: string): string {
  if (!Number.isInteger(performanceCode) || performanceCode < 1 || performanceCode > MAX_CODE) {
    throw new RangeError(`performance code out of range: ${performanceCode}`);
  }
  const bytes = seed === undefined ? randomBytes(16) : createHash('sha256').update(seed).digest().subarray(0, 16);
  bytes.writeUInt32BE(performanceCode, 0);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The performance code a transaction id carries; undefined for anything tixlock did not mint. */
export function performanceCodeOf(transactionId: string): number | undefined {
  const m = V8.exec(transactionId.toLowerCase());
  if (!m) return undefined;
  const code = parseInt(m[1] as string, 16);
  return code >= 1 ? code : undefined;
}
