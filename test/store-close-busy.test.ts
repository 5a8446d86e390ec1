// A document store's end of life and its busy answers: a closed store answers Unavailable ('The document store is
// closed.') for every call that would reach its database, on both adapters, and closing twice is harmless; an
// SQLite store whose write lock another connection holds waits up to its busy timeout, then answers Unavailable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DocumentStore } from '../src/domain/documents';
import { Unavailable } from '../src/errors';
import { PostgresDocumentStore, SqliteDocumentStore } from '../src/store';
import { createTestDatabase } from './support/postgres';
import { saleOf, ticketsOf, uid } from './support/store-contract';

const STORES: [string, () => Promise<{ store: DocumentStore; cleanup(): Promise<void> }>][] = [
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-close-'));
      return { store: new SqliteDocumentStore(path.join(dir, 'x.sqlite')), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      return { store: new PostgresDocumentStore(db.url), cleanup: () => db.drop() };
    },
  ],
];

describe.each(STORES)('a closed store: %s', (_name, open) => {
  test('every call that reaches the database answers Unavailable: the store is closed; closing again is harmless', async () => {
    const { store, cleanup } = await open();
    try {
      await store.migrate();
      const sale = saleOf();
      expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();

      const perf = `perf-${uid()}`;
      const calls: [string, () => Promise<unknown>][] = [
        ['ping', () => store.ping()],
        ['migrate', () => store.migrate()],
        ['getOrder', () => store.getOrder(sale.order_number)],
        ['getPerson', () => store.getPerson('ann@example.com')],
        ['recordSale', () => store.recordSale(saleOf())],
        ['upsertInventory', () => store.upsertInventory({ id: perf, code: 1 }, ticketsOf(perf, 2))],
        ['listSoldTickets', () => store.listSoldTickets(sale.performance_id)],
        ['listConflicts', () => store.listConflicts(10)],
      ];
      for (const [name, call] of calls) {
        const err = await call().then(() => new Error(`${name} answered`), (e: unknown) => e);
        expect([name, err]).toEqual([name, expect.any(Unavailable)]);
        expect([name, err]).toEqual([name, expect.objectContaining({ message: 'The document store is closed.', source: 'document_store' })]);
      }
      // no usable email: answered without asking the database
      await expect(store.getPerson('  ')).resolves.toBeUndefined();
    } finally {
      await store.close();
      await cleanup();
    }
  });
});

/** Another connection to the SQLite file, in a thread of its own, holding the write lock until release(). */
async function holdWriteLock(file: string) {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const db = new (require('better-sqlite3'))(workerData.file);
     db.exec('BEGIN IMMEDIATE');
     parentPort.postMessage('locked');
     parentPort.on('message', (m) => setTimeout(() => {
       db.exec('COMMIT');
       db.close();
       parentPort.postMessage('released');
       parentPort.close();
     }, m.after));`,
    { eval: true, workerData: { file } },
  );
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage({ after: 0 });
      }),
    /** releases the lock after `ms`, in the thread (this thread may be blocked in a synchronous wait meanwhile) */
    releaseAfter: (ms: number) => worker.postMessage({ after: ms }),
    end: () => worker.terminate(),
  };
}

describe('SQLite: another connection holds the write lock', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-busy-'));
    file = path.join(dir, 'busy.sqlite');
    const setup = new SqliteDocumentStore(file);
    await setup.migrate();
    await setup.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a write that cannot take the lock within the busy timeout answers Unavailable: SQLite is busy', async () => {
    const store = new SqliteDocumentStore(file, { busyTimeoutMs: 0 });
    const lock = await holdWriteLock(file);
    try {
      const sale = saleOf();
      const err = await store.recordSale(sale).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Unavailable);
      expect(err).toMatchObject({ source: 'document_store', message: 'SQLite is busy: database is locked' });
      // reads go on (WAL); the sale was not written
      expect(await store.getOrder(sale.order_number)).toBeUndefined();
      await lock.release();
      expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
    } finally {
      await lock.end();
      await store.close();
    }
  });

  test('a store with the default busy timeout waits for a lock held a short while, then writes', async () => {
    const store = new SqliteDocumentStore(file);
    const lock = await holdWriteLock(file);
    try {
      lock.releaseAfter(300); // well within the default 5 s wait
      const sale = saleOf();
      expect(await store.recordSale(sale)).toEqual({ outcome: 'written' });
    } finally {
      await lock.end();
      await store.close();
    }
  });
});
