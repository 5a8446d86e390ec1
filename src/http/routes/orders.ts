// /orders and /people routes: parse, call the use case, answer.
import { Router } from 'express';
import type { OrderService } from '../../domain/orders';
import type { OrderAnswer, PersonAnswer } from '../answers';
import { caller, requireAdmin } from '../auth';
import { orderNumber, parse, peopleQuery } from '../schemas';

export function orderRoutes(orders: OrderService): Router {
  const router = Router();

  router.get('/orders/:order_number', async (req, res) => {
    const order = await orders.getOrder(caller(res), parse(orderNumber, req.params.order_number, 'order_number'));
    res.json({ status: 'OK', order } satisfies OrderAnswer);
  });

  router.get('/people', requireAdmin, async (req, res) => {
    const person = await orders.getPerson(parse(peopleQuery, req.query).email);
    res.json({ status: 'OK', person } satisfies PersonAnswer);
  });

  return router;
}
