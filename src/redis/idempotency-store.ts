// Idempotency-Key answers in Redis: one binary string per client and key (idempotencyKey in keys.ts), holding what
// a replay needs and no more: a hash of the request's fingerprint, the status, the headers a replay cannot
// recompute (usually none), and the body's JSON deflated with a preset dictionary of the answers' usual text.
// A hold's answer (2 tickets) is about 170 bytes here, where its JSON was about 1,100 (docs/memory.md).
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RedisClient } from './connection';
import type { Claim, IdempotencyStore, StoredAnswer } from '../domain/idempotency';
import { Unavailable } from '../errors';
import { RedisDeadlines } from './clock';
import { guarded } from './failures';
import { idempotencyKey } from './keys';
import { runBoundBinary, SCRIPT_BINDINGS } from './script-bindings';

/**
 * Record format 1 (the key's `idem2` prefix names it):
 *   byte 0           1 = pending (a request at work), 2 = done (an answer)
 *   bytes 1-16       the first 16 bytes of SHA-256(fingerprint)
 * done only:
 *   bytes 17-18      status, unsigned big-endian
 *   byte 19          flags: 1 = headers follow, 2 = no body
 *   [headers]        2-byte big-endian length, then their JSON (only when the answer sent headers other than those
 *                    recomputed from its body)
 *   rest             the body's JSON (UTF-8), raw deflate with DICTIONARY as preset dictionary (DEFLATE)
 */
const PENDING = 1;
const DONE = 2;
const FINGERPRINT_BYTES = 16;
const HAS_HEADERS = 1;
const NO_BODY = 2;

/**
 * The preset dictionary of format 1: the text transaction and error answers repeat (member names, states, the shape
 * of a UUID and of a time), the likeliest last. Frozen: an answer stored with it must inflate with it for as long as
 * it is kept, so a change is a new format (and key prefix). test/idempotency-record.test.ts pins its hash.
 */
export const DICTIONARY = Buffer.from(
  '{"status":"ERROR","error":{"code":"INVALID_TRANSACTION_STATE","message":"","request_id":"","transaction_status":"expired"}}' +
    '{"status":"ERROR","error":{"code":"TICKETS_UNAVAILABLE","message":"","request_id":"","tickets":[{"id":"","reason":"locked"}]}}' +
    '"transaction_status":"released","transaction_status":"complete","transaction_status":"checkout",' +
    '{"id":"","performance_id":"","section":null,"row":null,"seat":null,"price":0,"price_level":null,"state":"available","sold":false}' +
    '{"id":"","performance_id":"","section":"","row":"","seat":"","price":5000,"price_level":"","state":"sold","sold":true,"order_number":"","transaction_id":""}' +
    '{"status":"OK","transaction_id":"00000000-0000-8000-8000-000000000000","transaction_status":"open","performance_id":"",' +
    '"tickets":[{"id":"","performance_id":"","section":"","row":"","seat":"1","price":10000,"price_level":"A","state":"locked",' +
    '"sold":false,"transaction_id":"00000000-0000-8000-8000-000000000000","lock_expires":"2030-01-01T00:00:00.000Z",' +
    '"locked_by":"","locked_ip":"127.0.0.1"}],"created_at":"2030-01-01T00:00:00.000Z","hold_seconds":180,"locked_by":"",' +
    '"locked_ip":"127.0.0.1","lock_expires":"2030-01-01T00:00:00.000Z","order_number":""}',
);

/**
 * A 4 KiB window (the dictionary is 1.2 KiB; answers are a few KiB at most) and a small hash table: the same size
 * for a transaction answer as zlib's defaults, in less time (about 40 µs to deflate, 15 to inflate).
 */
const DEFLATE = { dictionary: DICTIONARY, windowBits: 12, memLevel: 5 };

/** What a record says once read. */
export type IdempotencyRecord =
  | { state: 'pending'; fingerprintHash: Buffer }
  | { state: 'done'; fingerprintHash: Buffer; answer: StoredAnswer };

export const fingerprintHash = (fingerprint: string): Buffer =>
  createHash('sha256').update(fingerprint).digest().subarray(0, FINGERPRINT_BYTES);

