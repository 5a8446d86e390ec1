// Redis INFO, read for the /metrics gauges (src/metrics.ts) and for the memory measurements (docs/memory.md): used and
// maximum memory and key counts, per node (every node of a Cluster). Reads are bounded by a timeout and never throw:
// a node that does not answer in time is reported down, so a scrape neither hangs nor fails when Redis does.
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connection';

/** What one node's INFO says; the numbers are absent when the node did not answer. */
export interface RedisNodeInfo {
  /** host:port of the node (a Sentinel-managed primary: the name of its master group) */
  node: string;
  /** whether INFO answered within the timeout */
  up: boolean;
  usedMemoryBytes?: number;
  /** 0 = no limit */
  maxmemoryBytes?: number;
  /** keys in every database of the node */
  keys?: number;
  /** of them, keys with a time to live */
  expiringKeys?: number;
}

/** The `field:value` lines of an INFO answer (section headers and blank lines dropped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** Keys and keys with a TTL, summed over the `dbN:keys=..,expires=..` lines of INFO keyspace. */
export function keyspaceTotals(info: Record<string, string>): { keys: number; expires: number } {
  let keys = 0;
  let expires = 0;
  for (const [field, value] of Object.entries(info)) {
    if (!/^db\d+$/.test(field)) continue;
    keys += Number(/(?:^|,)keys=(\d+)/.exec(value)?.[1] ?? 0);
    expires += Number(/(?:^|,)expires=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return { keys, expires };
}

/** The label of one node: host:port, or the master group's name behind Sentinel. */
export function nodeName(node: Redis): string {
  const o = node.options;
  if (o.sentinels && o.sentinels.length > 0) return o.name ?? 'sentinel';
  return `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
}

async function readNode(node: Redis, timeoutMs: number): Promise<RedisNodeInfo> {
  const name = nodeName(node);
  let timer: NodeJS.Timeout | undefined;
  try {
    const text = await Promise.race([
      node.info(), // the default sections: memory and keyspace among them, one round trip on every Redis version
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`INFO took over ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const info = parseInfo(text);
    const { keys, expires } = keyspaceTotals(info);
    return {
      node: name,
      up: true,
      usedMemoryBytes: Number(info.used_memory ?? 0),
      maxmemoryBytes: Number(info.maxmemory ?? 0),
      keys,
      expiringKeys: expires,
    };
  } catch {
    return { node: name, up: false };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * INFO of every node the client knows (one node; every primary and replica of a Cluster), each within timeoutMs.
 * Never rejects: a node that fails or is late is `up: false`.
 */
export async function readRedisInfo(redis: RedisClient, timeoutMs: number): Promise<RedisNodeInfo[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
  return Promise.all(nodes.map((n) => readNode(n, timeoutMs)));
}
