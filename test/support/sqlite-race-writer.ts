// A writer process of test/store-sqlite-processes.test.ts: opens the SQLite document store at argv[2] with the
// production settings (WAL, busy_timeout, BEGIN IMMEDIATE writes) and records the sales it is sent, round by
// round, one JSON line each way:
//   in:  {"round": n, "sales": Sale[]}  (recorded one after another, in the order given)  |  "end"
//   out: {"ready": true}  then per round {"round": n, "results": [{order_number, outcome, start, end}], "busy": k}
// start and end are wall-clock milliseconds with sub-millisecond precision (performance.timeOrigin + now()), so the
// parent can compare the two processes' transactions in time. A write refused as busy (the other process held the
// lock past busy_timeout) is counted and tried again, as the order writer's redelivery would.
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import type { Sale } from '../../src/domain/documents';
import { Unavailable } from '../../src/errors';
import { SqliteDocumentStore } from '../../src/store';

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const store = new SqliteDocumentStore(process.argv[2] as string);
  const send = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  send({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'end') break;
    const { round, sales } = JSON.parse(line) as { round: number; sales: Sale[] };
    const results = [];
    let busy = 0;
    for (const sale of sales) {
      for (;;) {
        const start = now();
        try {
          const r = await store.recordSale(sale);
          results.push({ order_number: sale.order_number, outcome: r.outcome, start, end: now() });
          break;
        } catch (err) {
          if (!(err instanceof Unavailable)) throw err;
          busy++;
        }
      }
    }
    send({ round, results, busy });
  }
  await store.close();
  process.exit(0); // stdin stays referenced after the loop
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
