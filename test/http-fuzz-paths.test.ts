// HTTP fuzz (test/support/http-fuzz.ts): what a path names — ids outside their alphabet, in any encoding, get a
// 400; well-formed ids that do not exist or are another client's a 404 (or 409); methods a path does not have a 404.
import http from 'node:http';
import fc from 'fast-check';
import { ADMIN, ALICE, BOB, fuzz, fx, JSON_TYPE, tk, useFuzzFixture, type Case } from './support/http-fuzz';
import { badId, badOrderNumber, badSegment, badTxId } from './support/http-fuzz-generators';

useFuzzFixture('http-fuzz-paths');

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  test('ids outside [A-Za-z0-9._:-]{1,128} (and non-UUIDs, non-order-numbers) in paths -> 400 INVALID_REQUEST', async () => {
    const realTx = [fx.open, fx.checkout, fx.done, fx.released, fx.bobs];
    const routes: { kind: 'perf' | 'ticket' | 'tx' | 'order'; method: string; path: (seg: string) => string; key: Record<string, string>; body?: string }[] = [
      { kind: 'perf', method: 'PUT', path: (s) => `/performances/${s}`, key: ADMIN, body: JSON.stringify({ tickets: [{ id: 'fuzz-x-1' }] }) },
      { kind: 'perf', method: 'GET', path: (s) => `/performances/${s}`, key: ADMIN },
      { kind: 'perf', method: 'GET', path: (s) => `/performances/${s}/tickets`, key: ADMIN },
      { kind: 'ticket', method: 'GET', path: (s) => `/tickets/${s}`, key: ALICE },
      { kind: 'tx', method: 'PUT', path: (s) => `/transaction/${s}`, key: ALICE, body: JSON.stringify({ status: 'checkout' }) },
      { kind: 'tx', method: 'POST', path: (s) => `/transactions/${s}`, key: ALICE, body: JSON.stringify({ status: 'complete' }) },
      { kind: 'tx', method: 'GET', path: (s) => `/transaction/${s}`, key: ADMIN },
      { kind: 'tx', method: 'HEAD', path: (s) => `/transactions/${s}`, key: ALICE },
      { kind: 'tx', method: 'DELETE', path: (s) => `/transaction/${s}`, key: ALICE },
      { kind: 'tx', method: 'DELETE', path: (s) => `/transactions/${s}`, key: ADMIN },
      { kind: 'order', method: 'GET', path: (s) => `/orders/${s}`, key: ALICE },
    ];
    const issue = { perf: 'performance_id', ticket: 'ticket_id', tx: 'id', order: 'order_number' } as const;
    const segments = {
      perf: badSegment(badId([fx.P, fx.Q])),
      ticket: badSegment(badId(fx.t)),
      tx: badSegment(badTxId(realTx, fx.t)),
      order: badSegment(badOrderNumber(fx.order, fx.t)),
    };
    const arb = fc.constantFrom(...routes).chain((r) =>
      segments[r.kind].map(({ seg, malformed }): Case => ({
        what: `bad ${r.kind} id in ${r.method} path`,
        req: { method: r.method, path: r.path(seg), headers: { ...r.key, ...(r.body ? JSON_TYPE : {}) }, body: r.body },
        expect: { status: 400, code: 'INVALID_REQUEST', issue: malformed ? undefined : issue[r.kind] },
      })),
    );
    await fuzz(103, 300, arb);
  });

  test('well-formed ids that do not exist or are not the caller\'s -> 404 (or 409), nothing changes', async () => {
    const unknownId = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 6, maxLength: 20 }).map((s) => `fz-${s}`);
    const unknownOrder = fc.string({ unit: fc.constantFrom(...'34679ACDEFGHJKMNPQRTVWXY'), minLength: 10, maxLength: 12 }).filter((s) => s !== fx.order);
    const uuid = fc.uuid().filter((u) => ![fx.open, fx.checkout, fx.done, fx.released, fx.bobs].includes(u));
    const othersTx = fc.constantFrom<[string, Record<string, string>]>([fx.open, BOB], [fx.done, BOB], [fx.checkout, BOB], [fx.bobs, ALICE]);
    const txCase = (id: string, key: Record<string, string>) =>
      fc.constantFrom(
        { method: 'GET', path: `/transaction/${id}`, headers: key },
        { method: 'HEAD', path: `/transactions/${id}`, headers: key },
        { method: 'DELETE', path: `/transaction/${id}`, headers: key },
        { method: 'PUT', path: `/transaction/${id}`, headers: { ...key, ...JSON_TYPE }, body: JSON.stringify({ status: 'checkout' }) },
        { method: 'POST', path: `/transactions/${id}`, headers: { ...key, ...JSON_TYPE }, body: JSON.stringify({ status: 'complete' }) },
      );
    const arb: fc.Arbitrary<Case> = fc.oneof(
      fc.tuple(uuid, fc.constantFrom(ALICE, BOB, ADMIN)).chain(([id, key]) => txCase(id, key)).map((req) => ({ what: 'unknown transaction', req, expect: { status: 404, code: 'TRANSACTION_NOT_FOUND' } })),
      othersTx.chain(([id, key]) => txCase(id, key)).map((req) => ({ what: "another client's transaction", req, expect: { status: 404, code: 'TRANSACTION_NOT_FOUND' } })),
      unknownId.map((id) => ({ what: 'unknown ticket', req: { method: 'GET', path: `/tickets/${id}`, headers: ALICE }, expect: { status: 404, code: 'TICKET_NOT_FOUND' } })),
      unknownId.chain((id) => fc.constantFrom(`/performances/${id}`, `/performances/${id}/tickets`)).map((path) => ({ what: 'unknown performance', req: { method: 'GET', path, headers: ADMIN }, expect: { status: 404, code: 'PERFORMANCE_NOT_FOUND' } })),
      unknownOrder.map((n) => ({ what: 'unknown order', req: { method: 'GET', path: `/orders/${n}`, headers: ADMIN }, expect: { status: 404, code: 'ORDER_NOT_FOUND' } })),
      fc.constant({ what: "another client's order", req: { method: 'GET', path: `/orders/${fx.order}`, headers: BOB }, expect: { status: 404, code: 'ORDER_NOT_FOUND' } }),
      unknownId.map((id) => ({ what: 'unknown person', req: { method: 'GET', path: `/people?email=${id}%40example.com`, headers: ADMIN }, expect: { status: 404, code: 'PERSON_NOT_FOUND' } })),
      unknownId.map((id) => ({ what: 'search an unknown performance', req: { method: 'GET', path: `/tickets?performance_id=${id}&quantity=1`, headers: ALICE }, expect: { status: [404, 409] } })),
      fc.tuple(unknownId, fc.boolean()).map(([id, best]) => ({
        what: 'hold on an unknown performance or ticket',
        req: { method: 'POST', path: '/transaction', headers: { ...ALICE, ...JSON_TYPE }, body: JSON.stringify(best ? { performance_id: id, quantity: 1 } : { tickets: [id] }) },
        expect: { status: [404, 409], code: best ? ['PERFORMANCE_NOT_FOUND', 'NOT_ENOUGH_TICKETS'] : 'TICKETS_NOT_FOUND' },
      })),
    );
    await fuzz(104, 100, arb);
  });

  test('methods a path does not have -> 404 NOT_FOUND in the error shape', async () => {
    const paths: [string, string[]][] = [
      [`/performances/${fx.P}`, ['GET', 'PUT']],
      [`/performances/${fx.P}/tickets`, ['GET']],
      [`/tickets?performance_id=${fx.P}&quantity=1`, ['GET']],
      [`/tickets/${tk(0)}`, ['GET']],
      ['/transaction', ['POST']],
      ['/transactions', ['POST']],
      [`/transaction/${fx.open}`, ['GET', 'PUT', 'POST', 'DELETE']],
      [`/transactions/${fx.open}`, ['GET', 'PUT', 'POST', 'DELETE']],
      [`/orders/${fx.order}`, ['GET']],
      [`/people?email=${encodeURIComponent(fx.email)}`, ['GET']],
    ];
    // OPTIONS is left out (Express answers it with Allow), CONNECT is not a request, HEAD follows GET
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'PURGE', 'SEARCH', 'REPORT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LINK', 'UNLINK', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'MKACTIVITY', 'CHECKOUT', 'MKCALENDAR', 'TRACE'].filter((m) => http.METHODS.includes(m));
    const arb = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom(...methods), fc.constantFrom(ALICE, ADMIN))
      .filter(([[, allowed], method]) => !allowed.includes(method) && !(method === 'HEAD' && allowed.includes('GET')))
      .map(([[path], method, key]): Case => ({
        what: `${method} ${path}`,
        req: { method, path, headers: { ...key, ...JSON_TYPE }, body: method === 'TRACE' ? undefined : JSON.stringify({ status: 'complete', tickets: [tk(6)] }) },
        expect: { status: 404, code: 'NOT_FOUND' },
      }));
    await fuzz(114, 80, arb);
  });
});
