// DESIGN.md Invariant 4 across real processes: an order writer SIGKILLed between its document write and its XACK
// leaves the sale pending (trimming the outbox leaves it there); another writer process claims it after the idle
// time (XAUTOCLAIM in its sweep), writes it again (idempotent: nothing doubles), acknowledges it and trims it.
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { trimOutbox } from '../src/redis/active-outboxes';
import { outboxGroup, performanceKeys } from '../src/redis/keys';
import { as, createPerformance, KEYS, startTestApp, testRedisUrl, type TestApp } from './support/app';
import { createTestDatabase } from './support/postgres';
import { exitWithin, spawnCli, waitFor, type CliProcess } from './support/spawn';

let t: TestApp;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const children: CliProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // parent (API) and children (writers) share one PostgreSQL database
  t = await startTestApp({ DOCUMENT_STORE_URL: db.url });
  // the writers read every performance in this worker's database: start from an empty one
  await t.redis.flushdb();
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await t?.close();
  await db?.drop();
});

function startWriter(consumer: string, preload: string[] = []): CliProcess {
  const proc = spawnCli(
    ['order-writer'],
    {
    NODE_ENV: 'test',
    REDIS_URL: testRedisUrl(),
    DOCUMENT_STORE_URL: db.url,
    WRITER_CONSUMER: consumer,
    WRITER_BLOCK_MS: '200',
    WRITER_SWEEP_INTERVAL_MS: '300',
    WRITER_CLAIM_IDLE_MS: '1000',
    },
    preload,
  );
  children.push(proc);
  return proc;
}

/** Waits for a writer's start-up line (it has attached Redis and the document store by then). */
async function running(proc: CliProcess, consumer: string) {
  await waitFor(
    `writer ${consumer} to start (stderr: ${proc.stderr().slice(-500)})`,
    () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
        throw new Error(`writer ${consumer} exited early: ${proc.stderr().slice(-2000)}`);
      }
      return proc.stdout().includes(`order writer running (consumer ${consumer})`);
    },
    { timeoutMs: 15_000 },
  );
}

async function sell(ticketIds: string[], email: string) {
  const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: ticketIds });
  expect(hold.status).toBe(201);
  const done = await request(t.app)
    .put(`/transaction/${hold.body.transaction_id}`)
    .set(as(KEYS.alice))
    .send({ status: 'complete', customer: { email } });
  expect(done.status).toBe(200);
  return done.body.order_number as string;
}

/** The outbox's pending entries: [id, consumer, idle ms, deliveries]. */
async function pending(performanceId: string) {
  const rows = (await t.redis.xpending(performanceKeys(performanceId).outbox, outboxGroup, '-', '+', 100)) as unknown as [
    string, string, number, number,
  ][];
  return rows.map(([id, consumer, idle, deliveries]) => ({ id, consumer, idle: Number(idle), deliveries: Number(deliveries) }));
}

async function countRows(sql: string, params: unknown[] = []): Promise<number> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(sql, params);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

test('a writer SIGKILLed after its write and before XACK: another writer process claims the sale, nothing doubles', async () => {
  const p = await createPerformance(t, { rows: 1, seats: 4 });
  const sold = p.ticketIds.slice(0, 2);

  const w1 = startWriter('w1', [path.join(__dirname, 'support', 'faults', 'kill-after-write.ts')]);
  await running(w1, 'w1');
  const orderNumber = await sell(sold, 'Crash.Test@Example.com');

  // writer 1 writes the sale to PostgreSQL, then kills itself before acknowledging it
  const exit = await exitWithin(w1, 15_000, 'writer w1');
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });

  const written = await t.documents.getOrder(orderNumber);
  expect(written).toMatchObject({ order_number: orderNumber, performance_id: p.id, person_id: 'crash.test@example.com' });
  const [entry, ...others] = await pending(p.id);
  expect(others).toEqual([]);
  expect(entry).toMatchObject({ consumer: 'w1', deliveries: 1 });
  expect(await t.redis.xlen(performanceKeys(p.id).outbox)).toBe(1);
  // trimming while the sale is pending for the dead writer leaves it where a claim finds it
  expect(await trimOutbox(t.redis, p.id)).toMatchObject({ left: 1, pending: 1, trimmed: 0 });

  // writer 2 has nothing of its own pending; its sweep claims w1's entry once idle for WRITER_CLAIM_IDLE_MS
  const w2 = startWriter('w2');
  await running(w2, 'w2');
  await waitFor(
    `the sale to be acknowledged (w2 stderr: ${w2.stderr().slice(-500)})`,
    async () => (await pending(p.id)).length === 0,
    { timeoutMs: 15_000 },
  );
  expect(w2.child.exitCode).toBeNull(); // alive: it claimed and acked, it did not crash

  // exactly once: one order, one sale per ticket, the person lists the order once, no conflict recorded
  expect(await countRows('SELECT count(*) AS n FROM orders WHERE order_number = $1', [orderNumber])).toBe(1);
  expect(await countRows('SELECT count(*) AS n FROM orders')).toBe(1);
  expect(await t.documents.getOrder(orderNumber)).toEqual(written); // the redelivery changed nothing
  const sales = await t.documents.listSoldTickets(p.id);
  expect(sales).toHaveLength(sold.length);
  expect(sales.map((s) => s.ticket_id).sort()).toEqual([...sold].sort());
  expect(new Set(sales.map((s) => s.order_number))).toEqual(new Set([orderNumber]));
  const person = await t.documents.getPerson('crash.test@example.com');
  expect(person?.order_numbers).toEqual([orderNumber]);
  expect(await t.documents.listConflicts(10)).toEqual([]);
  // acknowledged, then trimmed from the outbox by the sweep
  await waitFor('the outbox trimmed', async () => (await t.redis.xlen(performanceKeys(p.id).outbox)) === 0, { timeoutMs: 10_000 });

  // writer 2 goes on with new sales the ordinary way
  const next = await sell([p.ticketIds[2] as string], 'crash.test@example.com');
  await waitFor(`order ${next} persisted by w2`, async () => (await t.documents.getOrder(next)) !== undefined, {
    timeoutMs: 10_000,
  });
  await waitFor('the new sale to be acknowledged', async () => (await pending(p.id)).length === 0);
  expect((await t.documents.getPerson('crash.test@example.com'))?.order_numbers).toEqual([orderNumber, next]);
  const res = await request(t.app).get(`/people?email=Crash.Test@Example.com`).set(as(KEYS.admin));
  expect(res.body.person.order_numbers).toEqual([orderNumber, next]);

  // SIGTERM: the writer stops after the entry in hand and exits 0
  w2.child.kill('SIGTERM');
  expect(await exitWithin(w2, 10_000, 'writer w2 after SIGTERM')).toEqual({ code: 0, signal: null });
}, 60_000);
