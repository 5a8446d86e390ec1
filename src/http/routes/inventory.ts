// /performances (admin) and /tickets routes: parse, call the use case, answer.
import { Router } from 'express';
import type { InventoryService } from '../../domain/inventory';
import type { PerformanceAnswer, PerformanceUpsertAnswer, TicketAnswer, TicketPageAnswer, TicketsAnswer } from '../answers';
import { caller, requireAdmin } from '../auth';
import { jsonBody } from '../middleware';
import { BODY_LIMIT } from '../operations';
import { id, inventoryBody, parse, searchQuery, ticketPageQuery } from '../schemas';

export function inventoryRoutes(inventory: InventoryService): Router {
  const router = Router();

  router.put('/performances/:id', requireAdmin, jsonBody(BODY_LIMIT.inventory), async (req, res) => {
    const performanceId = parse(id, req.params.id, 'performance_id');
    const { tickets, ...settings } = parse(inventoryBody, req.body ?? {});
    const performance = await inventory.upsertPerformance(performanceId, settings, tickets);
    res.json({ status: 'OK', performance } satisfies PerformanceUpsertAnswer);
  });

  router.get('/performances/:id', requireAdmin, async (req, res) => {
    const performance = await inventory.getPerformance(parse(id, req.params.id, 'performance_id'));
    res.json({ status: 'OK', performance } satisfies PerformanceAnswer);
  });

  router.post('/performances/:id/close', requireAdmin, async (req, res) => {
    const performance = await inventory.closePerformance(parse(id, req.params.id, 'performance_id'));
    res.json({ status: 'OK', performance } satisfies PerformanceAnswer);
  });

  router.get('/performances/:id/tickets', requireAdmin, async (req, res) => {
    const performanceId = parse(id, req.params.id, 'performance_id');
    const q = parse(ticketPageQuery, req.query);
    await inventory.getPerformance(performanceId); // 404 for an unknown performance
    const page = await inventory.listTickets(caller(res), performanceId, q.state, q.limit, q.cursor ?? '');
    res.json({ status: 'OK', ...page } satisfies TicketPageAnswer);
  });

  router.get('/tickets', async (req, res) => {
    const { performance_id, ...query } = parse(searchQuery, req.query);
    res.json({ status: 'OK', tickets: await inventory.search(caller(res), performance_id, query) } satisfies TicketsAnswer);
  });

  router.get('/tickets/:id', async (req, res) => {
    res.json({ status: 'OK', ticket: await inventory.getTicket(caller(res), parse(id, req.params.id, 'ticket_id')) } satisfies TicketAnswer);
  });

  return router;
}
