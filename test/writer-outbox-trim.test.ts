// Outboxes trimmed safely, and the active-outboxes set (src/redis/active-outboxes.ts): trim_outbox removes only what
// every consumer group has delivered and had acknowledged (never an undelivered entry, never a pending one: an
// entry delivered to a writer that died before XACK is still claimed and written after trimming ran); a drained,
// idle outbox leaves the active set, and a performance's next sale puts it back; an outbox with sales whose mark was
// lost is found by the sweep's scan; a complete that reaches Redis after its mark's deadline does nothing; dead
// letters stay where they are. Real Redis, in-process writers, in-memory SQLite.
import request from 'supertest';
import { markOutbox, MARK_VALID_MS, retireOutbox, trimOutbox } from '../src/redis/active-outboxes';
import { checkReply } from '../src/redis/codes';
import { activeOutboxesKey, outboxGroup, performanceKeys, transactionKey } from '../src/redis/keys';
import { runBound } from '../src/redis/script-bindings';
import { DeadLetters } from '../src/writer/dead-letters';
import type { OrderWriter } from '../src/writer/order-writer';
import { as, createPerformance, KEYS, listen, startTestApp, startTestWriter, type Listening, type TestApp } from './support/app';
import { ensureGroup, pendingByConsumer, pendingCount, readAsGhost, sell, waitFor } from './support/writer-tests';

let t: TestApp;
let http: Listening;
const writers: OrderWriter[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await t.redis.flushdb(); // the writer reads the performances of this database: start from none
  http = await listen(t);
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
});

afterAll(async () => {
  await http?.close();
  await t?.close();
});

async function writer(overrides: Parameters<typeof startTestWriter>[1] = {}): Promise<OrderWriter> {
  const w = await startTestWriter(t, overrides);
  writers.push(w);
  return w;
}

async function stopWriters(): Promise<void> {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
}

const ids = async (key: string) => (await t.redis.xrange(key, '-', '+')).map(([id]) => id);
const persisted = (orderNumber: string) =>
  waitFor(() => t.documents.getOrder(orderNumber), 15_000, `order ${orderNumber} persisted`);
const isActive = async (performanceId: string) => (await t.redis.zscore(activeOutboxesKey, performanceId)) !== null;

