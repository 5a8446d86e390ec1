// TransactionService (src/domain/transactions.ts) called directly, as the HTTP layer never calls it: the HTTP schema
// (src/http/schemas.ts) lets no begin through with neither tickets nor performance_id + quantity, so the service's own
// answer to one is seen only here. Real Redis.
import { ArchivedPerformances } from '../src/domain/lifecycle';
import { OrderNumberFence } from '../src/domain/order-fence';
import { TransactionService } from '../src/domain/transactions';
import { callerOf, createPerformance, uniqueId, useTestApp } from './support/app';
import { untilRedisTime } from './support/lapse';

const t = useTestApp();

test('begin with neither tickets nor a best-available query: 400 INVALID_REQUEST, tickets must list one', async () => {
  const service = new TransactionService(t.store, t.config.domain);
  await expect(service.begin(callerOf('alice'), {})).rejects.toMatchObject({
    code: 'INVALID_REQUEST',
    details: { issues: [{ path: 'tickets', message: 'must list at least one ticket' }] },
  });
});

test('only a "not found" asks the document store whether it was archived; any other refusal asks it nothing', async () => {
  const reads: string[] = [];
  const documents = {
    getPerformance: async (id: string) => (reads.push(`performance ${id}`), t.documents.getPerformance(id)),
    ticketPerformances: async (ids: readonly string[]) => (reads.push(`tickets ${ids.join(',')}`), t.documents.ticketPerformances(ids)),
  };
  const service = new TransactionService(t.store, t.config.domain, undefined, undefined, new ArchivedPerformances(documents));
  const perf = await createPerformance(t, { rows: 1, seats: 2 });
  await service.begin(callerOf('alice'), { tickets: [perf.ticketIds[0] as string] });
  // refusals on every sale's path: a held ticket, too few left for best available
  await expect(service.begin(callerOf('bob'), { tickets: [perf.ticketIds[0] as string] })).rejects.toMatchObject({ code: 'TICKETS_UNAVAILABLE' });
  await expect(service.begin(callerOf('bob'), { best: { performance_id: perf.id, quantity: 2 } })).rejects.toMatchObject({ code: 'NOT_ENOUGH_TICKETS' });
  expect(reads).toEqual([]);

  const [ticket, performance] = [uniqueId('no-such-ticket'), uniqueId('no-such-perf')];
  await expect(service.begin(callerOf('bob'), { tickets: [ticket] })).rejects.toMatchObject({ code: 'TICKETS_NOT_FOUND' });
  await expect(service.begin(callerOf('bob'), { best: { performance_id: performance, quantity: 1 } })).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
  expect(reads).toEqual([`tickets ${ticket}`, `performance ${performance}`]);
});

test('hold_seconds outside the service\'s MIN_HOLD_SECONDS..MAX_HOLD_SECONDS: 400 naming the bounds, nothing held; each bound is accepted', async () => {
  // bounds of this service's own, narrower than the lock store's (1..900 in the tests), so only its check can refuse
  const service = new TransactionService(t.store, { ...t.config.domain, minHoldSeconds: 30, maxHoldSeconds: 600 });
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  for (const [i, hold] of [29, 601].entries()) {
    await expect(service.begin(callerOf('alice'), { tickets: [perf.ticketIds[i] as string], hold_seconds: hold })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      details: { issues: [{ path: 'hold_seconds', message: 'must be between 30 and 600' }] },
    });
  }
  expect((await t.store.performanceInfo(perf.id))?.counts).toMatchObject({ locked: 0 });
  for (const [i, hold] of [30, 600].entries()) {
    expect(await service.begin(callerOf('alice'), { tickets: [perf.ticketIds[i + 2] as string], hold_seconds: hold })).toMatchObject({ transaction_status: 'open', hold_seconds: hold });
  }
});

test('an update whose body id is not the path id: 400 naming id', async () => {
  const service = new TransactionService(t.store, t.config.domain);
  const perf = await createPerformance(t, { rows: 1, seats: 1 });
  const tx = await service.begin(callerOf('alice'), { tickets: [perf.ticketIds[0] as string] });
  await expect(service.update(callerOf('alice'), tx.transaction_id, { status: 'checkout', id: 'another-id' })).rejects.toMatchObject({
    code: 'INVALID_REQUEST',
    details: { issues: [{ path: 'id', message: 'must equal the transaction id in the path' }] },
  });
});

test('complete: with no order-number fence it sells; with one, the store is read until a complete is confirmed, then not again', async () => {
  const perf = await createPerformance(t, { rows: 1, seats: 3 });
  const alice = callerOf('alice');
  const sell = async (service: TransactionService, ticket: string) => {
    const tx = await service.begin(alice, { tickets: [ticket] });
    return service.update(alice, tx.transaction_id, { status: 'complete' });
  };
  expect(await sell(new TransactionService(t.store, t.config.domain), perf.ticketIds[0] as string)).toMatchObject({ transaction_status: 'complete' });

  const reads: string[] = [];
  const fence = new OrderNumberFence({ lastOrderNumber: async (id: string) => (reads.push(id), t.documents.lastOrderNumber(id)) });
  const fenced = new TransactionService(t.store, t.config.domain, undefined, fence);
  for (const ticket of perf.ticketIds.slice(1)) expect(await sell(fenced, ticket)).toMatchObject({ transaction_status: 'complete' });
  expect(reads).toEqual([perf.id]);
});

test('tickets listed more than once: 400 naming each repeated id once', async () => {
  const service = new TransactionService(t.store, t.config.domain);
  const perf = await createPerformance(t, { rows: 1, seats: 3 });
  const [a, b, c] = perf.ticketIds as [string, string, string];
  await expect(service.begin(callerOf('alice'), { tickets: [a, b, a, c, b, a] })).rejects.toMatchObject({
    code: 'INVALID_REQUEST',
    details: { issues: [{ path: 'tickets', message: `listed more than once: ${a}, ${b}` }] },
  });
});

test("a lapsed transaction's ticket now held by another: its holder is that one, never the lapsed transaction's client", async () => {
  const service = new TransactionService(t.store, t.config.domain);
  const perf = await createPerformance(t, { rows: 1, seats: 1 });
  const ticket = perf.ticketIds[0] as string;
  const [alice, bob, admin] = [callerOf('alice', 'client', '10.0.0.1'), callerOf('bob', 'client', '10.0.0.2'), callerOf('ops', 'admin')];
  const lapsed = await service.begin(alice, { tickets: [ticket], hold_seconds: 1 });
  await untilRedisTime(t.redis, Date.parse(lapsed.lock_expires as string) + 1);
  const taken = await service.begin(bob, { tickets: [ticket] });

  const seenByAlice = await service.get(alice, lapsed.transaction_id);
  expect(seenByAlice.transaction_status).toBe('expired');
  expect(seenByAlice.tickets).toEqual([expect.objectContaining({ id: ticket, state: 'locked', transaction_id: taken.transaction_id })]);
  expect(seenByAlice.tickets[0]).not.toHaveProperty('locked_by');
  expect(seenByAlice.tickets[0]).not.toHaveProperty('locked_ip');
  // an admin sees the taking transaction; this read does not know its client, and says none rather than alice
  const seenByAdmin = (await service.get(admin, lapsed.transaction_id)).tickets[0];
  expect(seenByAdmin).toMatchObject({ id: ticket, transaction_id: taken.transaction_id });
  expect([seenByAdmin?.locked_by, seenByAdmin?.locked_ip]).not.toContain('alice');
  expect([seenByAdmin?.locked_by, seenByAdmin?.locked_ip]).not.toContain('10.0.0.1');
});
