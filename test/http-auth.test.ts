// HTTP: authentication and roles (API.md "Authentication and roles"), request ids, health endpoints.
import request from 'supertest';
import { as, createPerformance, expectError, KEYS, useTestApp } from './support/app';

const t = useTestApp();
let perfId: string;
beforeAll(async () => {
  perfId = (await createPerformance(t, { rows: 1, seats: 3 })).id;
});

describe('authentication', () => {
  test('no key -> 401 UNAUTHENTICATED with the error shape', async () => {
    const res = await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`);
    expectError(res, 401, 'UNAUTHENTICATED');
  });

  test('unknown key -> 401, in every header form', async () => {
    for (const header of [
      { Authorization: 'Bearer not-a-real-key-123' },
      { 'X-API-Key': 'not-a-real-key-123' },
      { 'X-ATHENA-Key': 'not-a-real-key-123' },
    ]) {
      expectError(await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set(header), 401, 'UNAUTHENTICATED');
    }
  });

  test('a malformed Authorization header (other scheme, empty bearer, a scheme only ending in Bearer) -> 401', async () => {
    for (const value of [`Basic ${KEYS.alice}`, 'Bearer', 'Bearer ', KEYS.alice, `NotBearer ${KEYS.alice}`, `Token Bearer ${KEYS.alice}`]) {
      expectError(
        await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set('Authorization', value),
        401,
        'UNAUTHENTICATED',
      );
    }
  });

  test('the 401 never echoes the presented key', async () => {
    const res = await request(t.app).get('/tickets').set('X-API-Key', 'secret-guess-98765');
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(JSON.stringify(res.body)).not.toContain('secret-guess-98765');
    expect(JSON.stringify(res.headers)).not.toContain('secret-guess-98765');
  });

  test.each([
    ['Authorization: Bearer', { Authorization: `Bearer ${KEYS.alice}` }],
    ['Authorization: bearer (any case)', { Authorization: `bearer ${KEYS.alice}` }],
    ['X-API-Key', { 'X-API-Key': KEYS.alice }],
    ['X-ATHENA-Key', { 'X-ATHENA-Key': KEYS.alice }],
  ])('%s is accepted', async (_name, header) => {
    const res = await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set(header);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('OK');
  });

  test('the key header names are case-insensitive', async () => {
    const res = await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set('x-athena-key', KEYS.bob);
    expect(res.status).toBe(200);
  });

  test('an unknown route without a key is a 401, not a 404 (nothing is revealed before auth)', async () => {
    expectError(await request(t.app).get('/no/such/route'), 401, 'UNAUTHENTICATED');
  });
});

describe('roles', () => {
  test.each([
    ['PUT /performances/{id}', (k: string) => request(t.app).put(`/performances/${perfId}`).set(as(k)).send({ tickets: [] })],
    ['GET /performances/{id}', (k: string) => request(t.app).get(`/performances/${perfId}`).set(as(k))],
    ['GET /performances/{id}/tickets', (k: string) => request(t.app).get(`/performances/${perfId}/tickets`).set(as(k))],
    ['GET /performances/{unknown}', (k: string) => request(t.app).get('/performances/never-created-xyz').set(as(k))],
  ])('a client on %s -> 403 FORBIDDEN naming the admin role, the admin -> not 403', async (_name, call) => {
    const error = expectError(await call(KEYS.alice), 403, 'FORBIDDEN');
    expect(error.message).toMatch(/admin role/);
    expect(error.required_role).toBe('admin');
    expectError(await call(KEYS.bob), 403, 'FORBIDDEN');
    expect((await call(KEYS.admin)).status).not.toBe(403);
  });

  test('a client PUT of inventory changes nothing', async () => {
    const res = await request(t.app)
      .put(`/performances/${perfId}`)
      .set(as(KEYS.alice))
      .send({ tickets: [{ id: `${perfId}-A1`, price: 1 }] });
    expectError(res, 403, 'FORBIDDEN');
    const ticket = await request(t.app).get(`/tickets/${perfId}-A1`).set(as(KEYS.alice));
    expect(ticket.body.ticket.price).toBe(5000);
  });

  test('the admin may use client routes (search, hold)', async () => {
    const search = await request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.admin));
    expect(search.status).toBe(200);
    const hold = await request(t.app).post('/transaction').set(as(KEYS.admin)).send({ performance_id: perfId, quantity: 1 });
    expect(hold.status).toBe(201);
    expect(hold.body.locked_by).toBe('root');
    expect((await request(t.app).delete(`/transaction/${hold.body.transaction_id}`).set(as(KEYS.admin))).status).toBe(200);
  });

  test('locked_by is the key name from configuration, never the key', async () => {
    const hold = await request(t.app).post('/transaction').set(as(KEYS.alice)).send({ performance_id: perfId, quantity: 1 });
    expect(hold.status).toBe(201);
    expect(hold.body.locked_by).toBe('alice');
    expect(hold.body.tickets[0].locked_by).toBe('alice');
    expect(JSON.stringify(hold.body)).not.toContain(KEYS.alice);
    await request(t.app).delete(`/transaction/${hold.body.transaction_id}`).set(as(KEYS.alice));
  });
});

describe('operations', () => {
  test('GET /healthz -> 200 without a key', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('OK');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  test('GET /readyz -> 200 without a key while Redis answers', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'OK', checks: { redis: 'ok' } });
  });

  test('/healthz and /readyz also answer with a bad key (they ignore keys)', async () => {
    expect((await request(t.app).get('/healthz').set(as('bogus-key-0000'))).status).toBe(200);
    expect((await request(t.app).get('/readyz').set(as('bogus-key-0000'))).status).toBe(200);
  });
});

describe('X-Request-Id', () => {
  const anyId = /^[A-Za-z0-9._:-]{1,128}$/;

  test.each([
    ['/healthz (no key)', () => request(t.app).get('/healthz')],
    ['a 401', () => request(t.app).get('/tickets')],
    ['a 403', () => request(t.app).get(`/performances/${perfId}`).set(as(KEYS.alice))],
    ['a 404 route', () => request(t.app).get('/nothing-here').set(as(KEYS.alice))],
    ['a 200 search', () => request(t.app).get(`/tickets?performance_id=${perfId}&quantity=1`).set(as(KEYS.alice))],
    ['a 400', () => request(t.app).post('/transaction').set(as(KEYS.alice)).send({})],
  ])('every response carries one: %s', async (_name, call) => {
    const res = await call();
    expect(res.headers['x-request-id']).toMatch(anyId);
    if (res.status >= 400) expect(res.body.error.request_id).toBe(res.headers['x-request-id']);
  });

  test('a sane given id is echoed, on success and on error', async () => {
    const ok = await request(t.app).get('/healthz').set('X-Request-Id', 'req-123.abc:XYZ_9');
    expect(ok.headers['x-request-id']).toBe('req-123.abc:XYZ_9');
    const err = await request(t.app).get('/tickets').set('X-Request-Id', 'trace-0001');
    expect(err.headers['x-request-id']).toBe('trace-0001');
    expect(err.body.error.request_id).toBe('trace-0001');
  });

  test.each([
    ['with spaces', 'has some spaces'],
    ['300 characters', 'a'.repeat(300)],
    ['129 characters', 'b'.repeat(129)],
    ['with a slash', 'a/b'],
    ['with a quote', 'x"y'],
  ])('an insane given id (%s) is replaced by a new one', async (_name, given) => {
    const res = await request(t.app).get('/tickets').set('X-Request-Id', given);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(anyId);
    expect(id).not.toBe(given);
    expect(res.body.error.request_id).toBe(id);
  });

  test('generated ids differ from request to request', async () => {
    const a = await request(t.app).get('/healthz');
    const b = await request(t.app).get('/healthz');
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});