describe('trim_outbox', () => {
  const stream = (name: string) => `tix:{p:trim-${name}}:outbox`;
  const add = async (key: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await t.redis.xadd(key, '*', 'n', String(i))) as string);
    return out;
  };
  const trim = (key: string) => trimOutbox(t.redis, /^tix:\{p:(.+)\}:outbox$/.exec(key)?.[1] as string);

  test('an outbox nobody has joined keeps everything; a missing one is empty', async () => {
    const key = stream('nogroup');
    await add(key, 3);
    expect(await trim(key)).toMatchObject({ left: 3, pending: 0, trimmed: 0 });
    expect(await trim(stream('missing'))).toMatchObject({ left: 0, pending: 0, trimmed: 0 });
    expect(await t.redis.exists(stream('missing'))).toBe(0); // a look creates nothing
  });

  test('removes what was delivered and acknowledged; keeps the undelivered, a pending entry and all after it', async () => {
    const key = stream('group');
    const [a, b, c, d, e] = (await add(key, 5)) as [string, string, string, string, string];
    await t.redis.xgroup('CREATE', key, outboxGroup, '0');
    expect(await trim(key)).toMatchObject({ left: 5, pending: 0, trimmed: 0 }); // nothing delivered yet

    // a and b delivered and acknowledged, c delivered to a consumer that dies, d to a live one that acknowledges
    await t.redis.xreadgroup('GROUP', outboxGroup, 'live', 'COUNT', 2, 'STREAMS', key, '>');
    await t.redis.xack(key, outboxGroup, a, b);
    await t.redis.xreadgroup('GROUP', outboxGroup, 'dead', 'COUNT', 1, 'STREAMS', key, '>');
    await t.redis.xreadgroup('GROUP', outboxGroup, 'live', 'COUNT', 1, 'STREAMS', key, '>');
    await t.redis.xack(key, outboxGroup, d);
    expect(await trim(key)).toMatchObject({ left: 3, pending: 1, trimmed: 2 });
    expect(await ids(key)).toEqual([c, d, e]); // c pending, d after it, e never delivered

    // c claimed and acknowledged: everything delivered goes, e (undelivered) stays
    await t.redis.xclaim(key, outboxGroup, 'live', 0, c);
    await t.redis.xack(key, outboxGroup, c);
    expect(await trim(key)).toMatchObject({ left: 1, pending: 0, trimmed: 2 });
    expect(await ids(key)).toEqual([e]);
    await t.redis.xreadgroup('GROUP', outboxGroup, 'live', 'STREAMS', key, '>');
    await t.redis.xack(key, outboxGroup, e);
    expect(await trim(key)).toMatchObject({ left: 0, pending: 0, trimmed: 1 });
    // the group's lag stays known (XTRIM, unlike XDEL, leaves Redis able to count it)
    expect(JSON.stringify(await t.redis.call('XINFO', 'GROUPS', key))).toMatch(/"lag",0/);
  });

  test('with two groups, keeps what either still needs', async () => {
    const key = stream('two');
    const [a, b, c] = (await add(key, 3)) as [string, string, string];
    await t.redis.xgroup('CREATE', key, 'one', '0');
    await t.redis.xgroup('CREATE', key, 'other', '0');
    await t.redis.xreadgroup('GROUP', 'one', 'x', 'STREAMS', key, '>');
    await t.redis.xack(key, 'one', a, b, c);
    await t.redis.xreadgroup('GROUP', 'other', 'y', 'COUNT', 1, 'STREAMS', key, '>');
    await t.redis.xack(key, 'other', a);
    expect(await trim(key)).toMatchObject({ left: 2, pending: 0, trimmed: 1 });
    expect(await ids(key)).toEqual([b, c]);
  });
});

test('retire_outbox removes a performance only for the mark it read, drained long enough after it', async () => {
  const id = 'retire-unit';
  const markedAt = await markOutbox(t.redis, id);
  const drained = { left: 0, pending: 0, nowMs: markedAt + 1000, trimmed: 0 };
  expect(await retireOutbox(t.redis, id, markedAt, { ...drained, left: 1 }, 500)).toBe(false); // not drained
  expect(await retireOutbox(t.redis, id, markedAt, drained, 5000)).toBe(false); // too soon after the mark
  expect(await retireOutbox(t.redis, id, markedAt - 1, drained, 500)).toBe(false); // marked again since
  expect(await isActive(id)).toBe(true);
  expect(await retireOutbox(t.redis, id, markedAt, drained, 500)).toBe(true);
  expect(await isActive(id)).toBe(false);
  // a mark only moves forward
  await t.redis.zadd(activeOutboxesKey, markedAt + 10_000, id);
  expect(await markOutbox(t.redis, id)).toBeLessThan(markedAt + 10_000);
  expect(Number(await t.redis.zscore(activeOutboxesKey, id))).toBe(markedAt + 10_000);
});

