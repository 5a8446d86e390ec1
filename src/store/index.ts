// Picks the document store adapter from DOCUMENT_STORE_URL and migrates its schema.
import path from 'node:path';
import type { DocumentStore } from '../domain/documents';
import { redactUrl } from '../redact';
import { PostgresDocumentStore, type PostgresOptions } from './postgres';
import { SqliteDocumentStore } from './sqlite';

export { PostgresDocumentStore } from './postgres';
export { SqliteDocumentStore } from './sqlite';

/** The SQLite file used when DOCUMENT_STORE_URL is unset. */
export const defaultSqliteFile = (dataDir: string) => path.join(dataDir, 'tixlock.sqlite');

/**
 * unset → SQLite file `<dataDir>/tixlock.sqlite`; `sqlite:PATH` → that file (`sqlite::memory:` for a private
 * in-memory database, `sqlite:///abs/path` also accepted); `postgres://` / `postgresql://` → PostgreSQL.
 * The schema is created or migrated before the store is returned.
 */
export async function openDocumentStore(
  url: string | undefined,
  dataDir: string,
  opts: { postgres?: PostgresOptions } = {},
): Promise<DocumentStore> {
  let store: DocumentStore;
  const raw = url?.trim() ?? '';
  if (raw === '') {
    store = new SqliteDocumentStore(defaultSqliteFile(dataDir));
  } else if (raw.startsWith('sqlite:')) {
    let file = raw.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new Error(`DOCUMENT_STORE_URL ${raw} names no file (sqlite:PATH or sqlite::memory:)`);
    store = new SqliteDocumentStore(file);
  } else if (/^postgres(ql)?:\/\//.test(raw)) {
    store = new PostgresDocumentStore(raw, opts.postgres);
  } else {
    throw new Error(
      `DOCUMENT_STORE_URL must start with sqlite:, postgres:// or postgresql:// (got ${redactUrl(raw)})`,
    );
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
