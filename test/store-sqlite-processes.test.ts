// SQLite under real concurrency: two writer processes on one database file, racing to record the same sales, as
// two order writers do when one sale is delivered to both (a claim after a stall). better-sqlite3 is synchronous,
// so connections in one thread never overlap (the store contract's races use threads, and overlap only sometimes:
// test/store-contract-concurrency.test.ts); here two OS processes race for many rounds, and the store's settings (WAL, busy_timeout, BEGIN IMMEDIATE; src/store/sqlite.ts) must serialise them:
// every sale written once, the other copy a duplicate, each ticket sold once, each order once. The test also
// proves the race happened: both processes wrote, and their transactions overlapped in time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Sale } from '../src/domain/documents';
import { SqliteDocumentStore } from '../src/store';
import { REPO } from './support/spawn';
import { saleOf, uid } from './support/store-contract';

const REGISTER = path.join(REPO, 'test', 'support', 'swc-register.js');
const CHILD = path.join(REPO, 'test', 'support', 'sqlite-race-writer.ts');
const ROUNDS = 25;
const SALES_PER_ROUND = 16;

interface Result {
  order_number: string;
  outcome: 'written' | 'duplicate' | 'conflict';
  start: number;
  end: number;
}
interface RoundReport {
  round: number;
  results: Result[];
  busy: number;
}

/** One writer process: send it a round, read its report. */
class WriterProcess {
  private readonly lines: AsyncIterator<string>;
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(name: string, file: string): WriterProcess {
    const child = spawn(process.execPath, ['-r', REGISTER, CHILD, file], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return new WriterProcess(name, child);
  }

  async next<T>(): Promise<T> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`writer ${this.name} ended early (exit ${await this.exited})`);
    return JSON.parse(value as string) as T;
  }

  send(msg: unknown): void {
    this.child.stdin?.write(`${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n`);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Pairs of transactions, one of each process, that were running at the same moment. */
function overlaps(a: Result[], b: Result[]): number {
  let n = 0;
  for (const x of a) for (const y of b) if (x.start < y.end && y.start < x.end) n++;
  return n;
}

let dir: string;
let file: string;
const writers: WriterProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-sqlite-processes-'));
  file = path.join(dir, 'documents.sqlite');
  const setup = new SqliteDocumentStore(file);
  await setup.migrate();
  expect(setup.db.pragma('journal_mode', { simple: true })).toBe('wal');
  await setup.close();
  writers.push(WriterProcess.start('A', file), WriterProcess.start('B', file));
  for (const w of writers) expect(await w.next<{ ready: boolean }>()).toEqual({ ready: true });
}, 60_000);

afterAll(async () => {
  for (const w of writers) w.kill();
  await Promise.all(writers.map((w) => w.exited));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 30_000);

test('two writer processes recording the same sales at once on one SQLite file: each sale written once, each ticket sold once', async () => {
  const [a, b] = writers as [WriterProcess, WriterProcess];
  const perf = `perf-${uid()}`;
  const email = `racer-${uid()}@example.com`;
  const all: Sale[] = [];
  const reports: { a: RoundReport; b: RoundReport }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const sales = Array.from({ length: SALES_PER_ROUND }, (_x, i) =>
      saleOf({
        performance: perf,
        tickets: [`${perf}-R${round}-${i}a`, `${perf}-R${round}-${i}b`],
        // every fourth sale is one customer's: the person's order list is raced for too
        customer: i % 4 === 0 ? { email } : undefined,
      }),
    );
    all.push(...sales);
    // opposite orders: the two meet in the middle of the round, where both try the same sale at the same time
    a.send({ round, sales });
    b.send({ round, sales: [...sales].reverse() });
    reports.push({ a: await a.next<RoundReport>(), b: await b.next<RoundReport>() });
  }
  for (const w of writers) w.send('end');
  expect(await Promise.all(writers.map((w) => w.exited))).toEqual([0, 0]);

  // every sale: written by exactly one process, a duplicate for the other (never a conflict, never twice)
  const outcomes = new Map<string, string[]>();
  for (const r of reports) {
    for (const res of [...r.a.results, ...r.b.results]) outcomes.set(res.order_number, [...(outcomes.get(res.order_number) ?? []), res.outcome]);
  }
  expect(outcomes.size).toBe(all.length);
  const wrong = [...outcomes].filter(([, os]) => os.sort().join() !== 'duplicate,written');
  expect(wrong).toEqual([]);

  // the database: one order per sale, one sale row per ticket, to that sale's order, the person's orders all there
  const store = new SqliteDocumentStore(file);
  try {
    for (const s of all) expect((await store.getOrder(s.order_number))?.order_number).toBe(s.order_number);
    const sold = await store.listSoldTickets(perf);
    expect(sold).toHaveLength(2 * all.length);
    expect(new Set(sold.map((s) => s.ticket_id)).size).toBe(2 * all.length);
    const orderOf = new Map(all.flatMap((s) => s.tickets.map((t) => [t.id, s.order_number] as const)));
    expect(sold.filter((s) => orderOf.get(s.ticket_id) !== s.order_number)).toEqual([]);
    const orderRows = store.db.prepare('SELECT COUNT(*) AS n FROM orders').get() as { n: number };
    expect(orderRows.n).toBe(all.length);
    const customers = all.filter((s) => s.customer).map((s) => s.order_number);
    expect([...((await store.getPerson(email))?.order_numbers ?? [])].sort()).toEqual(customers.sort());
  } finally {
    await store.close();
  }

  // not vacuous: both processes wrote, and their transactions ran at the same moments (a real race, not turns)
  const writtenBy = (side: 'a' | 'b') => reports.reduce((n, r) => n + r[side].results.filter((x) => x.outcome === 'written').length, 0);
  const together = reports.reduce((n, r) => n + overlaps(r.a.results, r.b.results), 0);
  const roundsOverlapping = reports.filter((r) => overlaps(r.a.results, r.b.results) > 0).length;
  const busy = reports.reduce((n, r) => n + r.a.busy + r.b.busy, 0);
  console.log(
    `[sqlite, 2 processes] ${all.length} sales x 2 copies in ${ROUNDS} rounds: written by A ${writtenBy('a')}, by B ${writtenBy('b')}; ` +
      `${together} pairs of overlapping transactions, in ${roundsOverlapping}/${ROUNDS} rounds; ${busy} writes refused busy and retried`,
  );
  expect(writtenBy('a')).toBeGreaterThan(0);
  expect(writtenBy('b')).toBeGreaterThan(0);
  expect(together).toBeGreaterThan(0);
}, 120_000);
