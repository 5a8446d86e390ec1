// Failures to talk to Redis become Unavailable (503, retry); domain errors and bugs pass through unchanged.
import { AppError, Unavailable } from '../errors';

/**
 * Failures that mean "Redis is not answering now" rather than a bug in tixlock: a node down or loading, a failover
 * or resharding under way (a redirection left after the client's own, TRYAGAIN, CLUSTERDOWN, a demoted primary's
 * READONLY), too few replicas, memory full, a lost or timed-out connection, and ioredis's Cluster and Sentinel
 * clients waiting for the topology.
 */
const TRANSIENT = new RegExp(
  [
    '^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|OOM|MOVED|ASK)\\b',
    'Connection is closed',
    "Stream isn't writeable",
    'Command timed out',
    'Reached the max retries',
    "Cluster isn't ready",
    'Failed to refresh slots cache',
    'None of startup nodes is available',
    'Too many Cluster redirections',
    'All sentinels are unreachable',
    'ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|connect',
  ].join('|'),
);

/** Maps a failure to talk to Redis to Unavailable (503); domain errors and bugs pass through. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const message = (err as Error)?.message ?? '';
  return TRANSIENT.test(message) ? new Unavailable('Redis is unavailable; retry shortly.', 'redis') : err;
}

export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toStoreError(err);
  }
}
