// HTTP: clients never see each other's transactions (404, not 403) nor each other's names or IPs on tickets;
// the admin sees everything. The locked IP follows TRUST_PROXY.
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, KEYS, startTestApp, useTestApp } from './support/app';

const t = useTestApp();

async function aliceHolds() {
  const perf = await createPerformance(t, { rows: 1, seats: 4 });
  const ids = perf.ticketIds.slice(0, 2);
  const res = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ tickets: ids });
  expect(res.status).toBe(201);
  return { perf, ids, txid: res.body.transaction_id as string, begun: res.body };
}

describe("another client's transaction", () => {
  test('bob gets 404 TRANSACTION_NOT_FOUND for every method and nothing changes', async () => {
    const { perf, ids, txid, begun } = await aliceHolds();
    const bob = as(KEYS.bob);
    const calls = [
      () => request(t.app).get(`/transaction/${txid}`).set(bob),
      () => request(t.app).get(`/transactions/${txid}`).set(bob),
      () => request(t.app).put(`/transaction/${txid}`).set(bob).send({ status: 'checkout' }),
      () => request(t.app).put(`/transaction/${txid}`).set(bob).send({ status: 'complete', id: txid, tickets: ids }),
      () => request(t.app).post(`/transaction/${txid}`).set(bob).send({ status: 'complete' }),
      () => request(t.app).post(`/transactions/${txid}`).set(bob).send({ status: 'checkout' }),
      () => request(t.app).delete(`/transaction/${txid}`).set(bob),
      () => request(t.app).delete(`/transactions/${txid}`).set(bob),
    ];
    for (const call of calls) {
      const res = await call();
      const error = expectError(res, 404, 'TRANSACTION_NOT_FOUND');
      expect(JSON.stringify(error)).not.toContain('alice');
      expect(res.headers['transaction-status']).toBeUndefined();
    }
    const head = await request(t.app).head(`/transaction/${txid}`).set(bob);
    expect(head.status).toBe(404);
    expect(head.headers['transaction-status']).toBeUndefined();
    expect(head.headers['lock-expires']).toBeUndefined();

    // unchanged: still open, same expiry, tickets locked by alice's transaction, nothing sold
    const mine = await request(t.app).get(`/transaction/${txid}`).set(as(KEYS.alice));
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ transaction_status: 'open', lock_expires: begun.lock_expires });
    expect(mine.body.order_number).toBeUndefined();
    for (const x of mine.body.tickets) expect(x).toMatchObject({ state: 'locked', transaction_id: txid, locked_by: 'alice' });
    expect(await countsOf(t, perf.id)).toEqual({ total: 4, available: 2, locked: 2, sold: 0 });
    expect(await t.redis.xlen(`tix:{p:${perf.id}}:outbox`)).toBe(0);
  });

  test('the 404 for another client is the same as for a transaction that does not exist', async () => {
    const { txid } = await aliceHolds();
    const theirs = await request(t.app).get(`/transaction/${txid}`).set(as(KEYS.bob));
    const none = await request(t.app).get('/transaction/00000000-0000-4000-8000-000000000001').set(as(KEYS.bob));
    const strip = (e: Record<string, unknown>) => ({ ...e, request_id: undefined });
    expect(strip(theirs.body.error)).toEqual(strip(none.body.error));
  });

  test('the admin can read it, with who holds it', async () => {
    const { txid, ids } = await aliceHolds();
    const res = await request(t.app).get(`/transaction/${txid}`).set(as(KEYS.admin));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ transaction_id: txid, transaction_status: 'open', locked_by: 'alice', locked_ip: expect.any(String) });
    expect(res.body.tickets.map((x: { id: string }) => x.id)).toEqual(ids);
    for (const x of res.body.tickets) expect(x).toMatchObject({ locked_by: 'alice', locked_ip: expect.any(String) });
    const head = await request(t.app).head(`/transaction/${txid}`).set(as(KEYS.admin));
    expect(head.status).toBe(200);
    expect(head.headers['transaction-status']).toBe('open');
  });

  test('the admin may also end it (admin: everything)', async () => {
    const { txid, perf } = await aliceHolds();
    const res = await request(t.app).delete(`/transaction/${txid}`).set(as(KEYS.admin));
    expect(res.status).toBe(200);
    expect(res.body.transaction_status).toBe('released');
    expect((await countsOf(t, perf.id)).locked).toBe(0);
  });
});

