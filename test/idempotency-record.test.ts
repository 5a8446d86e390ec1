// The stored Idempotency-Key answer (src/redis/idempotency-store.ts, record format 1): what goes in comes out, the
// request is kept only as a hash of its fingerprint, and a transaction answer shrinks to a fraction of its JSON; and
// on a Redis Cluster (the claim script's reply read as Buffers there too) a replay is the first answer again.
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { decodeRecord, DICTIONARY, encodeDone, encodePending, fingerprintHash } from '../src/redis/idempotency-store';
import { idempotencyKey } from '../src/redis/keys';
import { as, createPerformance, KEYS, startTestApp, testClusterNodes } from './support/app';

const fp = createHash('sha256').update('begin\n{"tickets":["a","b"]}').digest('hex');
const tx = '00000001-feac-8b32-b2ca-286fe27ee978';
const ticket = (n: number) => ({
  id: `perf-14cc5181-A${n}`,
  performance_id: 'perf-14cc5181',
  section: 'ORCH',
  row: 'A',
  seat: String(n),
  price: 5000,
  price_level: null,
  state: 'locked',
  sold: false,
  transaction_id: tx,
  lock_expires: '2026-12-03T10:11:41.652Z',
  locked_by: 'alice',
  locked_ip: '127.0.0.1',
});
const holdAnswer = {
  status: 'OK',
  transaction_id: tx,
  transaction_status: 'open',
  performance_id: 'perf-14cc5181',
  tickets: [ticket(1), ticket(2)],
  created_at: '2026-12-03T10:08:41.652Z',
  hold_seconds: 180,
  locked_by: 'alice',
  locked_ip: '127.0.0.1',
  lock_expires: '2026-12-03T10:11:41.652Z',
};

test('a done record gives back status, body (its JSON text unchanged) and the stored headers', () => {
  for (const answer of [
    { status: 201, body: holdAnswer },
    { status: 409, body: { status: 'ERROR', error: { code: 'TICKETS_UNAVAILABLE', message: 'x', request_id: 'r1', tickets: [{ id: 'a', reason: 'sold' }] } } },
    { status: 200, headers: { 'Transaction-Status': 'open', 'X-Other': 'v' }, body: { a: [1, 'é', null, { '2': true, b: -0.5 }] } },
    { status: 204, body: undefined },
  ]) {
    const record = decodeRecord(encodeDone(fp, answer));
    expect(record).toEqual({ state: 'done', fingerprintHash: fingerprintHash(fp), answer });
    if (record.state === 'done') expect(JSON.stringify(record.answer.body)).toBe(JSON.stringify(answer.body));
  }
});

test('a pending record: 17 bytes, the fingerprint as 16 bytes of its hash', () => {
  const pending = encodePending(fp);
  expect(pending.length).toBe(17);
  expect(decodeRecord(pending)).toEqual({ state: 'pending', fingerprintHash: fingerprintHash(fp) });
  expect(fingerprintHash(fp).equals(fingerprintHash(`${fp}x`))).toBe(false);
});

test('no request body is kept: only the fingerprint hash, status, body', () => {
  const record = encodeDone(fp, { status: 201, body: holdAnswer });
  expect(record.includes(Buffer.from(fp))).toBe(false);
  expect(record.includes(Buffer.from(fp, 'hex'))).toBe(false);
});

test('a hold answer of 2 tickets: under 200 bytes, from about 900 of JSON', () => {
  const json = Buffer.byteLength(JSON.stringify(holdAnswer));
  const stored = encodeDone(fp, { status: 201, body: holdAnswer }).length;
  process.stdout.write(`hold answer: JSON ${json} B, stored record ${stored} B\n`);
  expect(json).toBeGreaterThan(850);
  expect(stored).toBeLessThan(200);
});

test('a record of another format is refused, not misread', () => {
  expect(() => decodeRecord(Buffer.from('{"state":"done","fingerprint":"ab","answer":{}}'))).toThrow(/format 1/);
  expect(() => decodeRecord(Buffer.of(2, 1, 2))).toThrow(/format 1/);
});

test('format 1 is frozen: its preset dictionary and key names do not change (a change is a new format and key prefix)', () => {
  expect(createHash('sha256').update(DICTIONARY).digest('hex').slice(0, 16)).toBe('04360e841ccc9f75');
  expect(idempotencyKey('alice', 'k-1')).toBe('tix:idem2:alice:fDXFoXhdIHBORNXeS-uBwf');
});

test('on a Redis Cluster: a replayed hold and complete are the first answers, status, body and headers', async () => {
  const t = await startTestApp({ REDIS_CLUSTER_NODES: testClusterNodes() });
  try {
    const p = await createPerformance(t, { rows: 1, seats: 3 });
    const key = randomUUID();
    const hold = () => request(t.app).post('/transaction').set(as(KEYS.alice)).set('Idempotency-Key', key).send({ tickets: p.ticketIds.slice(0, 2) });
    const first = await hold();
    const again = await hold();
    expect(first.status).toBe(201);
    expect([again.status, again.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(again.body).toEqual(first.body);
    expect(again.headers['transaction-status']).toBe('open');
    expect(again.headers['lock-expires']).toBe(first.headers['lock-expires']);
    const done = () =>
      request(t.app)
        .put(`/transaction/${first.body.transaction_id as string}`)
        .set(as(KEYS.alice))
        .set('Idempotency-Key', `${key}-c`)
        .send({ status: 'complete' });
    const sold = await done();
    const soldAgain = await done();
    expect([soldAgain.status, soldAgain.headers['idempotent-replayed'], soldAgain.headers['transaction-status']]).toEqual([200, 'true', 'complete']);
    expect(soldAgain.headers['lock-expires']).toBeUndefined();
    expect(soldAgain.body).toEqual(sold.body);
  } finally {
    await t.close();
  }
});
