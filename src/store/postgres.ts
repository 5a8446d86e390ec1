// The production document store: PostgreSQL over a `pg` Pool, JSONB documents.
// Every wait is bounded (connect, pool queue, statement), so a PostgreSQL that is down or hung fails fast; failures
// of the connection (refused, terminated, timed out, admin shutdown, ...) surface as Unavailable, which callers retry.
import { Pool, type PoolClient } from 'pg';
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
  CREATE TABLE performances (id text PRIMARY KEY, doc jsonb NOT NULL);
  CREATE TABLE tickets (
    ticket_id text PRIMARY KEY,
    performance_id text NOT NULL,
    ord bigint NOT NULL,
    doc jsonb NOT NULL
  );
  CREATE INDEX tickets_performance_ord ON tickets (performance_id, ord);
  CREATE TABLE orders (order_number text PRIMARY KEY, doc jsonb NOT NULL);
  CREATE TABLE people (person_id text PRIMARY KEY, doc jsonb NOT NULL);
  CREATE TABLE sales (
    ticket_id text PRIMARY KEY,
    order_number text NOT NULL,
    performance_id text NOT NULL,
    transaction_id text NOT NULL,
    doc jsonb NOT NULL
  );
  CREATE INDEX sales_performance ON sales (performance_id, ticket_id);
  CREATE INDEX sales_order ON sales (order_number);
  CREATE TABLE sale_conflicts (
    id bigserial PRIMARY KEY,
    order_number text NOT NULL UNIQUE,
    doc jsonb NOT NULL,
    recorded_at timestamptz NOT NULL
  );
  `,
  // 2: a conflict per order number and transaction (a rolled-back Redis may give one number to two sales)
  `
  ALTER TABLE sale_conflicts ADD COLUMN transaction_id text;
  UPDATE sale_conflicts SET transaction_id = doc->>'transaction_id';
  ALTER TABLE sale_conflicts ALTER COLUMN transaction_id SET NOT NULL;
  ALTER TABLE sale_conflicts DROP CONSTRAINT sale_conflicts_order_number_key;
  ALTER TABLE sale_conflicts ADD CONSTRAINT sale_conflicts_order_transaction UNIQUE (order_number, transaction_id);
  `,
  // 3 (PERSON_ORDERS_SCHEMA_STEP): a person's orders in a relation, one row per sale, instead of a list in the
  // person's document that every sale rewrote whole; existing lists move there in their order, then leave the documents
  `
  CREATE TABLE person_orders (
    seq bigserial PRIMARY KEY,
    person_id text NOT NULL,
    order_number text NOT NULL UNIQUE
  );
  CREATE INDEX person_orders_person ON person_orders (person_id, seq);
  INSERT INTO person_orders (person_id, order_number)
    SELECT p.person_id, o.order_number
    FROM people p
    CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(p.doc->'order_numbers', '[]'::jsonb)) WITH ORDINALITY AS o(order_number, n)
    ORDER BY p.person_id, o.n
    ON CONFLICT (order_number) DO NOTHING;
  UPDATE people SET doc = doc - 'order_numbers' WHERE doc ? 'order_numbers';
  `,
];

/** Ticket rows per INSERT statement of upsertInventory (and ids per lookup of ticketPerformances), by default. */
const TICKET_BATCH = 5000;
/** Rows per page when listing tickets, sales or orders, by default. */
const READ_PAGE = 20_000;

export interface PostgresOptions {
  /** pool size (default 10) */
  max?: number;
  /** bound on opening a connection and on waiting for a free pooled one, ms (default 3000) */
  connectTimeoutMs?: number;
  /** server-side statement_timeout, ms (default 5000); the client gives up 1 s later */
  statementTimeoutMs?: number;
  /** errors of idle pooled clients (the server went away); they never crash the process */
  onIdleError?: (err: Error) => void;
  /** rows per page of listTickets, listSoldTickets, listPerformanceOrders (default 20,000; tests page with a few) */
  readPageRows?: number;
  /** tickets per statement of upsertInventory and ticketPerformances (default 5,000; tests batch a few) */
  ticketBatchRows?: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now, query_canceled (statement_timeout), too_many_connections,
// and lock timeouts / database starting up
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300', '55P03']);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Connection ended|not queryable|terminating connection/i;

/** Is this a failure to reach or keep PostgreSQL (retry later), rather than a bug or a constraint? */
export function isConnectionFailure(err: unknown): boolean {
  // duck-typed: errors from node internals may come from another realm (instanceof Error fails under jest)
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure)) return true; // AggregateError of a dual-stack connect
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || /^08/.test(e.code)) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code)) return false; // any other SQLSTATE: the server answered
  }
  return typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message);
}

const sqlState = (err: unknown) => (err as { code?: unknown })?.code;

/** unique_violation (a concurrent writer took the ticket first), deadlock, serialization: run the transaction again */
const RETRYABLE = new Set(['23505', '40P01', '40001']);

export class PostgresDocumentStore implements DocumentStore {
  readonly pool: Pool;
  private closed = false;
  private readonly readPage: number;
  private readonly ticketBatch: number;

  constructor(connectionString: string, opts: PostgresOptions = {}) {
    const statementTimeout = opts.statementTimeoutMs ?? 5000;
    this.pool = new Pool({
      connectionString,
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 10_000,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 1000,
      idle_in_transaction_session_timeout: statementTimeout * 4,
      keepAlive: true,
      application_name: 'tixlock',
    });
    this.readPage = opts.readPageRows ?? READ_PAGE;
    this.ticketBatch = opts.ticketBatchRows ?? TICKET_BATCH;
    const onIdleError = opts.onIdleError ?? (() => undefined);
    this.pool.on('error', (err) => onIdleError(err));
  }

  /** Maps connection-level failures to Unavailable. */
  private async guard<T>(body: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Unavailable('The document store is closed.', 'document_store');
    try {
      return await body();
    } catch (err) {
      if (isConnectionFailure(err)) throw new Unavailable(`PostgreSQL is unavailable: ${(err as Error).message}`, 'document_store');
      throw err;
    }
  }

  private query<R extends object>(sql: string, params: unknown[] = []) {
    return this.guard(() => this.pool.query<R>(sql, params));
  }

  /** One transaction on one pooled client; a client whose connection failed is destroyed, not returned. */
  private async tx<T>(body: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const swallow = () => undefined; // a checked-out client's connection error surfaces through its query
    client.on('error', swallow);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await body(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      if (isConnectionFailure(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.removeListener('error', swallow);
      client.release(broken);
    }
  }

  /** Applies the schema steps not yet applied; upTo stops after that step (tests build a store of an earlier schema). */
  migrate(upTo = MIGRATIONS.length): Promise<void> {
    return this.guard(() =>
      this.tx(async (c) => {
        // one migrator at a time across replicas (CREATE TABLE IF NOT EXISTS alone races)
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('tixlock.schema_version'))`);
        await c.query(
          'CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
        );
        const { rows } = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
        const current = rows[0]?.v ?? 0;
        for (let v = current + 1; v <= Math.min(upTo, MIGRATIONS.length); v++) {
          await c.query(MIGRATIONS[v - 1] as string);
          await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, now())', [v]);
        }
      }),
    );
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  upsertInventory(performance: PerformanceDoc, tickets: readonly TicketDoc[]): Promise<void> {
    const all = distinctTickets(tickets);
    return this.guard(() =>
      this.tx(async (c) => {
        // an archived performance's document stays as its archive wrote it
        await c.query(
          `INSERT INTO performances (id, doc) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc
           WHERE performances.doc->'archive' IS NULL`,
          [performance.id, toJson(performance)],
        );
        for (let i = 0; i < all.length; i += this.ticketBatch) {
          const batch = all.slice(i, i + this.ticketBatch);
          // Sold tickets keep their attributes; a ticket never moves to another performance; unchanged rows are
          // not rewritten.
          await c.query(
            `INSERT INTO tickets (ticket_id, performance_id, ord, doc)
             SELECT t.id, t.perf, t.ord, t.doc::jsonb
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS t(id, perf, ord, doc)
             ON CONFLICT (ticket_id) DO UPDATE SET ord = excluded.ord, doc = excluded.doc
             WHERE tickets.performance_id = excluded.performance_id
               AND (tickets.ord <> excluded.ord OR tickets.doc <> excluded.doc)
               AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.ticket_id = excluded.ticket_id)`,
            [batch.map((t) => t.id), batch.map((t) => t.performance_id), batch.map((t) => t.ord), batch.map(toJson)],
          );
        }
      }),
    );
  }

  async getPerformance(performanceId: string): Promise<PerformanceDoc | undefined> {
    const { rows } = await this.query<{ doc: PerformanceDoc }>('SELECT doc FROM performances WHERE id = $1', [performanceId]);
    return rows[0]?.doc;
  }

  async ticketPerformances(ticketIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ticketIds.length; i += this.ticketBatch) {
      const { rows } = await this.query<{ ticket_id: string; performance_id: string }>(
        'SELECT ticket_id, performance_id FROM tickets WHERE ticket_id = ANY($1::text[])',
        [ticketIds.slice(i, i + this.ticketBatch)],
      );
      for (const r of rows) out.set(r.ticket_id, r.performance_id);
    }
    return out;
  }

  /** Read in pages (keyset on order_number) so a large performance never meets the statement timeout. */
  async listPerformanceOrders(performanceId: string): Promise<OrderSummary[]> {
    const out: OrderSummary[] = [];
    let after: string | null = null;
    for (;;) {
      const { rows }: { rows: OrderSummary[] } = await this.query<OrderSummary>(
        `SELECT o.order_number, o.doc->>'transaction_id' AS transaction_id, o.doc->>'performance_id' AS performance_id,
           ARRAY(SELECT t->>'id' FROM jsonb_array_elements(o.doc->'tickets') AS t) AS ticket_ids
         FROM orders o
         WHERE o.order_number IN (SELECT s.order_number FROM sales s WHERE s.performance_id = $1)
           AND ($2::text IS NULL OR o.order_number COLLATE "C" > $2::text COLLATE "C")
         ORDER BY o.order_number COLLATE "C" LIMIT $3`,
        [performanceId, after, this.readPage],
      );
      out.push(...rows);
      const last: OrderSummary | undefined = rows[rows.length - 1];
      if (!last || rows.length < this.readPage) return out;
      after = last.order_number;
    }
  }

  recordSale(sale: Sale): Promise<RecordOutcome> {
    return this.guard(async () => {
      // A concurrent sale of a shared ticket fails on the sales primary key (23505); run again, it then reads the
      // committed sale and records a conflict.
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.tx((c) => this.recordSaleTx(c, sale));
        } catch (err) {
          if (attempt < 3 && RETRYABLE.has(sqlState(err) as string)) continue;
          throw err;
        }
      }
    });
  }

  private async recordSaleTx(c: PoolClient, sale: Sale): Promise<RecordOutcome> {
    const now = new Date().toISOString();
    const ids = saleTicketIds(sale);
    const sold = await c.query<SoldTo & { ticket_id: string }>(
      'SELECT ticket_id, order_number, transaction_id FROM sales WHERE ticket_id = ANY($1::text[])',
      [ids],
    );
    const taken = await c.query<{ transaction_id: string }>(
      "SELECT doc->>'transaction_id' AS transaction_id FROM orders WHERE order_number = $1",
      [sale.order_number],
    );
    const judged = judgeSale(sale, new Map(sold.rows.map((r) => [r.ticket_id, r])), taken.rows[0]?.transaction_id, now);
    if (judged.kind === 'duplicate') return { outcome: 'duplicate' };
    if (judged.kind === 'conflict') {
      const inserted = await c.query(
        `INSERT INTO sale_conflicts (order_number, transaction_id, doc, recorded_at) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (order_number, transaction_id) DO NOTHING`,
        [sale.order_number, sale.transaction_id, toJson(judged.conflict), now],
      );
      if (inserted.rowCount === 1) return { outcome: 'conflict', conflict: judged.conflict };
      // a redelivered conflicting sale: the conflict is already on record
      const { rows } = await c.query<{ doc: SaleConflict }>(
        'SELECT doc FROM sale_conflicts WHERE order_number = $1 AND transaction_id = $2',
        [sale.order_number, sale.transaction_id],
      );
      return { outcome: 'conflict', conflict: rows[0]?.doc ?? judged.conflict };
    }

    const order = orderDocOf(sale, now);
    const created = await c.query(
      'INSERT INTO orders (order_number, doc) VALUES ($1, $2::jsonb) ON CONFLICT (order_number) DO NOTHING',
      [order.order_number, toJson(order)],
    );
    // another writer recorded this order number meanwhile: run again, judging against what it wrote
    if (created.rowCount !== 1) throw Object.assign(new Error('order number recorded concurrently'), { code: '40001' });

    const byId = new Map(sale.tickets.map((t) => [t.id, t]));
    await c.query(
      `INSERT INTO sales (ticket_id, order_number, performance_id, transaction_id, doc)
       SELECT t.id, $2, $3, $4, t.doc::jsonb FROM unnest($1::text[], $5::text[]) WITH ORDINALITY AS t(id, doc, n)
       ORDER BY t.n`,
      [
        ids,
        sale.order_number,
        sale.performance_id,
        sale.transaction_id,
        ids.map((id) => toJson(saleDocOf(sale, id, byId.get(id), now))),
      ],
    );

    if (order.person_id !== null) {
      const who = sale.customer;
      // the person's own fields, merged in SQL (a row of fixed size: names and phone when given, updated_at), and
      // one row linking the order to the person; concurrent orders of one person each add their own row
      await c.query(
        `INSERT INTO people (person_id, doc) VALUES ($1, $2::jsonb)
         ON CONFLICT (person_id) DO UPDATE SET doc = people.doc
           || jsonb_strip_nulls(jsonb_build_object('first_name', $3::text, 'last_name', $4::text, 'phone', $5::text))
           || jsonb_build_object('updated_at', $6::text)`,
        [
          order.person_id,
          toJson(newPersonRow(sale, order.person_id, now)),
          who?.first_name ?? null,
          who?.last_name ?? null,
          who?.phone ?? null,
          now,
        ],
      );
      await c.query(
        'INSERT INTO person_orders (person_id, order_number) VALUES ($1, $2) ON CONFLICT (order_number) DO NOTHING',
        [order.person_id, order.order_number],
      );
    }
    return { outcome: 'written' };
  }

  async getOrder(orderNumber: string): Promise<OrderDoc | undefined> {
    const { rows } = await this.query<{ doc: OrderDoc }>('SELECT doc FROM orders WHERE order_number = $1', [
      orderNumber,
    ]);
    return rows[0]?.doc;
  }

  /** The person and its order numbers, in one statement (one snapshot). */
  async getPerson(email: string): Promise<PersonDoc | undefined> {
    const id = personIdOf(email);
    if (id === null) return undefined;
    const { rows } = await this.query<{ doc: PersonRow; order_numbers: string[] }>(
      `SELECT p.doc, ARRAY(SELECT po.order_number FROM person_orders po WHERE po.person_id = p.person_id ORDER BY po.seq) AS order_numbers
       FROM people p WHERE p.person_id = $1`,
      [id],
    );
    const row = rows[0];
    return row ? personDocOf(row.doc, row.order_numbers) : undefined;
  }

  async listConflicts(limit: number): Promise<SaleConflict[]> {
    const { rows } = await this.query<{ doc: SaleConflict }>(
      'SELECT doc FROM sale_conflicts ORDER BY id DESC LIMIT $1',
      [Math.max(0, Math.floor(limit))],
    );
    return rows.map((r) => r.doc);
  }

  async listPerformances(): Promise<PerformanceDoc[]> {
    const { rows } = await this.query<{ doc: PerformanceDoc }>('SELECT doc FROM performances ORDER BY id');
    return rows.map((r) => r.doc);
  }

  /** Read in pages (keyset on ord, ticket_id) so a 1,000,000-ticket performance never meets the statement timeout. */
  async listTickets(performanceId: string): Promise<TicketDoc[]> {
    const out: TicketDoc[] = [];
    let after: { ord: string; id: string } | undefined;
    for (;;) {
      const { rows } = await this.query<{ doc: TicketDoc; ord_text: string; ticket_id: string }>(
        `SELECT t.doc, t.ord::text AS ord_text, t.ticket_id FROM tickets t
         WHERE t.performance_id = $1 AND ($2::bigint IS NULL OR (t.ord, t.ticket_id) > ($2::bigint, $3::text))
         ORDER BY t.ord, t.ticket_id LIMIT $4`,
        [performanceId, after?.ord ?? null, after?.id ?? null, this.readPage],
      );
      for (const r of rows) out.push(r.doc);
      const last = rows[rows.length - 1];
      if (!last || rows.length < this.readPage) return out;
      after = { ord: last.ord_text, id: last.ticket_id };
    }
  }

  async lastOrderNumber(performanceId: string): Promise<string | undefined> {
    const { rows } = await this.query<{ order_number: string }>(
      `SELECT order_number FROM sales WHERE performance_id = $1
       ORDER BY length(order_number) DESC, order_number COLLATE "C" DESC LIMIT 1`,
      [performanceId],
    );
    return rows[0]?.order_number;
  }

  async listSoldTickets(performanceId: string): Promise<SoldTicket[]> {
    const out: SoldTicket[] = [];
    let after: string | null = null;
    for (;;) {
      const { rows }: { rows: SoldTicket[] } = await this.query<SoldTicket>(
        `SELECT ticket_id, performance_id, order_number, transaction_id FROM sales
         WHERE performance_id = $1 AND ($2::text IS NULL OR ticket_id > $2::text)
         ORDER BY ticket_id LIMIT $3`,
        [performanceId, after, this.readPage],
      );
      out.push(...rows);
      const last: SoldTicket | undefined = rows[rows.length - 1];
      if (!last || rows.length < this.readPage) return out;
      after = last.ticket_id;
    }
  }
}
