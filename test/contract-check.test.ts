// The contract check every test app runs on its answers (test/support/contract.ts) can fail: answers that break
// the OpenAPI document in each way it checks are reported, a conforming answer is not, and a wrapped app records
// what it sends (each test's afterEach fails on what was recorded).
import express from 'express';
import request from 'supertest';
import { checkedApp, contractProblems, takeProblems, type Answer } from './support/contract';

const TX = '0000002a-1111-8222-8333-444444444444';
const ticket = {
  id: 'p-A1',
  performance_id: 'p',
  section: 'ORCH',
  row: 'A',
  seat: '1',
  price: 5000,
  price_level: null,
  state: 'locked',
  sold: false,
  lock_expires: '2026-11-29T16:05:24.123Z',
  transaction_id: TX,
};
const transaction = {
  status: 'OK',
  transaction_id: TX,
  transaction_status: 'open',
  performance_id: 'p',
  tickets: [ticket],
  created_at: '2026-11-29T16:02:24.123Z',
  hold_seconds: 180,
  lock_expires: '2026-11-29T16:05:24.123Z',
  locked_by: 'alice',
  locked_ip: '127.0.0.1',
};
const json = (body: unknown) => `${JSON.stringify(body)}\n`;
const headers = { 'x-request-id': 'req-1', 'content-type': 'application/json; charset=utf-8' };
const hold: Answer = {
  method: 'POST',
  path: '/transaction',
  status: 201,
  headers: { ...headers, 'Transaction-Status': 'open', 'Lock-Expires': transaction.lock_expires },
  body: json(transaction),
};
const error = (code: string, extra: Record<string, unknown> = {}) => ({ status: 'ERROR', error: { code, message: 'm', request_id: 'req-1', ...extra } });

describe('answers that keep the contract pass', () => {
  test.each<[string, Answer]>([
    ['a hold', hold],
    ['the same under the alias path, in other letter case', { ...hold, path: '/Transactions/' }],
    ['a 409 with its details', { ...hold, status: 409, headers, body: json(error('TICKETS_UNAVAILABLE', { tickets: [{ id: 'p-A1', reason: 'sold' }] })) }],
    ['a HEAD without a body', { method: 'HEAD', path: `/transaction/${TX}`, status: 200, headers: { ...headers, 'transaction-status': 'open' }, body: '' }],
    ['HEAD of a GET route', { method: 'HEAD', path: '/healthz', status: 200, headers, body: '' }],
    ['an unknown path without a key', { method: 'GET', path: '/nope', status: 401, headers, body: json(error('UNAUTHENTICATED')) }],
    ['Prometheus text on /metrics', { method: 'GET', path: '/metrics', status: 200, headers: { ...headers, 'content-type': 'text/plain; version=0.0.4' }, body: '# HELP x\n' }],
    ['a 503 with Retry-After', { method: 'GET', path: '/tickets', status: 503, headers: { ...headers, 'retry-after': '1' }, body: json(error('UNAVAILABLE')) }],
  ])('%s', (_name, answer) => {
    expect(contractProblems(answer)).toEqual([]);
  });
});

describe('answers that break it are reported', () => {
  test.each<[string, Answer, RegExp]>([
    ['a wrong body (sold is not a boolean)', { ...hold, body: json({ ...transaction, tickets: [{ ...ticket, sold: 'no' }] }) }, /breaks the schema.*sold/],
    ['a missing member', { ...hold, body: json({ ...transaction, locked_by: undefined }) }, /must have required property 'locked_by'/],
    ['a member the contract does not have', { ...hold, body: json({ ...transaction, secret: 1 }) }, /must NOT have additional properties/],
    ['an undeclared status', { ...hold, status: 200 }, /status 200 is not declared/],
    ['an error code the operation does not declare for its status', { ...hold, status: 409, headers, body: json(error('TICKET_CONFLICT', { tickets: [] })) }, /breaks the schema/],
    ['an error without its details', { ...hold, status: 409, headers, body: json(error('NOT_ENOUGH_TICKETS')) }, /breaks the schema/],
    ['a body without the final newline', { ...hold, body: JSON.stringify(transaction) }, /does not end with a newline/],
    ['a body that is not JSON', { ...hold, headers: { ...hold.headers, 'content-type': 'text/html' }, body: '<html>' }, /not application\/json/],
    ['JSON where text is declared', { method: 'GET', path: '/metrics', status: 200, headers, body: '{}\n' }, /not text\/plain/],
    ['a required header missing', { ...hold, headers: { ...headers, 'Lock-Expires': transaction.lock_expires } }, /header Transaction-Status is missing/],
    ['X-Request-Id missing', { ...hold, headers: { 'content-type': headers['content-type'], 'Transaction-Status': 'open' } }, /header X-Request-Id is missing/],
    ['a header value outside its schema', { ...hold, headers: { ...hold.headers, 'Transaction-Status': 'pending' } }, /header Transaction-Status/],
    ['a contract header the answer does not declare', { ...hold, status: 400, headers: { ...headers, 'retry-after': '1' }, body: json(error('INVALID_REQUEST', { issues: [] })) }, /Retry-After is sent but not declared/],
    ['a 503 without Retry-After', { method: 'GET', path: '/tickets', status: 503, headers, body: json(error('UNAVAILABLE')) }, /Retry-After is missing/],
    ['a HEAD with a body', { method: 'HEAD', path: '/healthz', status: 200, headers, body: '{}\n' }, /a body where none is declared/],
    ['a 200 on a path outside the contract', { method: 'GET', path: '/admin/secret', status: 200, headers, body: json({ status: 'OK' }) }, /not an answer to a path outside the contract/],
    ['a 404 outside the contract that is not NOT_FOUND', { method: 'GET', path: '/nope', status: 404, headers, body: json(error('TICKET_NOT_FOUND', { tickets: [] })) }, /breaks the schema/],
  ])('%s', (_name, answer, problem) => {
    const problems = contractProblems(answer);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(problem);
  });
});

describe('a wrapped app', () => {
  test('records each answer outside the contract as it is sent', async () => {
    const app = express();
    app.get('/healthz', (_req, res) => {
      res.type('json').send('{"status":"BAD"}\n');
    });
    await request(checkedApp(app)).get('/healthz');
    const problems = takeProblems(); // taken, so that this test's afterEach does not fail on them
    expect(problems).toEqual([
      expect.stringMatching(/^GET \/healthz 200: header X-Request-Id is missing/),
      expect.stringMatching(/^GET \/healthz 200: the body breaks the schema: data\/status must be equal to constant/),
    ]);
  });
});
