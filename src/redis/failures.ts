// Failures to talk to Redis become Unavailable (503, retry); domain errors and bugs pass through unchanged.
import { AppError, Unavailable } from '../errors';

/** Failures that mean "Redis is not answering now" rather than a bug in tixlock. */
const TRANSIENT =
  /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|OOM)|Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|connect/;

/** Maps a failure to talk to Redis to Unavailable (503); domain errors and bugs pass through. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const message = (err as Error)?.message ?? '';
  return TRANSIENT.test(message) ? new Unavailable('Redis is unavailable; retry shortly.') : err;
}

export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toStoreError(err);
  }
}
