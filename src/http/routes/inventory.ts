// /performances (admin) and /tickets routes: parse, call the use case, answer.
import { Router } from 'express';
import type { InventoryService } from '../../domain/inventory';
import { caller, requireAdmin } from '../auth';
import { jsonBody } from '../middleware';
import { id, inventoryBody, parse, searchQuery, ticketPageQuery } from '../schemas';

const INVENTORY_BODY_LIMIT = '8mb'; // 50,000 tickets with every attribute

export function inventoryRoutes(inventory: InventoryService): Router {
  const router = Router();

  router.put('/performances/:id', requireAdmin, jsonBody(INVENTORY_BODY_LIMIT), async (req, res) => {
    const performanceId = parse(id, req.params.id, 'performance_id');
    const { tickets, ...settings } = parse(inventoryBody, req.body ?? {});
    const performance = await inventory.upsertPerformance(performanceId, settings, tickets);
    res.json({ status: 'OK', performance });
  });

  router.get('/performances/:id', requireAdmin, async (req, res) => {
    const performance = await inventory.getPerformance(parse(id, req.params.id, 'performance_id'));
    res.json({ status: 'OK', performance });
  });

  router.get('/performances/:id/tickets', requireAdmin, async (req, res) => {
    const performanceId = parse(id, req.params.id, 'performance_id');
    const q = parse(ticketPageQuery, req.query);
    await inventory.getPerformance(performanceId); // 404 for an unknown performance
    const page = await inventory.listTickets(caller(res), performanceId, q.state, q.limit ?? 100, q.cursor ?? '');
    res.json({ status: 'OK', ...page });
  });

  router.get('/tickets', async (req, res) => {
    const { performance_id, ...query } = parse(searchQuery, req.query);
    res.json({ status: 'OK', tickets: await inventory.search(caller(res), performance_id, query) });
  });

  router.get('/tickets/:id', async (req, res) => {
    res.json({ status: 'OK', ticket: await inventory.getTicket(caller(res), parse(id, req.params.id, 'ticket_id')) });
  });

  return router;
}
