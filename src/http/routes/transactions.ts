// /transaction(s) routes: parse, call the use case, answer. No business rules here.
import { Router, type Request, type Response } from 'express';
import type { TransactionService } from '../../domain/transactions';
import type { TransactionView } from '../../domain/views';
import type { TransactionAnswer } from '../answers';
import { caller } from '../auth';
import { HEADER, transactionHeaders } from '../headers';
import { idempotent, type IdempotencySettings } from '../idempotency';
import { jsonBody } from '../middleware';
import { BODY_LIMIT } from '../operations';
import { beginBody, parse, transactionId, updateBody } from '../schemas';

function send(res: Response, status: number, tx: TransactionView) {
  const body = { status: 'OK', ...tx } satisfies TransactionAnswer;
  res.set(transactionHeaders(body)); // Transaction-Status, and Lock-Expires while open or checkout
  res.status(status).json(body);
}

export function transactionRoutes(transactions: TransactionService, idempotency: IdempotencySettings): Router {
  const router = Router();
  const body = jsonBody(BODY_LIMIT.transaction);
  const pathId = (req: Request) => parse(transactionId, req.params.id, 'id');
  const once = (operation: (req: Request) => string) => idempotent(idempotency, operation);
  const begin = once(() => 'begin');
  const updateOnce = once((req) => `update ${String(req.params.id)}`); // PUT and POST alike

  for (const base of ['/transaction', '/transactions']) {
    router.post(base, body, begin, async (req, res) => {
      const b = parse(beginBody, req.body ?? {});
      const best =
        b.performance_id !== undefined && b.quantity !== undefined
          ? { performance_id: b.performance_id, quantity: b.quantity, section: b.section, price_level: b.price_level, max_price: b.max_price }
          : undefined;
      send(res, 201, await transactions.begin(caller(res), { tickets: b.tickets, best, hold_seconds: b.hold_seconds, buyer: b.buyer, retry_key: req.get(HEADER.idempotencyKey) }));
    });

    const update = async (req: Request, res: Response) => {
      const id = pathId(req);
      send(res, 200, await transactions.update(caller(res), id, parse(updateBody, req.body ?? {})));
    };
    router.put(`${base}/:id`, body, updateOnce, update);
    router.post(`${base}/:id`, body, updateOnce, update); // the seed's earlier form

    const read = async (req: Request, res: Response) => send(res, 200, await transactions.get(caller(res), pathId(req)));
    router.get(`${base}/:id`, read);
    router.head(`${base}/:id`, read); // same status and headers as GET; Express sends no body

    router.delete(`${base}/:id`, async (req, res) => {
      send(res, 200, await transactions.release(caller(res), pathId(req)));
    });
  }
  return router;
}
