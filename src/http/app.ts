// createApp(deps): the Express application. Wiring only; use cases come in through deps.
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { AppError, Unavailable } from '../errors';
import type { HealthAnswer } from './answers';
import type { InventoryService } from '../domain/inventory';
import type { OrderService } from '../domain/orders';
import type { TransactionService } from '../domain/transactions';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { authenticate, requireAdmin, type KeyRing } from './auth';
import { errorHandler } from './errors';
import { HEADER } from './headers';
import { jsonEndsWithNewline } from './json';
import { openApiDocument } from './openapi';
import { requestId, requestLog } from './middleware';
import { requestMetrics } from './request-metrics';
import { inventoryRoutes } from './routes/inventory';
import { orderRoutes } from './routes/orders';
import type { IdempotencySettings } from './idempotency';
import { transactionRoutes } from './routes/transactions';

export interface AppDeps {
  transactions: TransactionService;
  inventory: InventoryService;
  orders: OrderService;
  keys: KeyRing;
  logger: Logger;
  /** Each resolves when its backing service answers (Redis, the document store). */
  readinessChecks: Record<string, () => Promise<void>>;
  trustProxy: boolean | number | readonly string[];
  /** browser origins CORS allows; empty = no CORS headers at all */
  corsOrigins: readonly string[];
  idempotency: IdempotencySettings;
  metrics: Metrics;
  /** serve GET /metrics here, to admin keys (false: a metrics port of its own serves it) */
  metricsRoute: boolean;
}

const READY_TIMEOUT_MS = 1000;

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('query parser', 'simple');
  jsonEndsWithNewline(app);

  app.use(requestId);
  app.use(requestMetrics(deps.metrics));
  app.use(requestLog(deps.logger));
  app.use(helmet()); // security headers on every answer, errors included
  if (deps.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...deps.corsOrigins],
        allowedHeaders: [HEADER.authorization, 'Content-Type', HEADER.idempotencyKey, HEADER.apiKey, HEADER.athenaKey, HEADER.requestId],
        exposedHeaders: [HEADER.transactionStatus, HEADER.lockExpires, HEADER.retryAfter, HEADER.requestId, HEADER.idempotentReplayed],
        maxAge: 600,
      }),
    );
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'OK' } satisfies HealthAnswer);
  });
  // the public contract: no key needed
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.readinessChecks).map(async ([name, check]) => {
        checks[name] = await withTimeout(check(), READY_TIMEOUT_MS).then(
          () => 'ok',
          () => 'unavailable',
        );
      }),
    );
    if (Object.values(checks).every((c) => c === 'ok')) {
      res.json({ status: 'OK', checks });
    } else {
      throw new AppError('UNAVAILABLE', 'Not ready: a backing service does not answer.', { checks });
    }
  });

  app.use(authenticate(deps.keys));
  if (deps.metricsRoute) {
    const registry = deps.metrics.registry;
    app.get('/metrics', requireAdmin, async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
  }
  app.use(transactionRoutes(deps.transactions, deps.idempotency));
  app.use(inventoryRoutes(deps.inventory));
  app.use(orderRoutes(deps.orders));
  app.use(() => {
    throw new AppError('NOT_FOUND', 'No such route.');
  });
  app.use(errorHandler(deps.logger));
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable(undefined, 'not_ready')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
