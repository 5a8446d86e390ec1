// Redis connections: bounded waits (command timeout, no offline queue) so a Redis outage is a quick 503,
// and automatic reconnects so the service recovers without a restart.
import { Cluster, Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { RedisAuth, RedisTopology } from '../config';
import { defineScripts } from './script-bindings';
import { scriptSource } from './scripts';

/** One Redis node (REDIS_URL, Sentinel) or a Redis Cluster: the commands tixlock sends work on either. */
export type RedisClient = Redis | Cluster;

export interface RedisOptions {
  commandTimeoutMs: number;
  /**
   * Write the commands issued in one event-loop turn in one go (ioredis enableAutoPipelining): under load the
   * API's many concurrent requests share socket writes and reads instead of paying one each. Not for a
   * connection that runs blocking commands.
   */
  autoPipelining?: boolean;
  /**
   * Give up connecting after this long (one-shot commands: a Sentinel client otherwise asks unreachable sentinels
   * forever). Unset: as long as the client keeps trying.
   */
  giveUpAfterMs?: number;
}

/**
 * A node that answers READONLY has become a replica (a failover, a role swap behind the same name): drop the
 * connection so the next one finds the primary (Sentinel asks the sentinels again; a URL resolves its name again).
 * The command itself fails (a 503) rather than being re-sent to what may still be the replica.
 */
const reconnectOnReadonly = (err: Error) => (/^READONLY/.test(err.message) ? 1 : false);

/** Options every connection to one node shares: bounded waits, no offline queue, quick reconnects. */
function nodeOptions(options: RedisOptions, auth?: RedisAuth): IoRedisOptions {
  return {
    lazyConnect: true,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
    enableOfflineQueue: false, // fail fast while disconnected instead of queueing without bound
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    reconnectOnError: reconnectOnReadonly,
    ...(auth?.username !== undefined ? { username: auth.username } : {}),
    ...(auth?.password !== undefined ? { password: auth.password } : {}),
    ...(auth?.tls ? { tls: {} } : {}),
  };
}

async function ready<T extends RedisClient>(client: T, giveUpAfterMs?: number): Promise<T> {
  client.on('error', () => {
    // connection errors surface on the commands that hit them (as 503s); reconnects are automatic
  });
  defineScripts(client, scriptSource);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline =
      giveUpAfterMs === undefined
        ? []
        : [new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${giveUpAfterMs} ms`)), giveUpAfterMs)))];
    await Promise.race([client.connect(), ...deadline]);
  } catch (err) {
    client.disconnect(); // no reconnecting in the background of a connection nobody will use
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

export async function connectRedis(url: string, options: RedisOptions, auth?: RedisAuth): Promise<Redis> {
  return ready(new Redis(url, { ...nodeOptions(options, auth), enableAutoPipelining: options.autoPipelining ?? false }), options.giveUpAfterMs);
}

/** Connects to Redis where the configuration says it is (an embedded redis-server is connected to by its URL). */
export async function connectTopology(topology: Exclude<RedisTopology, { mode: 'embedded' }>, options: RedisOptions): Promise<RedisClient> {
  switch (topology.mode) {
    case 'url':
      return connectRedis(topology.url, options, topology.auth);
    case 'sentinel':
      return ready(
        new Redis({
          ...nodeOptions(options, topology.auth),
          sentinels: topology.sentinels.map((n) => ({ host: n.host, port: n.port })),
          name: topology.name,
          role: 'master',
          sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
          enableTLSForSentinelMode: topology.auth.tls,
          enableAutoPipelining: options.autoPipelining ?? false,
        }),
        options.giveUpAfterMs,
      );
    case 'cluster':
      return ready(
        new Cluster(
          topology.nodes.map((n) => ({ host: n.host, port: n.port })),
          {
            lazyConnect: true,
            redisOptions: nodeOptions(options, topology.auth),
            enableOfflineQueue: false,
            scaleReads: 'master', // a replica may be behind: every read that decides a sale goes to the primary
            maxRedirections: 16,
            retryDelayOnFailover: 100,
            retryDelayOnClusterDown: 100,
            retryDelayOnTryAgain: 100,
            slotsRefreshTimeout: options.commandTimeoutMs,
            // a dead primary answers nothing (no MOVED to learn from): ask the cluster for its slots every second, so
            // a promoted replica is found within a second of the failover
            slotsRefreshInterval: 1000,
            clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
            enableAutoPipelining: options.autoPipelining ?? false,
          },
        ),
        options.giveUpAfterMs,
      );
  }
}

/**
 * A second connection like `client` (same node or Cluster, same credentials), with its own command timeout, no
 * auto-pipelining (blocking reads, WAIT) and the scripts defined; connected.
 */
export async function connectDuplicate(client: RedisClient, commandTimeoutMs: number): Promise<RedisClient> {
  if (client instanceof Cluster) {
    return ready(
      client.duplicate(undefined, {
        lazyConnect: true,
        redisOptions: { ...client.options.redisOptions, commandTimeout: commandTimeoutMs },
        enableAutoPipelining: false,
      }),
    );
  }
  return ready(client.duplicate({ lazyConnect: true, commandTimeout: commandTimeoutMs, enableAutoPipelining: false }));
}

/**
 * Calls `changed` whenever the client may now talk to another primary than before: a (re)connection of one node
 * or Sentinel client, or a Cluster whose set of primaries changed (a failover promotes a replica). Data written
 * before may be gone after such a change (see domain/order-fence.ts).
 */
export function onPrimaryChange(client: RedisClient, changed: () => void): void {
  if (client instanceof Cluster) {
    const primaries = () =>
      client
        .nodes('master')
        .map((n) => `${n.options.host}:${n.options.port}`)
        .sort()
        .join(',');
    let seen = '';
    const check = () => {
      const now = primaries();
      if (now !== seen) {
        seen = now;
        changed();
      }
    };
    client.on('ready', check);
    client.on('refresh', check);
    client.on('+node', check);
    client.on('-node', check);
    return;
  }
  client.on('ready', changed);
}

/**
 * Throws unless the client can take writes now: a Cluster whose state is ok with every slot served and whose
 * primaries all answer, or one node that is a primary (a replica, e.g. a demoted primary, answers READONLY to
 * every hold).
 */
export async function checkServing(client: RedisClient): Promise<void> {
  if (client instanceof Cluster) {
    const info = String(await client.cluster('INFO'));
    const field = (name: string) => new RegExp(`${name}:(\\S+)`).exec(info)?.[1];
    if (field('cluster_state') !== 'ok' || field('cluster_slots_ok') !== '16384') {
      throw new Error(`CLUSTERDOWN cluster_state ${field('cluster_state')}, ${field('cluster_slots_ok')} of 16384 slots ok`);
    }
    await Promise.all(client.nodes('master').map((node) => node.ping()));
    return;
  }
  const role = (await client.call('ROLE')) as unknown[];
  if (role[0] !== 'master') throw new Error(`READONLY this node is a ${String(role[0])}`);
}

/**
 * Closes a connection: QUIT when connected, else disconnect. QUIT on a connection that is down fails and leaves
 * ioredis reconnecting in the background (a process that never exits).
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
