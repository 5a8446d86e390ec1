// Preloaded (node -r) into an order-writer process by test/writer-process.test.ts: the process SIGKILLs itself
// right after the document store wrote a sale and before the writer acknowledged it. The fault lives here, in the
// test, wrapped around the store the writer depends on; production code has no switch for it.
import { PostgresDocumentStore } from '../../../src/store/postgres';

const recordSale = PostgresDocumentStore.prototype.recordSale;
PostgresDocumentStore.prototype.recordSale = async function (this: PostgresDocumentStore, ...args: Parameters<typeof recordSale>) {
  const outcome = await recordSale.apply(this, args);
  process.kill(process.pid, 'SIGKILL');
  return outcome;
};
