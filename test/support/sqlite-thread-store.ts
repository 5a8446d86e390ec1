// A SqliteDocumentStore in a worker thread, for the store contract's "another writer": better-sqlite3 is
// synchronous, so two connections in one thread take turns and a "race" between them never overlaps. In a thread
// of its own, the other connection's transactions run while this thread's do, as another writer process's would.
// Every DocumentStore method is forwarded; results are structured clones (Maps and plain objects survive), errors
// come back as Errors with the original's name, message and code.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DocumentStore } from '../../src/domain/documents';

const REGISTER = path.join(__dirname, 'swc-register.js');
const STORE = path.resolve(__dirname, '..', '..', 'src', 'store');

// runs in the thread: opens the store, answers {id, method, args} with {id, value} or {id, error}
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.register);
const { SqliteDocumentStore } = require(workerData.store);
const store = new SqliteDocumentStore(workerData.file);
parentPort.on('message', async ({ id, method, args }) => {
  try {
    parentPort.postMessage({ id, value: await store[method](...args) });
  } catch (err) {
    parentPort.postMessage({ id, error: { name: err.name, message: err.message, code: err.code } });
  }
  if (method === 'close') parentPort.close();
});
`;

export function openSqliteInThread(file: string): DocumentStore {
  const worker = new Worker(THREAD, { eval: true, workerData: { file, register: REGISTER, store: STORE } });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  worker.on('message', (m: { id: number; value?: unknown; error?: { name: string; message: string; code?: string } }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!m.error) return p?.resolve(m.value);
    const err = Object.assign(new Error(m.error.message), { name: m.error.name, code: m.error.code });
    p?.reject(err);
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  const call = (method: string, args: unknown[]) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  return new Proxy({} as DocumentStore, {
    // not a thenable: awaiting the store must not call it
    get: (_target, method) =>
      typeof method === 'string' && method !== 'then' ? (...args: unknown[]) => call(method, args) : undefined,
  });
}
