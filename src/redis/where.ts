// Where tixlock looks for Redis, in words, and the one error a command gets when nothing answers there.
import { REDIS_TOPOLOGY_SETTINGS, type HostPort, type RedisTopology } from '../config';
import { redactUrl } from '../redact';
import { StartupError } from '../startup-error';

const hostPorts = (nodes: readonly HostPort[]) => nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');

/** The configured Redis in words, with the setting that named it; passwords redacted. */
export function describeRedis(topology: RedisTopology): string {
  switch (topology.mode) {
    case 'url':
      return `${redactUrl(topology.url)} (REDIS_URL)`;
    case 'cluster':
      return `the Redis Cluster at ${hostPorts(topology.nodes)} (REDIS_CLUSTER_NODES)`;
    case 'sentinel':
      return `the primary '${topology.name}' of the sentinels at ${hostPorts(topology.sentinels)} (REDIS_SENTINELS)`;
    case 'embedded':
      return 'a private redis-server (none of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS set)';
  }
}

/** How to point tixlock at another Redis: the settings' names. */
export const REDIS_SETTINGS_HINT = `set ${REDIS_TOPOLOGY_SETTINGS.join(', ').replace(/, ([^,]*)$/, ' or $1')} (with REDIS_SENTINEL_NAME) to use another`;

/** Nothing answered where tixlock looked for Redis. The message is one line: where, why, and how to point elsewhere. */
export class RedisUnreachable extends StartupError {
  override readonly name = 'RedisUnreachable';
  constructor(where: string, cause: unknown) {
    const reason = ((cause as Error)?.message ?? String(cause)).replace(/\.$/, '');
    super(`cannot reach Redis at ${where}: ${reason}; ${REDIS_SETTINGS_HINT}`);
  }
}
