// InventoryService (src/domain/inventory.ts): the answers the mutation run found unchecked (docs/mutation.md): the
// exact messages of a refused PUT, the ends_at = starts_at boundary, hold_seconds against MIN/MAX_HOLD_SECONDS, the
// store's copy of a close (and none for a sealed performance or one Redis lost), and the tickets of an archived
// performance. Through the HTTP API where the answer shows there; the service is called directly where the HTTP
// layer never lets the case through (the tickets route answers 404 for an unknown performance before it lists) or
// where another party has to act between two of the service's steps. Real Redis, in-memory SQLite document store.
import request from 'supertest';
import { Archiver, type ArchiveState } from '../src/domain/archive';
import { InventoryService } from '../src/domain/inventory';
import { reconcile } from '../src/domain/recovery';
import type { LockStore } from '../src/domain/types';
import { AppError, performanceNotFound } from '../src/errors';
import { RedisArchiveStore } from '../src/redis/archive-store';
import { RedisLockStore } from '../src/redis/lock-store';
import { as, callerOf, createPerformance, expectError, KEYS, putPerformance, uniqueId, useTestApp } from './support/app';

// MIN_HOLD_SECONDS 30: a hold_seconds under it is still a positive integer, which the HTTP schema lets through, so
// the service's own bound check answers (with the shipped minimum of 1 nothing positive lies below it)
const t = useTestApp({ MIN_HOLD_SECONDS: '30', MAX_HOLD_SECONDS: '900' });

const admin = as(KEYS.admin);
const put = (id: string, body: object) => request(t.app).put(`/performances/${id}`).set(admin).send(body);
const close = (id: string) => request(t.app).post(`/performances/${id}/close`).set(admin);
const service = (store: LockStore = t.store) => new InventoryService(store, t.documents, t.config.domain);

/** Closed and archived (no sales, no locks: ready at once); the document store answers for it from then on. */
async function archivedPerformance() {
  const perf = await createPerformance(t, { rows: 1, seats: 3 });
  expect((await close(perf.id)).status).toBe(200);
  const archiver = new Archiver(new RedisArchiveStore(t.redis), t.documents, { endGraceSeconds: t.config.domain.endGraceSeconds, lockMarginSeconds: 0 });
  expect(await archiver.archive(perf.id)).toMatchObject({ outcome: 'archived', tickets: 3, sold: 0 });
  return perf;
}

describe('PUT /performances/{id}: refusals name what is wrong', () => {
  test('duplicate ticket ids: the first 10 duplicates are listed, comma separated', async () => {
    const id = uniqueId();
    const ids = Array.from({ length: 12 }, (_, i) => `${id}-d${i}`);
    // each id twice: the second occurrences are the duplicates, in body order
    const res = await put(id, { tickets: [...ids, ...ids].map((x) => ({ id: x })) });
    expect(expectError(res, 400, 'INVALID_REQUEST').issues).toEqual([{ path: 'tickets', message: `duplicate ticket ids: ${ids.slice(0, 10).join(', ')}` }]);
  });

  test('a ticket id of another performance: 409 TICKET_CONFLICT with its message', async () => {
    const first = await createPerformance(t, { rows: 1, seats: 1 });
    const error = expectError(await put(uniqueId(), { tickets: [{ id: first.ticketIds[0] }] }), 409, 'TICKET_CONFLICT');
    expect(error).toMatchObject({ message: 'Some ticket ids belong to another performance.', tickets: [first.ticketIds[0]] });
  });

  test('ends_at equal to starts_at is accepted (only an end before the start is refused)', async () => {
    // (the two `!== undefined` guards of that check cannot be told apart from true: Date.parse(undefined) is NaN,
    // and NaN < anything is false)
    const at = '2031-03-01T20:00:00.000Z';
    const res = await put(uniqueId(), { starts_at: at, ends_at: at, tickets: [] });
    expect(res.status).toBe(200);
    expect(res.body.performance).toMatchObject({ starts_at: at, ends_at: at, lifecycle: 'open' });
  });

  test('hold_seconds: below MIN_HOLD_SECONDS or above MAX_HOLD_SECONDS -> 400 naming the bounds; each bound itself is accepted', async () => {
    for (const hold of [29, 901]) {
      const id = uniqueId();
      const error = expectError(await put(id, { hold_seconds: hold, tickets: [] }), 400, 'INVALID_REQUEST');
      expect({ hold, issues: error.issues }).toEqual({ hold, issues: [{ path: 'hold_seconds', message: 'must be between 30 and 900' }] });
      expectError(await request(t.app).get(`/performances/${id}`).set(admin), 404, 'PERFORMANCE_NOT_FOUND');
    }
    for (const hold of [30, 900]) expect(await putPerformance(t, uniqueId(), [], { hold_seconds: hold })).toMatchObject({ hold_seconds: hold });
  });

  test('a closed performance takes no inventory, and the ticket ids it was offered stay free for another one', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 1 });
    expect((await close(perf.id)).status).toBe(200);
    const offered = `${perf.id}-new`;
    expectError(await put(perf.id, { tickets: [{ id: offered }] }), 409, 'PERFORMANCE_CLOSED');
    // refused before any id was claimed for it: another performance may have the id
    expect((await put(uniqueId(), { tickets: [{ id: offered }] })).status).toBe(200);
  });
});

