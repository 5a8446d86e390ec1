// The start-up lines of `tixlock api` / `tixlock all`, printed once (by the cluster primary when there are workers).
import path from 'node:path';
import type { Config } from './config';
import type { KeySet } from './credentials';
import { redactUrl } from './redact';
import { describeRedis } from './redis/where';
import { defaultSqliteFile } from './store';

export interface BannerFacts {
  /** where the API listens, as server.address() reports it */
  address: string;
  port: number;
  /** the private redis-server, when REDIS_URL is unset */
  embedded: { url: string; dir: string } | undefined;
  keys: KeySet;
  /** where the order writer runs: in this process, in a worker process of its own, or not at all */
  writer: 'in-process' | 'own-process' | undefined;
  /** set when a cluster primary runs API workers */
  workers?: { api: number[]; writer: number | undefined };
  /** METRICS_PORT's server's port as bound (METRICS_PORT=0 picks one), when there is one */
  metricsPort?: number;
}

export function printBanner(config: Config, facts: BannerFacts): void {
  const { address, port, embedded, keys, writer, workers, metricsPort } = facts;
  const notes = [
    workers ? `${workers.api.length} API workers` : '',
    writer === 'in-process' ? 'with the order writer' : '',
    writer === 'own-process' ? 'with the order writer in a process of its own' : '',
  ].filter(Boolean);
  const lines = [`tixlock api listening on ${listenUrl(address, port)}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`];
  if (metricsPort !== undefined) lines.push(`  metrics: ${listenUrl(address, metricsPort)}/metrics (METRICS_PORT, no key)`);
  if (workers) {
    const writerPid = workers.writer === undefined ? '' : `, order writer pid ${workers.writer}`;
    lines.push(`  processes: primary pid ${process.pid}, API worker pids ${workers.api.join(' ')}${writerPid}`);
  }
  lines.push(
    `  data directory: ${path.resolve(config.store.dataDir)}`,
    embedded
      ? `  redis: private redis-server on ${embedded.url} (AOF in ${path.resolve(embedded.dir)})`
      : `  redis: ${describeRedis(config.redis.topology)}`,
    `  document store: ${config.store.url ? redactUrl(config.store.url) : `SQLite ${path.resolve(defaultSqliteFile(config.store.dataDir))}`}`,
  );
  if (keys.devKeysFile) {
    // the keys in full stay in their file (mode 0600), out of terminal scrollback and captured stdout
    const named = (role: string, k: { name: string; key: string }) => `${role} ${k.name} (${maskKey(k.key)})`;
    lines.push(
      `  dev keys: ${[...keys.clients.map((k) => named('client', k)), ...keys.admins.map((k) => named('admin', k))].join(', ')}`,
      `    in full in ${path.resolve(keys.devKeysFile)}; set TIXLOCK_API_KEYS / TIXLOCK_ADMIN_KEYS to use your own`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** http://address:port, with an IPv6 address in brackets. */
export function listenUrl(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Enough of a key to tell which one it is (tix_ and 4 more characters), never enough to use it. */
export function maskKey(key: string): string {
  return `${key.slice(0, Math.min(8, Math.floor(key.length / 3)))}…`;
}
