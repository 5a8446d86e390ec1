// Request plumbing: request ids, one log line per request, JSON bodies with per-route limits.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { HEADER } from './headers';
import { ID } from './schemas';

/** Echo the caller's X-Request-Id when it is sane, else make one. */
export function requestId(req: Request, res: Response, next: NextFunction) {
  const given = req.get(HEADER.requestId);
  const id = given && ID.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.set(HEADER.requestId, id);
  next();
}

/** The route pattern that answered a request (never its raw path: bounded), or '(unmatched)'. */
export const routeOf = (req: Request) => (req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : '(unmatched)');

/** Probes a load balancer or orchestrator calls every few seconds: logged at debug, so they do not drown the rest. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * One JSON line per request: method, route, status, ms, client name, request_id (never the key); at info, but
 * the health and readiness probes at debug.
 */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const level = PROBES.has(req.path) ? 'debug' : 'info';
    // winston builds and formats a message before its level filter drops it: skip all of that when the level is off
    if (logger.silent || !logger.isLevelEnabled(level)) return next();
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.log(level, 'request', {
        method: req.method,
        route: routeOf(req),
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        client: res.locals.caller?.name,
        request_id: res.locals.requestId,
      });
    });
    next();
  };
}

/** A JSON body of at most `limit`; a body of another content type is a 415. */
export function jsonBody(limit: string) {
  const parser = express.json({ limit, strict: true });
  return (req: Request, res: Response, next: NextFunction) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    }
    // body-parser decodes any charset starting "utf-" (utf-7, utf-16...), so a UTF-7 body was accepted; JSON is
    // UTF-8 (RFC 8259) and other charsets are a 415 (found by test/http-fuzz-content.test.ts)
    const charsets = [...(req.get('content-type') ?? '').matchAll(/;\s*charset\s*=\s*"?([^";\s]*)/gi)].map((m) => m[1]);
    if (hasBody && charsets.some((c) => c?.toLowerCase() !== 'utf-8')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported charset; send UTF-8 JSON.');
    }
    parser(req, res, next);
  };
}
