// What each answer tells /metrics: its duration by route pattern and status, and the outcome it reports (a hold,
// a conflict and its reason, a 503 and its cause, ...), read from the answer itself after it is sent, so no route
// or use case counts anything.
import type { NextFunction, Request, Response } from 'express';
import { AppError, Unavailable } from '../errors';
import type { Metrics } from '../metrics';
import { HEADER } from './headers';
import { routeOf } from './middleware';

/** The error an answer carried (sendError keeps it in res.locals.error). */
const errorOf = (res: Response): AppError | undefined => (res.locals.error instanceof AppError ? (res.locals.error as AppError) : undefined);

/** A 503's cause: the code, and for UNAVAILABLE the backing service that failed. */
function unavailableCause(err: AppError | undefined): string {
  if (err instanceof Unavailable) return `unavailable_${err.source}`;
  return (err?.code ?? 'unknown').toLowerCase();
}

/** Counts the outcome one finished answer reports. */
function countOutcome(metrics: Metrics, req: Request, res: Response, route: string): void {
  if (res.get(HEADER.idempotentReplayed) === 'true') {
    metrics.idempotentReplays.inc(); // the first answer was counted
    return;
  }
  const status = res.statusCode;
  const err = errorOf(res);
  const transactionStatus = res.get(HEADER.transactionStatus) ?? (err?.details.transaction_status as string | undefined);
  if (transactionStatus === 'expired') metrics.expiriesSeen.inc();
  if (status === 409 && err) {
    metrics.conflicts.inc({ reason: err.code });
    if (err.code === 'NOT_ENOUGH_TICKETS') metrics.bestAvailableMisses.inc();
  } else if (status === 429) {
    metrics.rateLimited.inc({ cause: (err?.code ?? 'unknown').toLowerCase() });
  } else if (status === 503) {
    metrics.unavailable.inc({ cause: unavailableCause(err) });
  }
  if (!route.startsWith('/transaction')) return;
  if (req.method === 'POST' && status === 201) {
    const best = (req.body as { quantity?: unknown } | undefined)?.quantity !== undefined;
    metrics.holds.inc({ kind: best ? 'best_available' : 'tickets' });
  } else if ((req.method === 'PUT' || req.method === 'POST') && status === 200) {
    if (transactionStatus === 'checkout') metrics.extensions.inc();
    if (transactionStatus === 'complete') metrics.completes.inc();
  } else if (req.method === 'DELETE' && status === 200 && transactionStatus === 'released') {
    metrics.releases.inc();
  }
}

export function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = routeOf(req);
      end({ method: req.method, route, status: String(res.statusCode) });
      countOutcome(metrics, req, res, route);
    });
    next();
  };
}