test('an entry pending for a writer that died before XACK survives trimming and is then claimed and written once', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const outbox = performanceKeys(perf.id).outbox;
  const [t0, t1, t2] = perf.ticketIds as [string, string, string];
  const outcomes: string[] = [];
  const record = t.documents.recordSale.bind(t.documents);
  t.documents.recordSale = async (sale) => {
    const r = await record(sale);
    outcomes.push(`${sale.order_number}:${r.outcome}`);
    return r;
  };
  try {
    // s0 written and acknowledged the ordinary way
    await writer({ consumer: 'w1', claimIdleMs: 60_000 });
    const s0 = await sell(http.server, [t0]);
    await persisted(s0.order_number);
    await waitFor(async () => (await pendingCount(t.redis, perf.id)) === 0, 5000, 's0 acknowledged');
    await stopWriters();

    // s1 delivered to a writer that then dies before XACK; s2 after it, written by a live writer
    await ensureGroup(t.redis, perf.id);
    const s1 = await sell(http.server, [t1]);
    const [s1Id] = await readAsGhost(t.redis, perf.id, 'ghost', 10);
    expect(s1Id).toBeDefined();
    const s2 = await sell(http.server, [t2]);
    await writer({ consumer: 'w2', claimIdleMs: 60_000 }); // claims nothing in this test's time
    await persisted(s2.order_number);

    // the sweep trims: s0 goes, s1 (pending) stays and with it s2
    await waitFor(async () => (await t.redis.xlen(outbox)) === 2, 10_000, 's0 trimmed');
    expect((await ids(outbox))[0]).toBe(s1Id);
    expect(await pendingByConsumer(t.redis, perf.id)).toEqual({ ghost: 1 });
    expect(await t.documents.getOrder(s1.order_number)).toBeUndefined();
    expect(await trimOutbox(t.redis, perf.id)).toMatchObject({ left: 2, pending: 1, trimmed: 0 });
    await stopWriters();

    // a writer that claims after 0.5 s: s1 is still there to claim, is written, and then the outbox empties
    await writer({ consumer: 'w3', claimIdleMs: 500 });
    await persisted(s1.order_number);
    await waitFor(async () => (await t.redis.xlen(outbox)) === 0 && (await pendingCount(t.redis, perf.id)) === 0, 10_000, 'all trimmed');
    expect(outcomes.filter((o) => o.endsWith(':written')).sort()).toEqual(
      [s0, s1, s2].map((s) => `${s.order_number}:written`).sort(),
    );
    expect(await isActive(perf.id)).toBe(true); // sold moments ago: still active
  } finally {
    t.documents.recordSale = record;
  }
});

test('a drained outbox leaves the active set after retireAfterMs, is no longer read, and its next sale brings it back', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const w = await writer({ retireAfterMs: 300 });
  const s0 = await sell(http.server, [perf.ticketIds[0] as string]);
  await persisted(s0.order_number);
  await waitFor(async () => !(await isActive(perf.id)), 10_000, 'the performance retired');
  await waitFor(async () => !(await w.outboxLag()).some((l) => l.performanceId === perf.id), 5000, 'its outbox no longer read');
  expect(await t.redis.xlen(performanceKeys(perf.id).outbox)).toBe(0);

  // the API marks again (here at once: a process reuses its mark for MARK_REUSE_MS, far below WRITER_RETIRE_AFTER_MS's
  // minimum; this test retires after 0.3 s)
  t.store.forgetOutboxMarks();
  const s1 = await sell(http.server, [perf.ticketIds[1] as string]);
  expect(await isActive(perf.id)).toBe(true);
  await persisted(s1.order_number);
});

test('a sale whose mark was lost is found by the sweep\'s scan, marked again and written; a replay marks its outbox', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const s0 = await sell(http.server, [perf.ticketIds[0] as string]);
  await t.redis.zrem(activeOutboxesKey, perf.id); // the mark lost (the set's shard failed over before replicating it)
  await writer({ scanBatch: 1000 });
  await persisted(s0.order_number);
  expect(await isActive(perf.id)).toBe(true);

  // a dead letter replayed into an outbox whose mark is gone: the replay marks it
  await stopWriters();
  const k = performanceKeys(perf.id);
  await t.redis.xadd(k.deadLetters, '*', 'original_id', '1-1', 'error', 'test', 'failed_at', new Date().toISOString(), 'order_number', 'X');
  await t.redis.zrem(activeOutboxesKey, perf.id);
  expect(await new DeadLetters(t.redis).replay(perf.id)).toEqual({ replayed: 1 });
  expect(await isActive(perf.id)).toBe(true);
});