describe('the end kept with a performance (ends_ms: when the lock store closes it, see lifecycle.ts)', () => {
  const endOf = async (id: string) => ({ redis: (await t.store.performanceInfo(id))?.ends_ms, store: (await t.documents.getPerformance(id))?.ends_ms });

  test('ends_at, else starts_at + PERFORMANCE_END_GRACE_SECONDS, in Redis and in the document store; neither: no end', async () => {
    const withEnd = await createPerformance(t, { rows: 1, seats: 1, extra: { starts_at: '2031-03-01T19:00:00.000Z', ends_at: '2031-03-01T22:00:00.000Z' } });
    const end = Date.parse('2031-03-01T22:00:00.000Z');
    expect(await endOf(withEnd.id)).toEqual({ redis: end, store: end });

    const withStart = await createPerformance(t, { rows: 1, seats: 1, extra: { starts_at: '2031-03-01T19:00:00.000Z' } });
    const graced = Date.parse('2031-03-01T19:00:00.000Z') + t.config.domain.endGraceSeconds * 1000;
    expect(await endOf(withStart.id)).toEqual({ redis: graced, store: graced });

    const endless = await createPerformance(t, { rows: 1, seats: 1 });
    expect(await endOf(endless.id)).toEqual({ redis: undefined, store: undefined });
  });
});

