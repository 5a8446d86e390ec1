// /orders and /people routes: parse, call the use case, answer.
import { Router } from 'express';
import { z } from 'zod';
import type { OrderService } from '../../domain/orders';
import { caller, requireAdmin } from '../auth';
import { parse } from '../schemas';

const orderNumber = z.string().regex(/^[A-Z0-9]{1,12}$/, 'must be an order number');
const peopleQuery = z.object({ email: z.string({ error: 'must be given once' }).pipe(z.email().max(254)) });

export function orderRoutes(orders: OrderService): Router {
  const router = Router();

  router.get('/orders/:order_number', async (req, res) => {
    const order = await orders.getOrder(caller(res), parse(orderNumber, req.params.order_number, 'order_number'));
    res.json({ status: 'OK', order });
  });

  router.get('/people', requireAdmin, async (req, res) => {
    const person = await orders.getPerson(parse(peopleQuery, req.query).email);
    res.json({ status: 'OK', person });
  });

  return router;
}
