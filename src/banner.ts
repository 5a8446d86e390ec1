// The start-up lines of `tixlock api` / `tixlock all`, printed once (by the cluster primary when there are workers).
import path from 'node:path';
import type { Config } from './config';
import type { KeySet } from './credentials';
import { defaultSqliteFile } from './store';

export interface BannerFacts {
  port: number;
  /** the private redis-server, when REDIS_URL is unset */
  embedded: { url: string; dir: string } | undefined;
  keys: KeySet;
  /** where the order writer runs: in this process, in a worker process of its own, or not at all */
  writer: 'in-process' | 'own-process' | undefined;
  /** set when a cluster primary runs API workers */
  workers?: { api: number[]; writer: number | undefined };
}

export function printBanner(config: Config, facts: BannerFacts): void {
  const { port, embedded, keys, writer, workers } = facts;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const notes = [
    workers ? `${workers.api.length} API workers` : '',
    writer === 'in-process' ? 'with the order writer' : '',
    writer === 'own-process' ? 'with the order writer in a process of its own' : '',
  ].filter(Boolean);
  const lines = [`tixlock api listening on http://${host}:${port}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`];
  if (workers) {
    const writerPid = workers.writer === undefined ? '' : `, order writer pid ${workers.writer}`;
    lines.push(`  processes: primary pid ${process.pid}, API worker pids ${workers.api.join(' ')}${writerPid}`);
  }
  lines.push(
    `  data directory: ${path.resolve(config.dataDir)}`,
    embedded
      ? `  redis: private redis-server on ${embedded.url} (AOF in ${path.resolve(embedded.dir)})`
      : '  redis: REDIS_URL',
    `  document store: ${config.documentStoreUrl ? config.documentStoreUrl.replace(/:\/\/[^@/]*@/, '://***@') : `SQLite ${path.resolve(defaultSqliteFile(config.dataDir))}`}`,
  );
  if (keys.devKeysFile) {
    lines.push(
      `  dev keys (kept in ${path.resolve(keys.devKeysFile)}; set TIXLOCK_API_KEYS / TIXLOCK_ADMIN_KEYS to use your own):`,
      ...keys.clients.map((k) => `    client key (${k.name}): ${k.key}`),
      ...keys.admins.map((k) => `    admin key  (${k.name}): ${k.key}`),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