describe('ticket privacy', () => {
  test('locked_by / locked_ip of a held ticket: shown to its holder and the admin, absent for bob', async () => {
    const { ids, txid } = await aliceHolds();
    const id = ids[0] as string;
    const forAlice = await request(t.app).get(`/tickets/${id}`).set(as(KEYS.alice));
    expect(forAlice.body.ticket).toMatchObject({ state: 'locked', transaction_id: txid, locked_by: 'alice', locked_ip: '127.0.0.1' });
    const forAdmin = await request(t.app).get(`/tickets/${id}`).set(as(KEYS.admin));
    expect(forAdmin.body.ticket).toMatchObject({ state: 'locked', locked_by: 'alice', locked_ip: '127.0.0.1' });
    const forBob = await request(t.app).get(`/tickets/${id}`).set(as(KEYS.bob));
    expect(forBob.status).toBe(200);
    expect(forBob.body.ticket.state).toBe('locked');
    expect(forBob.body.ticket).not.toHaveProperty('locked_by');
    expect(forBob.body.ticket).not.toHaveProperty('locked_ip');
    expect(JSON.stringify(forBob.body)).not.toContain('alice');
    expect(JSON.stringify(forBob.body)).not.toContain('127.0.0.1');
  });

  test("bob's failed hold names the ticket and the reason only", async () => {
    const { ids } = await aliceHolds();
    const res = await request(t.app).post('/transaction').set(as(KEYS.bob)).send({ tickets: ids });
    const error = expectError(res, 409, 'TICKETS_UNAVAILABLE');
    expect(error.tickets).toEqual(ids.map((id) => ({ id, reason: 'locked' })));
    expect(JSON.stringify(res.body)).not.toContain('alice');
  });

  test("the admin's ticket listing shows the holder of each locked ticket", async () => {
    const { perf, txid } = await aliceHolds();
    const res = await request(t.app).get(`/performances/${perf.id}/tickets?state=locked`).set(as(KEYS.admin));
    expect(res.body.tickets).toHaveLength(2);
    for (const x of res.body.tickets) expect(x).toMatchObject({ transaction_id: txid, locked_by: 'alice', locked_ip: '127.0.0.1' });
  });
});

describe('the locked IP', () => {
  test('without TRUST_PROXY, X-Forwarded-For is ignored: the socket address is recorded', async () => {
    const perf = await createPerformance(t, { rows: 1, seats: 1 });
    const res = await request(t.app)
      .post('/transaction')
      .set(as(KEYS.alice))
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ tickets: perf.ticketIds });
    expect(res.status).toBe(201);
    expect(res.body.locked_ip).toBe('127.0.0.1');
    expect(res.body.tickets[0].locked_ip).toBe('127.0.0.1');
  });

  test('with TRUST_PROXY=true, the X-Forwarded-For client is recorded', async () => {
    const proxied = await startTestApp({ TRUST_PROXY: 'true' });
    try {
      const perf = await createPerformance(proxied, { rows: 1, seats: 1 });
      const res = await request(proxied.app)
        .post('/transaction')
        .set(as(KEYS.alice))
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ tickets: perf.ticketIds });
      expect(res.status).toBe(201);
      expect(res.body.locked_ip).toBe('203.0.113.7');
      const ticket = await request(proxied.app).get(`/tickets/${perf.ticketIds[0]}`).set(as(KEYS.admin));
      expect(ticket.body.ticket.locked_ip).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
  });
});
