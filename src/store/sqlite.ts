// The embedded document store: one SQLite file (better-sqlite3, WAL), JSON documents in TEXT columns.
// better-sqlite3 is synchronous; the async methods wrap its calls so both adapters share one port. Writes run in
// BEGIN IMMEDIATE transactions, so several processes on one file serialise their writes (busy_timeout bounds the wait).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type {
  DocumentStore,
  OrderDoc,
  OrderSummary,
  PerformanceDoc,
  PersonDoc,
  RecordOutcome,
  Sale,
  SaleConflict,
  SoldTicket,
  TicketDoc,
} from '../domain/documents';
import { Unavailable } from '../errors';
import {
  judgeSale,
  type SoldTo,
  distinctTickets,
  mergePersonRow,
  newPersonRow,
  orderDocOf,
  personDocOf,
  personIdOf,
  type PersonRow,
  saleDocOf,
  saleTicketIds,
  toJson,
} from './common';

/** Versioned schema steps; applied in order, each once (schema_version records them). */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE performances (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
  CREATE TABLE tickets (
    ticket_id TEXT PRIMARY KEY,
    performance_id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX tickets_performance_ord ON tickets (performance_id, ord);
  CREATE TABLE orders (order_number TEXT PRIMARY KEY, doc TEXT NOT NULL);
  CREATE TABLE people (person_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
  CREATE TABLE sales (
    ticket_id TEXT PRIMARY KEY,
    order_number TEXT NOT NULL,
    performance_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX sales_performance ON sales (performance_id, ticket_id);
  CREATE INDEX sales_order ON sales (order_number);
  CREATE TABLE sale_conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  );
  `,
  // 2: a conflict per order number and transaction (a rolled-back Redis may give one number to two sales)
  `
  CREATE TABLE sale_conflicts_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (order_number, transaction_id)
  );
  INSERT INTO sale_conflicts_v2 (id, order_number, transaction_id, doc, recorded_at)
    SELECT id, order_number, json_extract(doc, '$.transaction_id'), doc, recorded_at FROM sale_conflicts;
  DROP TABLE sale_conflicts;
  ALTER TABLE sale_conflicts_v2 RENAME TO sale_conflicts;
  `,
  // 3 (PERSON_ORDERS_SCHEMA_STEP): a person's orders in a relation, one row per sale, instead of a list in the
  // person's document that every sale rewrote whole; existing lists move there in their order, then leave the documents
  `
  CREATE TABLE person_orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    order_number TEXT NOT NULL UNIQUE
  );
  CREATE INDEX person_orders_person ON person_orders (person_id, seq);
  INSERT OR IGNORE INTO person_orders (person_id, order_number)
    SELECT p.person_id, j.value FROM people p, json_each(p.doc, '$.order_numbers') j
    ORDER BY p.person_id, j.key;
  UPDATE people SET doc = json_remove(doc, '$.order_numbers') WHERE json_type(doc, '$.order_numbers') IS NOT NULL;
  `,
];

/** Ticket ids per `IN (...)` lookup (well under SQLite's limit on bound parameters). */
const ID_BATCH = 500;

export interface SqliteOptions {
  /** how long a write waits for another connection's write lock (ms) */
  busyTimeoutMs?: number;
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

export class SqliteDocumentStore implements DocumentStore {
  readonly db: Database.Database;
  private closed = false;

  /** `file` is a path or ':memory:'. */
  constructor(
    readonly file: string,
    opts: SqliteOptions = {},
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  /** Runs a sync body; a write lock not obtained within busy_timeout becomes Unavailable. */
  private run<T>(body: () => T): Promise<T> {
    try {
      if (this.closed) throw new Unavailable('The document store is closed.', 'document_store');
      return Promise.resolve(body());
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && BUSY.has(code)) {
        return Promise.reject(new Unavailable(`SQLite is busy: ${(err as Error).message}`, 'document_store'));
      }
      return Promise.reject(err);
    }
  }

  /** BEGIN IMMEDIATE: takes the write lock first, so read-then-write bodies never race another writer. */
  private write<T>(body: () => T): Promise<T> {
    return this.run(() => this.db.transaction(body).immediate());
  }

  /** Applies the schema steps not yet applied; upTo stops after that step (tests build a store of an earlier schema). */
  migrate(upTo = MIGRATIONS.length): Promise<void> {
    return this.write(() => {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
      );
      const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
      const current = row.v ?? 0;
      const insert = this.db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
      for (let v = current + 1; v <= Math.min(upTo, MIGRATIONS.length); v++) {
        this.db.exec(MIGRATIONS[v - 1] as string);
        insert.run(v, new Date().toISOString());
      }
    });
  }

  ping(): Promise<void> {
    return this.run(() => void this.db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  upsertInventory(performance: PerformanceDoc, tickets: readonly TicketDoc[]): Promise<void> {
    return this.write(() => {
      // an archived performance's document stays as its archive wrote it
      this.db
        .prepare(
          `INSERT INTO performances (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc
           WHERE json_extract(performances.doc, '$.archive') IS NULL`,
        )
        .run(performance.id, toJson(performance));
      // Sold tickets keep their attributes; a ticket never moves to another performance.
      const upsert = this.db.prepare(
        `INSERT INTO tickets (ticket_id, performance_id, ord, doc) VALUES (?, ?, ?, ?)
         ON CONFLICT (ticket_id) DO UPDATE SET ord = excluded.ord, doc = excluded.doc
         WHERE tickets.performance_id = excluded.performance_id
           AND NOT EXISTS (SELECT 1 FROM sales WHERE sales.ticket_id = excluded.ticket_id)`,
      );
      for (const t of distinctTickets(tickets)) upsert.run(t.id, t.performance_id, t.ord, toJson(t));
    });
  }

  getPerformance(performanceId: string): Promise<PerformanceDoc | undefined> {
    return this.run(() => {
      const row = this.db.prepare('SELECT doc FROM performances WHERE id = ?').get(performanceId) as { doc: string } | undefined;
      return row ? (JSON.parse(row.doc) as PerformanceDoc) : undefined;
    });
  }

  ticketPerformances(ticketIds: readonly string[]): Promise<Map<string, string>> {
    return this.run(() => {
      const out = new Map<string, string>();
      for (let i = 0; i < ticketIds.length; i += ID_BATCH) {
        const batch = ticketIds.slice(i, i + ID_BATCH);
        const rows = this.db
          .prepare(`SELECT ticket_id, performance_id FROM tickets WHERE ticket_id IN (${batch.map(() => '?').join(',')})`)
          .all(...batch) as { ticket_id: string; performance_id: string }[];
        for (const r of rows) out.set(r.ticket_id, r.performance_id);
      }
      return out;
    });
  }

  listPerformanceOrders(performanceId: string): Promise<OrderSummary[]> {
    return this.run(() => {
      const rows = this.db
        .prepare('SELECT doc FROM orders WHERE order_number IN (SELECT order_number FROM sales WHERE performance_id = ?)')
        .all(performanceId) as { doc: string }[];
      return rows.map((r) => {
        const o = JSON.parse(r.doc) as OrderDoc;
        return { order_number: o.order_number, transaction_id: o.transaction_id, performance_id: o.performance_id, ticket_ids: o.tickets.map((t) => t.id) };
      });
    });
  }

  recordSale(sale: Sale): Promise<RecordOutcome> {
    return this.write((): RecordOutcome => {
      const now = new Date().toISOString();
      const ids = saleTicketIds(sale);
      const sold = new Map<string, SoldTo>();
      const readSale = this.db.prepare('SELECT order_number, transaction_id FROM sales WHERE ticket_id = ?');
      for (const id of ids) {
        const row = readSale.get(id) as SoldTo | undefined;
        if (row) sold.set(id, row);
      }
      const taken = this.db.prepare('SELECT doc FROM orders WHERE order_number = ?').get(sale.order_number) as { doc: string } | undefined;
      const orderTakenBy = taken ? (JSON.parse(taken.doc) as OrderDoc).transaction_id : undefined;
      const judged = judgeSale(sale, sold, orderTakenBy, now);
      if (judged.kind === 'duplicate') return { outcome: 'duplicate' };
      if (judged.kind === 'conflict') {
        const existing = this.db
          .prepare('SELECT doc FROM sale_conflicts WHERE order_number = ? AND transaction_id = ?')
          .get(sale.order_number, sale.transaction_id) as { doc: string } | undefined;
        if (existing) return { outcome: 'conflict', conflict: JSON.parse(existing.doc) as SaleConflict };
        this.db
          .prepare('INSERT INTO sale_conflicts (order_number, transaction_id, doc, recorded_at) VALUES (?, ?, ?, ?)')
          .run(sale.order_number, sale.transaction_id, toJson(judged.conflict), now);
        return { outcome: 'conflict', conflict: judged.conflict };
      }

      const order = orderDocOf(sale, now);
      this.db.prepare('INSERT INTO orders (order_number, doc) VALUES (?, ?)').run(order.order_number, toJson(order));

      if (order.person_id !== null) {
        // the person's own fields (a row of fixed size), and one row linking the order to the person
        const row = this.db.prepare('SELECT doc FROM people WHERE person_id = ?').get(order.person_id) as
          | { doc: string }
          | undefined;
        const person = row
          ? mergePersonRow(JSON.parse(row.doc) as PersonRow, sale, now)
          : newPersonRow(sale, order.person_id, now);
        this.db
          .prepare('INSERT INTO people (person_id, doc) VALUES (?, ?) ON CONFLICT (person_id) DO UPDATE SET doc = excluded.doc')
          .run(person.person_id, toJson(person));
        this.db
          .prepare('INSERT INTO person_orders (person_id, order_number) VALUES (?, ?) ON CONFLICT (order_number) DO NOTHING')
          .run(person.person_id, order.order_number);
      }

      const insertSale = this.db.prepare(
        'INSERT INTO sales (ticket_id, order_number, performance_id, transaction_id, doc) VALUES (?, ?, ?, ?, ?)',
      );
      const byId = new Map(sale.tickets.map((t) => [t.id, t]));
      for (const id of ids) {
        const t = byId.get(id);
        insertSale.run(id, sale.order_number, sale.performance_id, sale.transaction_id, toJson(saleDocOf(sale, id, t, now)));
      }
      return { outcome: 'written' };
    });
  }

  getOrder(orderNumber: string): Promise<OrderDoc | undefined> {
    return this.run(() => {
      const row = this.db.prepare('SELECT doc FROM orders WHERE order_number = ?').get(orderNumber) as
        | { doc: string }
        | undefined;
      return row ? (JSON.parse(row.doc) as OrderDoc) : undefined;
    });
  }

  /** The person and its order numbers, read in one snapshot (a deferred transaction: no write lock). */
  getPerson(email: string): Promise<PersonDoc | undefined> {
    const id = personIdOf(email);
    if (id === null) return Promise.resolve(undefined);
    return this.run(() =>
      this.db
        .transaction(() => {
          const row = this.db.prepare('SELECT doc FROM people WHERE person_id = ?').get(id) as { doc: string } | undefined;
          if (!row) return undefined;
          const orders = this.db
            .prepare('SELECT order_number FROM person_orders WHERE person_id = ? ORDER BY seq')
            .pluck()
            .all(id) as string[];
          return personDocOf(JSON.parse(row.doc) as PersonRow, orders);
        })
        .deferred(),
    );
  }

  listConflicts(limit: number): Promise<SaleConflict[]> {
    return this.run(() => {
      const rows = this.db
        .prepare('SELECT doc FROM sale_conflicts ORDER BY id DESC LIMIT ?')
        .all(Math.max(0, Math.floor(limit))) as { doc: string }[];
      return rows.map((r) => JSON.parse(r.doc) as SaleConflict);
    });
  }

  listPerformances(): Promise<PerformanceDoc[]> {
    return this.run(() => {
      const rows = this.db.prepare('SELECT doc FROM performances ORDER BY id').all() as { doc: string }[];
      return rows.map((r) => JSON.parse(r.doc) as PerformanceDoc);
    });
  }

  listTickets(performanceId: string): Promise<TicketDoc[]> {
    return this.run(() => {
      const rows = this.db
        .prepare('SELECT doc FROM tickets WHERE performance_id = ? ORDER BY ord, ticket_id')
        .all(performanceId) as { doc: string }[];
      return rows.map((r) => JSON.parse(r.doc) as TicketDoc);
    });
  }

  lastOrderNumber(performanceId: string): Promise<string | undefined> {
    return this.run(() => {
      const row = this.db
        .prepare('SELECT order_number FROM sales WHERE performance_id = ? ORDER BY LENGTH(order_number) DESC, order_number DESC LIMIT 1')
        .get(performanceId) as { order_number: string } | undefined;
      return row?.order_number;
    });
  }

  listSoldTickets(performanceId: string): Promise<SoldTicket[]> {
    return this.run(
      () =>
        this.db
          .prepare(
            `SELECT ticket_id, performance_id, order_number, transaction_id FROM sales
             WHERE performance_id = ? ORDER BY ticket_id`,
          )
          .all(performanceId) as SoldTicket[],
    );
  }
}
