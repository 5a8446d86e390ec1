// The document store contract, for the test/store-contract-*.test.ts files: one suite, run against both adapters
// (SQLite in a temporary file, PostgreSQL on the run's test server in a database of its own). Invariants 4 and 5 of
// DESIGN.md rest on what it proves: a redelivered sale changes nothing, and no ticket is ever sold to two orders.
// describeStoreContract runs a part of the suite on each adapter; the sales, orders and tickets the parts record
// are built here.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Customer, DocumentStore, Sale, TicketDoc } from '../../src/domain/documents';
import { PostgresDocumentStore, SqliteDocumentStore } from '../../src/store';
import type { PostgresOptions } from '../../src/store/postgres';
import { createTestDatabase } from './postgres';
import { openSqliteInThread } from './sqlite-thread-store';

export interface Adapter {
  store: DocumentStore;
  /** a second, independent store on the same database (another writer process; for SQLite, another thread) */
  openAnother(): DocumentStore;
  /** the rows of schema_version */
  versions(): Promise<number[]>;
  /** the documents of the SALES rows of these tickets (no port method reads them), in the order of the ids */
  saleDocs(ticketIds: string[]): Promise<unknown[]>;
  cleanup(): Promise<void>;
}

const ADAPTERS: [string, (postgres: PostgresOptions) => Promise<Adapter>][] = [
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-store-'));
      const file = path.join(dir, 'contract.sqlite');
      const store = new SqliteDocumentStore(file);
      return {
        store,
        // in a thread of its own: connections in one thread never overlap (better-sqlite3 is synchronous)
        openAnother: () => openSqliteInThread(file),
        versions: async () =>
          (store.db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]).map(
            (r) => r.version,
          ),
        saleDocs: async (ids) =>
          ids.map((id) => {
            const row = store.db.prepare('SELECT doc FROM sales WHERE ticket_id = ?').get(id) as { doc: string } | undefined;
            return row && (JSON.parse(row.doc) as unknown);
          }),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'postgres',
    async (postgres) => {
      const db = await createTestDatabase();
      // the contract queues up to 200 writes on a pool of 10 at once: waiting for a connection is part of the
      // connect timeout, and on a loaded machine 200 queued writes outlast its 3 s default (seen: 'timeout exceeded
      // when trying to connect'). The order writer sends 8 at a time; the contract tests correctness, not that bound
      const opts = { connectTimeoutMs: 60_000, ...postgres };
      const store = new PostgresDocumentStore(db.url, opts);
      return {
        store,
        openAnother: () => new PostgresDocumentStore(db.url, opts),
        versions: async () =>
          (await store.pool.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).rows.map(
            (r) => r.version,
          ),
        saleDocs: async (ids) => {
          const { rows } = await store.pool.query<{ ticket_id: string; doc: unknown }>(
            'SELECT ticket_id, doc FROM sales WHERE ticket_id = ANY($1::text[])',
            [ids],
          );
          return ids.map((id) => rows.find((r) => r.ticket_id === id)?.doc);
        },
        cleanup: () => db.drop(),
      };
    },
  ],
];

/** The adapter a contract suite runs on: filled in by the beforeAll describeStoreContract registers. */
export interface StoreUnderTest {
  /** the adapter's name: sqlite, postgres */
  name: string;
  adapter: Adapter;
  /** adapter.store, migrated */
  store: DocumentStore;
  /** two more writers on the same database, connected (so races really overlap) */
  others: DocumentStore[];
}

/**
 * Defines `suite` once and runs it against each adapter, as `document store contract: <name>`: a migrated store and
 * two more connected writers on the same database before its tests, all closed and the database removed after.
 * `options.postgres` are options of the PostgreSQL stores (e.g. pages of a few rows, to read across page ends).
 */
export function describeStoreContract(suite: (ctx: StoreUnderTest) => void, options: { postgres?: PostgresOptions } = {}): void {
  describe.each(ADAPTERS)('document store contract: %s', (name, make) => {
    const ctx = { name, others: [] as DocumentStore[] } as StoreUnderTest;

    beforeAll(async () => {
      ctx.adapter = await make(options.postgres ?? {});
      ctx.store = ctx.adapter.store;
      await ctx.store.migrate();
      ctx.others = [ctx.adapter.openAnother(), ctx.adapter.openAnother()];
      await Promise.all(ctx.others.map((o) => Promise.all([o.ping(), o.ping(), o.ping()])));
      await Promise.all([ctx.store.ping(), ctx.store.ping(), ctx.store.ping()]);
    });
    afterAll(async () => {
      await Promise.all(ctx.others.map((o) => o.close()));
      await ctx.store?.close();
      await ctx.adapter?.cleanup();
    });

    suite(ctx);
  });
}

export const uid = () => randomUUID().slice(0, 8);

// An ISO-8601 UTC time with milliseconds: the one of test/support/app.ts, which this module does not import (that
// would register the HTTP contract's hooks in every store test file).
/**
 * Waits until this process's clock (the one both adapters stamp documents with) has passed the millisecond of
 * these timestamps, so a document written from now on gets a later one: a rewrite shows, whatever the machine's load.
 */
export async function untilClockPasses(...stamps: (string | undefined)[]): Promise<void> {
  const latest = Math.max(...stamps.map((s) => Date.parse(s ?? '')));
  if (Number.isNaN(latest)) throw new Error(`untilClockPasses: not timestamps: ${stamps.join(', ')}`);
  while (Date.now() <= latest) await new Promise((r) => setTimeout(r, 1));
}

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function ticketsOf(performanceId: string, n: number, price = 5000, from = 0): TicketDoc[] {
  const out: TicketDoc[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      id: `${performanceId}-T${String(i).padStart(7, '0')}`,
      performance_id: performanceId,
      section: i % 2 ? 'BALC' : 'ORCH',
      row: String.fromCharCode(65 + (Math.floor(i / 100) % 26)),
      seat: String((i % 100) + 1),
      price,
      price_level: price > 6000 ? 'A' : 'B',
      ord: i,
    });
  }
  return out;
}

/** What recordSale answers for a refused sale: the conflict it recorded. */
export function conflictOutcome(sale: Sale, tickets: { id: string; sold_to_order: string }[], extra: Record<string, unknown> = {}) {
  return {
    outcome: 'conflict',
    conflict: {
      order_number: sale.order_number,
      transaction_id: sale.transaction_id,
      performance_id: sale.performance_id,
      tickets,
      ...extra,
      sale: JSON.parse(JSON.stringify(sale)),
      recorded_at: expect.stringMatching(ISO_MS),
    },
  };
}

export function saleOf(
  opts: { order?: string; performance?: string; tickets?: string[]; customer?: Customer; payment?: string } = {},
): Sale {
  const performance = opts.performance ?? `perf-${uid()}`;
  const ticketIds = opts.tickets ?? [`${performance}-A1`, `${performance}-A2`];
  return {
    order_number: opts.order ?? `1001-${uid()}`,
    transaction_id: `tx-${uid()}`,
    performance_id: performance,
    client: 'alice',
    ip: '10.0.0.1',
    completed_at: '2030-01-02T03:04:05.678Z',
    tickets: ticketIds.map((id, i) => ({
      id,
      price: 5000 + i,
      section: 'ORCH',
      row: 'A',
      seat: String(i + 1),
      price_level: 'B',
    })),
    total: ticketIds.reduce((sum, _id, i) => sum + 5000 + i, 0),
    customer: opts.customer,
    payment_reference: opts.payment,
  };
}