export function encodePending(fingerprint: string): Buffer {
  return Buffer.concat([Buffer.of(PENDING), fingerprintHash(fingerprint)]);
}

export function encodeDone(fingerprint: string, answer: StoredAnswer): Buffer {
  if (!Number.isInteger(answer.status) || answer.status < 0 || answer.status > 0xffff) throw new Error(`bad status ${answer.status}`);
  const json = answer.body === undefined ? undefined : JSON.stringify(answer.body);
  const head = Buffer.alloc(3);
  head.writeUInt16BE(answer.status, 0);
  head[2] = (answer.headers ? HAS_HEADERS : 0) | (json === undefined ? NO_BODY : 0);
  const parts = [Buffer.of(DONE), fingerprintHash(fingerprint), head];
  if (answer.headers) {
    const headers = Buffer.from(JSON.stringify(answer.headers));
    if (headers.length > 0xffff) throw new Error('stored headers over 64 KiB');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(headers.length, 0);
    parts.push(length, headers);
  }
  if (json !== undefined) parts.push(deflateRawSync(Buffer.from(json), DEFLATE));
  return Buffer.concat(parts);
}

export function decodeRecord(record: Buffer): IdempotencyRecord {
  const kind = record[0];
  if ((kind !== PENDING && kind !== DONE) || record.length < 1 + FINGERPRINT_BYTES) {
    throw new Error(`not an idempotency record of format 1 (${record.length} bytes, first ${kind})`);
  }
  const fingerprint = record.subarray(1, 1 + FINGERPRINT_BYTES);
  if (kind === PENDING) return { state: 'pending', fingerprintHash: fingerprint };
  let at = 1 + FINGERPRINT_BYTES;
  const status = record.readUInt16BE(at);
  const flags = record[at + 2] as number;
  at += 3;
  const answer: StoredAnswer = { status, body: undefined };
  if (flags & HAS_HEADERS) {
    const length = record.readUInt16BE(at);
    answer.headers = JSON.parse(record.subarray(at + 2, at + 2 + length).toString('utf8')) as Record<string, string>;
    at += 2 + length;
  }
  if (!(flags & NO_BODY)) answer.body = JSON.parse(inflateRawSync(record.subarray(at), { dictionary: DICTIONARY }).toString('utf8'));
  return { state: 'done', fingerprintHash: fingerprint, answer };
}

export class RedisIdempotencyStore implements IdempotencyStore {
  /**
   * deadlines: a claim that reaches Redis after its caller answered 503 does nothing (else it would block the key's
   * retries for a whole lease). Default: none.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly deadlines = new RedisDeadlines(0),
  ) {}

  claim(client: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
    return guarded(async () => {
      const reply = await runBoundBinary(this.redis, 'idempotency_claim', {
        keys: { record: idempotencyKey(client, key) },
        args: { pending: encodePending(fingerprint), lease_ms: leaseMs, deadline: this.deadlines.deadline() },
      });
      const claim = SCRIPT_BINDINGS.idempotency_claim.decode(reply);
      if (claim.status === -50) throw new Unavailable('Redis answered too late; retry shortly.', 'redis_late');
      this.deadlines.observe(claim.nowMs);
      if (claim.status === 1) return { kind: 'claimed' };
      if (claim.record === undefined) throw new Error('idempotency_claim answered taken without the record');
      const found = decodeRecord(claim.record);
      const sameRequest = found.fingerprintHash.equals(fingerprintHash(fingerprint));
      return found.state === 'done' ? { kind: 'done', sameRequest, answer: found.answer } : { kind: 'pending', sameRequest };
    });
  }

  save(client: string, key: string, fingerprint: string, answer: StoredAnswer, ttlMs: number): Promise<void> {
    const done = encodeDone(fingerprint, answer);
    return guarded(async () => {
      await this.redis.set(idempotencyKey(client, key), done, 'PX', ttlMs);
    });
  }

  abandon(client: string, key: string): Promise<void> {
    return guarded(async () => {
      await this.redis.del(idempotencyKey(client, key));
    });
  }
}