describe('POST /performances/{id}/close and the document store', () => {
  test("the store's document of the performance records the close (a rehydrate restores it from there)", async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2 });
    expect((await t.documents.getPerformance(perf.id))?.closed_at).toBeUndefined();
    const res = await close(perf.id);
    expect(res.status).toBe(200);
    expect(res.body.performance).toMatchObject({ lifecycle: 'closed', closed_at: expect.any(String) });
    expect(await t.documents.getPerformance(perf.id)).toMatchObject({ id: perf.id, name: 'Test show', closed_at: res.body.performance.closed_at });
  });

  test("a sealed performance (its archive under way) is closed without writing the store's document: it belongs to the archive", async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2 });
    expect((await close(perf.id)).status).toBe(200);
    // sealed by an archive run that stopped there (see archive.test.ts): Redis still has it
    const archiveStore = new RedisArchiveStore(t.redis);
    const state = (await archiveStore.state(perf.id)) as ArchiveState;
    const seal = { endsMs: undefined, marginMs: 0, orderSeq: state.orderSeq, tickets: 2, sold: 0, outboxLastId: state.outbox.lastId, orders: 0 };
    expect(await archiveStore.seal(perf.id, seal)).toMatchObject({ sealed: true });

    const writes = jest.spyOn(t.documents, 'upsertInventory');
    try {
      const res = await close(perf.id);
      expect(res.status).toBe(200);
      expect(res.body.performance).toMatchObject({ id: perf.id, lifecycle: 'archived' });
      expect(writes).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
    }
  });

  test("a performance Redis lost (only reconcile's recovering mark left) is closed without overwriting the store's document", async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 2, extra: { hold_seconds: 120 } });
    const before = await t.documents.getPerformance(perf.id);
    expect(before).toMatchObject({ name: 'Test show', hold_seconds: 120, code: expect.any(Number) });
    // Redis forgets it; reconcile (no auto-rehydrate) marks it recovering: its hash then holds that mark and no code
    const keys = await t.redis.keys(`tix:{p:${perf.id}}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await t.redis.del(...keys);
    expect(await reconcile(t.documents, t.store, false, [{ id: perf.id }])).toEqual([
      { performance_id: perf.id, behind: 'Redis has none of this performance', rehydrated: false },
    ]);
    expect((await t.store.performanceInfo(perf.id))?.code).toBeUndefined();

    expect((await close(perf.id)).status).toBe(200);
    // the document keeps what a rehydrate needs: its code and settings
    expect(await t.documents.getPerformance(perf.id)).toEqual(before);
  });

  test('a close that found no performance answers 404, even when a PUT creates it right after', async () => {
    const id = uniqueId();
    // the PUT lands between the close script (which found nothing) and the service's next read
    const racing: LockStore = Object.create(t.store, {
      closePerformance: {
        value: async (performanceId: string) => {
          const closed = await t.store.closePerformance(performanceId);
          await putPerformance(t, performanceId, [{ id: `${performanceId}-1` }]);
          return closed;
        },
      },
    });
    await expect(service(racing).closePerformance(id)).rejects.toMatchObject({ code: 'PERFORMANCE_NOT_FOUND' });
    // the PUT did create it, open: the close did not apply to it
    expect((await request(t.app).get(`/performances/${id}`).set(admin)).body.performance).toMatchObject({ lifecycle: 'open' });
  });
});

describe('the tickets of an archived performance', () => {
  test('GET /performances/{id}/tickets -> 404 saying it is archived and where its orders are; it takes no inventory either', async () => {
    const perf = await archivedPerformance();
    const error = expectError(await request(t.app).get(`/performances/${perf.id}/tickets`).set(admin), 404, 'PERFORMANCE_NOT_FOUND');
    expect(error.message).toBe('This performance is archived: its tickets are no longer listed (its orders are, GET /orders/{n}).');
    // a PUT does not bring it back into Redis
    expectError(await put(perf.id, { tickets: [] }), 409, 'PERFORMANCE_CLOSED');
    expect(await t.store.performanceInfo(perf.id)).toBeUndefined();
  });

  test('its ticket ids, gone from Redis, are still not free: another performance offered them -> TICKET_CONFLICT, nothing created', async () => {
    const perf = await archivedPerformance();
    const other = uniqueId('claims-archived');
    const [archivedA, , archivedC] = perf.ticketIds as [string, string, string];
    const tickets = [{ id: archivedA }, { id: `${other}-A1` }, { id: archivedC }];
    // another process's service (as behind a load balancer): a lock store of its own caches no ticket owner, and
    // Redis's index no longer has the archived ones; only the document store knows whose they are
    const fresh = new InventoryService(new RedisLockStore(t.redis, t.config.domain), t.documents, t.config.domain);
    const err = await fresh.upsertPerformance(other, { name: 'Other' }, tickets).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'TICKET_CONFLICT', message: 'Some ticket ids belong to another performance.', details: { tickets: [archivedA, archivedC] } });
    expect(await t.store.performanceInfo(other)).toBeUndefined();
    // none of the ids was claimed: its own new id loads alone
    expect((await put(other, { tickets: [{ id: `${other}-A1` }] })).status).toBe(200);
  });

  test("a performance that never existed: the ordinary 404, not the archived one's", async () => {
    // the service directly: the HTTP route answers 404 for an unknown performance before it lists tickets
    const err = await service().listTickets(callerOf('root', 'admin'), uniqueId('never'), undefined, 10, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'PERFORMANCE_NOT_FOUND', message: performanceNotFound().message });
  });

  test('another error of the lock store is passed on as it is, archived or not', async () => {
    const perf = await archivedPerformance();
    const unavailable = new AppError('UNAVAILABLE', 'Redis did not answer.');
    const failing: LockStore = Object.create(t.store, { listTickets: { value: () => Promise.reject(unavailable) } });
    await expect(service(failing).listTickets(callerOf('root', 'admin'), perf.id, undefined, 10, '')).rejects.toBe(unavailable);
  });
});
