// HTTP: bad input gets a 4xx in the error shape of API.md and changes nothing; unknown routes; Redis down -> 503.
import request from 'supertest';
import { as, countsOf, createPerformance, expectError, KEYS, startTestApp, uniqueId, useTestApp } from './support/app';

const t = useTestApp();
let perf: { id: string; ticketIds: string[] };
beforeAll(async () => {
  perf = await createPerformance(t, { rows: 1, seats: 4 });
});

const alice = as(KEYS.alice);
const admin = as(KEYS.admin);

async function openTx() {
  const res = await request(t.app).post('/transaction').set(alice).send({ tickets: [perf.ticketIds[3]] });
  expect(res.status).toBe(201);
  return res.body.transaction_id as string;
}

describe('malformed JSON', () => {
  test.each([
    ['POST /transaction', () => request(t.app).post('/transaction').set(alice)],
    ['POST /transactions', () => request(t.app).post('/transactions').set(alice)],
    ['PUT /performances/{id}', () => request(t.app).put(`/performances/${perf.id}`).set(admin)],
  ])('%s -> 400 INVALID_REQUEST as JSON, not HTML', async (_name, call) => {
    const before = await countsOf(t, perf.id);
    const res = await call().set('Content-Type', 'application/json').send('{"tickets": [');
    expectError(res, 400, 'INVALID_REQUEST');
    expect(res.text).not.toMatch(/<html|<pre|SyntaxError/i);
    expect(await countsOf(t, perf.id)).toEqual(before);
  });

  test('PUT /transaction/{id} with broken JSON -> 400 and the transaction is unchanged', async () => {
    const txid = await openTx();
    const res = await request(t.app).put(`/transaction/${txid}`).set(alice).set('Content-Type', 'application/json').send('{status: checkout}');
    expectError(res, 400, 'INVALID_REQUEST');
    expect((await request(t.app).get(`/transaction/${txid}`).set(alice)).body.transaction_status).toBe('open');
    await request(t.app).delete(`/transaction/${txid}`).set(alice);
  });

  test.each([
    ['a JSON string', '"tickets"'],
    ['a JSON number', '42'],
    ['null', 'null'],
  ])('a body that is %s -> 400', async (_name, body) => {
    const res = await request(t.app).post('/transaction').set(alice).set('Content-Type', 'application/json').send(body);
    expectError(res, 400, 'INVALID_REQUEST');
  });

  test('JSON with a charset parameter is fine', async () => {
    const res = await request(t.app)
      .post('/transaction')
      .set(alice)
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ tickets: [perf.ticketIds[0]] }));
    expect(res.status).toBe(201);
    await request(t.app).delete(`/transaction/${res.body.transaction_id}`).set(alice);
  });
});

describe('content types', () => {
  test.each([
    ['text/plain', 'text/plain', JSON.stringify({ tickets: ['x'] })],
    ['form data', 'application/x-www-form-urlencoded', 'tickets=x'],
    ['xml', 'application/xml', '<tickets/>'],
  ])('POST /transaction with %s -> 415 UNSUPPORTED_MEDIA_TYPE', async (_name, type, body) => {
    const res = await request(t.app).post('/transaction').set(alice).set('Content-Type', type).send(body);
    expect(expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE').message).toMatch(/application\/json/);
  });

  test('no body at all (no Content-Type, no length) is no media type to refuse: the schema answers 400', async () => {
    const res = await request(t.app).post('/transaction').set(alice);
    expect(expectError(res, 400, 'INVALID_REQUEST').issues).toEqual([{ path: 'tickets', message: 'give tickets, or performance_id and quantity' }]);
  });

  test('PUT /transaction/{id} and PUT /performances/{id} with text/plain -> 415, nothing changes', async () => {
    const txid = await openTx();
    const res = await request(t.app).put(`/transaction/${txid}`).set(alice).set('Content-Type', 'text/plain').send('{"status":"complete"}');
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await request(t.app).get(`/transaction/${txid}`).set(alice)).body.transaction_status).toBe('open');
    await request(t.app).delete(`/transaction/${txid}`).set(alice);

    const inv = await request(t.app)
      .put(`/performances/${perf.id}`)
      .set(admin)
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ tickets: [{ id: perf.ticketIds[0], price: 1 }] }));
    expectError(inv, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await request(t.app).get(`/tickets/${perf.ticketIds[0]}`).set(alice)).body.ticket.price).toBe(5000);
  });

  test('a JSON body in another charset -> 415', async () => {
    const res = await request(t.app)
      .post('/transaction')
      .set(alice)
      .set('Content-Type', 'application/json; charset=latin1')
      .send(JSON.stringify({ tickets: [perf.ticketIds[0]] }));
    expect(expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE').message).toMatch(/UTF-8/);
  });
});

