// recordSale on PostgreSQL when a statement of its transaction fails: a trigger on the orders table injects the
// failure (an error of a given SQLSTATE, or a skipped insert), and a sequence outside the transactions counts the
// attempts. Serialization failures, deadlocks and unique violations are run again, three attempts in all; any other
// error is passed on at once; a connection-class error answers Unavailable and its connection is not reused, while a
// connection after a plain error is rolled back and kept.
import { Pool } from 'pg';
import { Unavailable } from '../src/errors';
import { PostgresDocumentStore } from '../src/store';
import { createTestDatabase } from './support/postgres';
import { saleOf } from './support/store-contract';

const FAULTS = `
  CREATE TABLE faults (mode text NOT NULL);
  CREATE SEQUENCE attempts;
  -- mode: NULL (no row) = no fault; 'skip' = the insert does nothing, as ON CONFLICT DO NOTHING when another writer
  -- committed the number meanwhile; 'skip-once' = so on the first attempt only; 'sleep' = a slow insert (3 s);
  -- else the SQLSTATE to raise
  CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE m text; n bigint;
  BEGIN
    SELECT mode INTO m FROM faults;
    IF m IS NULL THEN RETURN NEW; END IF;
    n := nextval('attempts');
    IF m = 'skip' OR (m = 'skip-once' AND n = 1) THEN RETURN NULL; END IF;
    IF m = 'skip-once' THEN RETURN NEW; END IF;
    IF m = 'sleep' THEN PERFORM pg_sleep(3); RETURN NEW; END IF;
    RAISE EXCEPTION 'injected fault' USING ERRCODE = m;
  END $$;
  CREATE TRIGGER inject_fault BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION inject_fault();
`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let store: PostgresDocumentStore;
/** statements of the test itself, on a pool of its own */
let admin: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresDocumentStore(db.url, { max: 1 }); // one connection: whether it was kept shows in its pid
  await store.migrate();
  admin = new Pool({ connectionString: db.url, max: 1 });
  // end() may resolve before its client has closed; the drop's WITH (FORCE) then ends that client, and a pool with
  // no 'error' listener throws it as an uncaught error into whatever runs next (seen in a mutation dry run)
  admin.on('error', () => undefined);
  await admin.query(FAULTS);
});
afterAll(async () => {
  await store?.close();
  await admin?.end();
  await db?.drop();
});

async function inject(mode: string | null) {
  await admin.query('DELETE FROM faults; ALTER SEQUENCE attempts RESTART');
  if (mode !== null) await admin.query('INSERT INTO faults (mode) VALUES ($1)', [mode]);
}
const attempts = async () => {
  const { rows } = await admin.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM attempts');
  return Number(rows[0]?.n);
};
const backendPid = async () => (await store.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
const failure = (p: Promise<unknown>) => p.then(() => new Error('it succeeded'), (e: unknown) => e);

afterEach(() => inject(null));

test.each(['40001', '40P01', '23505'])('SQLSTATE %s is retried: three attempts in all, then the error as it is', async (code) => {
  await inject(code);
  const sale = saleOf();
  const err = await failure(store.recordSale(sale));
  expect(err).toMatchObject({ code, message: 'injected fault' });
  expect(err).not.toBeInstanceOf(Unavailable);
  expect(await attempts()).toBe(3);
  await inject(null);
  expect(await store.recordSale(sale)).toEqual({ outcome: 'written' }); // nothing of the attempts was kept
});

test('another error (22023) is passed on after one attempt; the rolled-back connection is kept', async () => {
  const pid = await backendPid();
  await inject('22023');
  const err = await failure(store.recordSale(saleOf()));
  expect(err).toMatchObject({ code: '22023', message: 'injected fault' });
  expect(err).not.toBeInstanceOf(Unavailable);
  expect(await attempts()).toBe(1);
  expect(await backendPid()).toBe(pid);
});

test('a connection-class error (57014, query_canceled) answers Unavailable after one attempt; its connection is dropped', async () => {
  const pid = await backendPid();
  await inject('57014');
  const err = await failure(store.recordSale(saleOf()));
  expect(err).toBeInstanceOf(Unavailable);
  expect(err).toMatchObject({ message: 'PostgreSQL is unavailable: injected fault', source: 'document_store' });
  expect(await attempts()).toBe(1);
  expect(await backendPid()).not.toBe(pid);
});

test('the order number recorded by another writer between the judgement and the insert: the sale is judged again', async () => {
  await inject('skip-once');
  const sale = saleOf({ customer: { email: 'race@example.com' } });
  expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
  expect(await attempts()).toBe(2);
  expect(await store.getOrder(sale.order_number)).toMatchObject({ transaction_id: sale.transaction_id });
  expect((await store.listSoldTickets(sale.performance_id)).map((t) => t.ticket_id)).toEqual(sale.tickets.map((t) => t.id));
  expect((await store.getPerson('race@example.com'))?.order_numbers).toEqual([sale.order_number]);
});

test('an order number that never gets written: three attempts, then a serialization failure saying so', async () => {
  await inject('skip');
  const sale = saleOf();
  const err = await failure(store.recordSale(sale));
  expect(err).toMatchObject({ code: '40001', message: 'order number recorded concurrently' });
  expect(await attempts()).toBe(3);
  expect(await store.listSoldTickets(sale.performance_id)).toEqual([]);
});

test("a statement over the store's statementTimeoutMs is cancelled by the server: Unavailable, and the store goes on", async () => {
  const quick = new PostgresDocumentStore(db.url, { statementTimeoutMs: 300 });
  try {
    await inject('sleep'); // 3 s, ten times the store's bound
    const err = await failure(quick.recordSale(saleOf()));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ message: expect.stringMatching(/^PostgreSQL is unavailable: .*statement timeout/) });
    await inject(null);
    expect(await quick.recordSale(saleOf())).toEqual({ outcome: 'written' });
  } finally {
    await quick.close();
  }
});

test('an idle pooled connection the server ends is reported to onIdleError, and the store goes on', async () => {
  const idleErrors: Error[] = [];
  const watched = new PostgresDocumentStore(db.url, { max: 1, onIdleError: (err) => idleErrors.push(err) });
  try {
    const { rows } = await watched.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'); // now idle in the pool
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    // the report comes as the pool reads the server's goodbye: wait for it, at most 10 s (then fail, store closed)
    for (let i = 0; i < 1000 && idleErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(idleErrors.map((e) => e.message)).toEqual([expect.stringMatching(/terminating connection/)]);
    await expect(watched.ping()).resolves.toBeUndefined();
  } finally {
    await watched.close();
  }
});

test('stores migrating a new database at once: one applies the steps, the others find them applied', async () => {
  const fresh = await createTestDatabase();
  const stores = [0, 1, 2].map(() => new PostgresDocumentStore(fresh.url));
  try {
    await Promise.all(stores.map((s) => s.migrate()));
    const { rows } = await stores[0]!.pool.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await fresh.drop();
  }
});