test('dead letters stay in their stream while the outbox entry they came from is trimmed', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const k = performanceKeys(perf.id);
  await writer();
  const real = await sell(http.server, [perf.ticketIds[0] as string]);
  await persisted(real.order_number);
  const bad = await t.redis.xadd(k.outbox, '*', 'order_number', 'NOTANORDER', 'performance_id', perf.id);
  await waitFor(async () => (await new DeadLetters(t.redis).list(perf.id)).dead_letters.length === 1, 10_000, 'the dead letter');
  await waitFor(async () => (await t.redis.xlen(k.outbox)) === 0, 10_000, 'the outbox trimmed');
  const [letter] = (await new DeadLetters(t.redis).list(perf.id)).dead_letters;
  expect(letter?.fields.original_id).toBe(bad);
  expect(await t.redis.xlen(k.deadLetters)).toBe(1);
});

test('a complete that reaches Redis after its mark\'s deadline does nothing; the same complete in time sells', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const ticket = perf.ticketIds[0] as string;
  const hold = await request(http.server).post('/transaction').set(as(KEYS.alice)).send({ tickets: [ticket] });
  expect(hold.status).toBe(201);
  const txid = hold.body.transaction_id as string;
  const keys = { ...performanceKeys(perf.id), transaction: transactionKey(perf.id, txid) };
  const args = {
    transaction_id: txid,
    client: 'alice',
    admin: '0',
    ticket_ids: '',
    retention_ms: 60_000,
    customer: '',
    payment_reference: '',
    min_order_sequence: 0,
  };
  const markedAt = await markOutbox(t.redis, perf.id);
  const late = await runBound(t.redis, 'complete', { keys, args: { ...args, deadline: markedAt - MARK_VALID_MS } });
  expect(late).toEqual([-50]);
  expect(() => checkReply(late, 'complete')).toThrow(/nothing was sold/);
  expect(await t.redis.hget(keys.transaction, 'status')).toBe('open');
  expect(await t.redis.xlen(keys.outbox)).toBe(0);

  const done = await request(http.server).put(`/transaction/${txid}`).set(as(KEYS.alice)).send({ status: 'complete' });
  expect(done.status).toBe(200);
  expect(await t.redis.xlen(keys.outbox)).toBe(1);
});

test('a complete whose mark cannot be written still sells; the sweep\'s scan finds its outbox', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  await t.redis.set(activeOutboxesKey, 'not a zset'); // every mark fails (WRONGTYPE), as when its shard is down
  let s0: Awaited<ReturnType<typeof sell>>;
  try {
    t.store.forgetOutboxMarks();
    s0 = await sell(http.server, [perf.ticketIds[0] as string]);
    expect(await t.redis.xlen(performanceKeys(perf.id).outbox)).toBe(1);
  } finally {
    await t.redis.del(activeOutboxesKey); // the shard back, without the marks it had
  }
  await writer({ scanBatch: 1000 });
  await persisted(s0.order_number);
  expect(await isActive(perf.id)).toBe(true);
});

test('discovery joins an outbox once its first sale exists and never creates one: an archive that removed the performance after the active set was read leaves no empty outbox behind', async () => {
  const gone = 'discover-gone';
  const outbox = performanceKeys(gone).outbox;
  await markOutbox(t.redis, gone); // marked, then archived: the outbox was deleted, the mark not yet seen gone
  const w = await writer();
  await w.discover();
  expect(await t.redis.exists(outbox)).toBe(0);

  // a first sale appended later: the next discovery joins from id 0, so the writers' group sees that entry
  const first = (await t.redis.xadd(outbox, '*', 'n', '0')) as string;
  await w.discover();
  const reply = (await t.redis.xreadgroup('GROUP', outboxGroup, 'probe', 'COUNT', 10, 'STREAMS', outbox, '>')) as [string, [string, string[]][]][];
  expect(reply[0]?.[1].map(([id]) => id)).toEqual([first]);
  await t.redis.del(outbox);
  await t.redis.zrem(activeOutboxesKey, gone);
});
