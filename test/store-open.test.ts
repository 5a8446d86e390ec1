// Opening a document store: openDocumentStore picks the adapter from DOCUMENT_STORE_URL, and a PostgreSQL store that
// cannot reach its server answers Unavailable without hanging (closed port, a server that never answers, a server
// stopped mid-run and started again). The contract the open stores keep is in test/store-contract-*.test.ts.
// "Without hanging" as behaviour, not a stopwatch: the error says what ended the wait (a refused connection at once,
// or the store's own connect timeout); a hang would meet jest's test timeout.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Unavailable } from '../src/errors';
import { freePort } from '../src/redis/embedded';
import { openDocumentStore, PostgresDocumentStore, SqliteDocumentStore } from '../src/store';
import { createTestDatabase, startPostgres } from './support/postgres';
import { saleOf } from './support/store-contract';

describe('PostgreSQL unavailable', () => {
  test('a store pointed at a closed port answers Unavailable at once, not a hang', async () => {
    const port = await freePort();
    const store = new PostgresDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`);
    try {
      // refused at once: no connect timeout waited out
      const refused = { code: 'UNAVAILABLE', message: expect.stringMatching(/ECONNREFUSED/) };
      await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
      await expect(store.ping()).rejects.toMatchObject(refused);
      await expect(store.recordSale(saleOf())).rejects.toMatchObject(refused);
      await expect(store.getOrder('x')).rejects.toMatchObject(refused);
      await expect(store.upsertInventory({ id: 'p', code: 1 }, [])).rejects.toMatchObject(refused);
      await expect(openDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`, os.tmpdir())).rejects.toBeInstanceOf(
        Unavailable,
      );
    } finally {
      await store.close();
    }
  });

  test('a server that accepts but never answers: Unavailable within the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => void sockets.push(s)); // accepts, says nothing
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const store = new PostgresDocumentStore(`postgres://postgres@127.0.0.1:${port}/postgres`, { connectTimeoutMs: 1000 });
    try {
      // ended by the store's connect timeout (1 s here; jest's test timeout is 30 s)
      const err = await store.ping().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Unavailable);
      expect(err).toMatchObject({ message: expect.stringMatching(/timeout/i) });
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('PostgreSQL stopped mid-run: Unavailable quickly; after a restart the same store works again', async () => {
    const pg = await startPostgres();
    const store = new PostgresDocumentStore(pg.url);
    try {
      await store.migrate();
      const first = saleOf();
      expect(await store.recordSale(first)).toEqual({ outcome: 'written' });

      await pg.stop(); // pooled idle connections are terminated: the pool's error listener keeps the process alive
      // refused, not waited out: no connect timeout in the errors
      for (const call of [() => store.recordSale(saleOf()), () => store.ping()]) {
        const err = await call().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(Unavailable);
        expect((err as Error).message).not.toMatch(/timeout/i);
      }

      await pg.start();
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.recordSale(first)).toEqual({ outcome: 'duplicate' });
      const second = saleOf();
      expect(await store.recordSale(second)).toEqual({ outcome: 'written' });
      expect(await store.getOrder(second.order_number)).toBeDefined();
    } finally {
      await store.close();
      await pg.destroy();
    }
  }, 60_000);
});

describe('openDocumentStore', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-open-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('unset: an SQLite file <dataDir>/tixlock.sqlite, migrated', async () => {
    const dataDir = path.join(dir, 'data');
    const store = await openDocumentStore(undefined, dataDir);
    try {
      expect(store).toBeInstanceOf(SqliteDocumentStore);
      expect(fs.existsSync(path.join(dataDir, 'tixlock.sqlite'))).toBe(true);
      expect(((store as SqliteDocumentStore).db.pragma('journal_mode', { simple: true }) as string).toLowerCase()).toBe('wal');
      expect(await store.recordSale(saleOf())).toEqual({ outcome: 'written' });
    } finally {
      await store.close();
    }
  });

  test('sqlite:PATH and sqlite::memory:', async () => {
    const file = path.join(dir, 'sub', 'x.sqlite');
    const onFile = await openDocumentStore(`sqlite:${file}`, '/nonexistent');
    await onFile.close();
    expect(fs.existsSync(file)).toBe(true);
    const mem = await openDocumentStore('sqlite::memory:', '/nonexistent');
    try {
      expect((mem as SqliteDocumentStore).file).toBe(':memory:');
      await expect(mem.listPerformances()).resolves.toEqual([]);
    } finally {
      await mem.close();
    }
  });

  test('sqlite:// then a path: the path after the two slashes (sqlite:///abs/path, sqlite://rel/path)', async () => {
    const file = path.join(dir, 'slashes', 'y.sqlite');
    const absolute = await openDocumentStore(`sqlite://${file}`, '/nonexistent');
    try {
      expect((absolute as SqliteDocumentStore).file).toBe(file);
    } finally {
      await absolute.close();
    }
    expect(fs.existsSync(file)).toBe(true);
    const relative = path.relative(process.cwd(), path.join(dir, 'rel.sqlite'));
    expect(relative.startsWith('/')).toBe(false);
    const onRelative = await openDocumentStore(`sqlite://${relative}`, '/nonexistent');
    await onRelative.close();
    expect((onRelative as SqliteDocumentStore).file).toBe(relative);
    expect(fs.existsSync(path.join(dir, 'rel.sqlite'))).toBe(true);
    const mem = await openDocumentStore('sqlite://:memory:', '/nonexistent');
    await mem.close();
    expect((mem as SqliteDocumentStore).file).toBe(':memory:');
  });

  test('whitespace around the URL is no part of it', async () => {
    const file = path.join(dir, 'spaced.sqlite');
    const store = await openDocumentStore(` \tsqlite:${file}\n `, '/nonexistent');
    try {
      expect((store as SqliteDocumentStore).file).toBe(file);
    } finally {
      await store.close();
    }
    const blank = await openDocumentStore('   ', path.join(dir, 'blank')); // as unset: the default file
    await blank.close();
    expect((blank as SqliteDocumentStore).file).toBe(path.join(dir, 'blank', 'tixlock.sqlite'));
  });

  test('postgres:// and postgresql:// open PostgreSQL', async () => {
    const db = await createTestDatabase();
    try {
      for (const url of [db.url, db.url.replace(/^postgres:/, 'postgresql:')]) {
        const store = await openDocumentStore(url, dir);
        try {
          expect(store).toBeInstanceOf(PostgresDocumentStore);
          await expect(store.ping()).resolves.toBeUndefined();
        } finally {
          await store.close();
        }
      }
    } finally {
      await db.drop();
    }
  });

  test('anything else is refused, naming DOCUMENT_STORE_URL', async () => {
    // a URL that holds postgres:// later on is not a PostgreSQL URL; neither is sqlite:// with no path
    for (const url of ['mysql://x@y/z', 'redis://localhost', 'sqlite:', 'sqlite://', '/tmp/file.sqlite', 'x-postgres://postgres@127.0.0.1/db', 'jdbc:postgresql://h/db']) {
      await expect(openDocumentStore(url, dir)).rejects.toThrow(/DOCUMENT_STORE_URL/);
    }
  });
});