describe('body size', () => {
  test('a transaction body over 64 KiB -> 413 PAYLOAD_TOO_LARGE', async () => {
    const tickets = Array.from({ length: 1000 }, (_, i) => `${'t'.repeat(100)}-${i}`);
    const res = await request(t.app).post('/transaction').set(alice).send({ tickets });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('the inventory route takes bodies far above 64 KiB', async () => {
    const id = uniqueId();
    const tickets = Array.from({ length: 3000 }, (_, i) => ({
      id: `${id}-${i}`,
      section: 'ORCHESTRA',
      row: String.fromCharCode(65 + (i % 26)),
      seat: i,
      price: 5000,
      price_level: 'STANDARD',
    }));
    expect(JSON.stringify({ tickets }).length).toBeGreaterThan(200 * 1024);
    const res = await request(t.app).put(`/performances/${id}`).set(admin).send({ tickets });
    expect(res.status).toBe(200);
    expect(res.body.performance.counts).toEqual({ total: 3000, available: 3000, locked: 0, sold: 0 });
  });
});

describe('JSON answers end with a newline', () => {
  test.each([
    ['a success', () => request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1`).set(alice)],
    ['a hold (201)', () => request(t.app).post('/transaction').set(alice).send({ performance_id: perf.id, quantity: 1 })],
    ['/healthz', () => request(t.app).get('/healthz')],
    ['a 401 from authentication', () => request(t.app).get('/tickets')],
    ['a 404 for an unknown route', () => request(t.app).get('/nope').set(alice)],
    ['a 400 from the JSON parser', () => request(t.app).post('/transaction').set(alice).set('Content-Type', 'application/json').send('{')],
    ['a 400 from a schema', () => request(t.app).get('/tickets?quantity=1').set(alice)],
  ])('%s', async (_name, call) => {
    const res = await call();
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.text.endsWith('}\n')).toBe(true);
    expect(res.text.indexOf('\n')).toBe(res.text.length - 1); // one line: no pretty-printing
    if (res.body.transaction_id) await request(t.app).delete(`/transaction/${res.body.transaction_id}`).set(alice);
  });
});

describe('unknown routes and methods', () => {
  test.each([
    ['GET /nope', () => request(t.app).get('/nope')],
    ['GET /transaction (no id)', () => request(t.app).get('/transaction')],
    ['PATCH /transaction/{id}', () => request(t.app).patch('/transaction/00000000-0000-4000-8000-000000000000').send({})],
    ['DELETE /performances/{id}', () => request(t.app).delete(`/performances/${perf.id}`)],
    ['POST /tickets', () => request(t.app).post('/tickets').send({})],
    ['GET /transaction/{id}/extra', () => request(t.app).get('/transaction/00000000-0000-4000-8000-000000000000/extra')],
  ])('%s -> 404 NOT_FOUND in the error shape', async (_name, call) => {
    const res = await call().set(alice);
    expect(expectError(res, 404, 'NOT_FOUND').message).toMatch(/^No such route/);
    expect(res.text).not.toMatch(/<html|Cannot (GET|POST|PATCH|DELETE)/i);
  });
});

describe('query strings', () => {
  test('a repeated parameter -> 400 (quantity=1&quantity=2), nothing locked', async () => {
    const res = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1&quantity=2`).set(alice);
    const error = expectError(res, 400, 'INVALID_REQUEST');
    expect(error.issues).toEqual([{ path: 'quantity', message: expect.any(String) }]);
  });

  test('bracket syntax is not parsed into objects', async () => {
    const res = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity[a]=1`).set(alice);
    expectError(res, 400, 'INVALID_REQUEST');
  });

  test('unknown query parameters are ignored', async () => {
    const res = await request(t.app).get(`/tickets?performance_id=${perf.id}&quantity=1&foo=bar`).set(alice);
    expect(res.status).toBe(200);
  });
});

describe('Redis unavailable', () => {
  test('requests answer 503 UNAVAILABLE with Retry-After; /readyz 503; /healthz still 200', async () => {
    const down = await startTestApp();
    const p = await createPerformance(down, { rows: 1, seats: 2 });
    down.redis.disconnect();
    try {
      const search = await request(down.app).get(`/tickets?performance_id=${p.id}&quantity=1`).set(alice);
      expectError(search, 503, 'UNAVAILABLE');
      expect(search.headers['retry-after']).toBeTruthy();

      const hold = await request(down.app).post('/transaction').set(alice).send({ performance_id: p.id, quantity: 1 });
      expectError(hold, 503, 'UNAVAILABLE');
      expect(hold.headers['retry-after']).toBeTruthy();

      const ready = await request(down.app).get('/readyz');
      const error = expectError(ready, 503, 'UNAVAILABLE');
      expect(error.checks).toEqual({ redis: 'unavailable', document_store: 'ok' });
      expect(ready.headers['retry-after']).toBeTruthy();

      expect((await request(down.app).get('/healthz')).status).toBe(200);
    } finally {
      await down.close().catch(() => undefined);
    }
    // nothing was locked by the failed hold (seen through a working connection)
    expect(await countsOf(t, p.id)).toEqual({ total: 2, available: 2, locked: 0, sold: 0 });
  });
});
