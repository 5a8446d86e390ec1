// HTTP fuzz (test/support/http-fuzz.ts): who may call — missing or garbage credentials on every endpoint get a 401,
// a client key on the admin routes a 403, whatever else the request holds; and the endpoints those cases aim at do
// answer 200 with the right key.
import fc from 'fast-check';
import {
  ADMIN,
  ALICE,
  fuzz,
  fx,
  JSON_TYPE,
  send,
  useFuzzFixture,
  validEndpoints,
  type Case,
  type Req,
} from './support/http-fuzz';
import {
  badId,
  clientCredentials,
  encodeSegment,
  encodings,
  garbageCredentials,
  requestIdHeader,
} from './support/http-fuzz-generators';

useFuzzFixture('http-fuzz-credentials');

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  test('missing or garbage credentials on every endpoint -> 401 UNAUTHENTICATED', async () => {
    const endpoints = [
      ...validEndpoints(),
      { method: 'GET', path: '/nope' },
      { method: 'PATCH', path: `/transaction/${fx.open}` },
    ];
    const arb = fc
      .tuple(fc.constantFrom(...endpoints), garbageCredentials, requestIdHeader)
      .map(([e, creds, rid]): Case => ({
        what: `bad credentials ${JSON.stringify(creds)}`,
        req: {
          method: e.method,
          path: e.path,
          headers: { ...creds, ...rid, ...(e.body ? JSON_TYPE : {}) },
          body: e.body ? JSON.stringify(e.body) : undefined,
        },
        expect: { status: 401, code: 'UNAUTHENTICATED' },
      }));
    await fuzz(101, 150, arb);
  });

  test('a client key on admin routes -> 403 FORBIDDEN, whatever the id, query or body', async () => {
    const ids = fc.oneof(
      fc.constantFrom(fx.P, fx.Q, 'fuzz-unknown-perf'),
      fc.tuple(badId(fx.t), encodings, fc.boolean()).map(([s, how, lower]) => encodeSegment(s, how, lower)),
    );
    const query = fc.constantFrom('', '?state=locked', '?state=nope&limit=-1', '?limit=1&limit=2', '?cursor=%zz');
    const body = fc.constantFrom<{ type?: string; text?: string }>(
      { type: 'application/json', text: JSON.stringify({ tickets: [{ id: 'fuzz-x-1' }] }) },
      { type: 'application/json', text: '{"tickets": [' },
      { type: 'text/plain', text: 'hello' },
      { type: 'application/json', text: '' },
      {},
    );
    const arb = fc
      .tuple(fc.constantFrom('PUT perf', 'GET perf', 'GET tickets', 'GET people'), ids, query, body, clientCredentials, requestIdHeader)
      .map(([route, id, q, b, creds, rid]): Case => {
        const headers = { ...creds, ...rid, ...(b.type ? { 'Content-Type': b.type } : {}) };
        const req: Req =
          route === 'PUT perf'
            ? { method: 'PUT', path: `/performances/${id}`, headers, body: b.text }
            : route === 'GET perf'
              ? { method: 'GET', path: `/performances/${id}`, headers }
              : route === 'GET tickets'
                ? { method: 'GET', path: `/performances/${id}/tickets${q}`, headers }
                : { method: 'GET', path: `/people?email=${encodeURIComponent(fx.email)}${q.replace('?', '&')}`, headers };
        return { what: `client key on ${route}`, req, expect: { status: 403, code: 'FORBIDDEN' } };
      });
    await fuzz(102, 100, arb);
  });

  test('non-vacuity: the read-only endpoints used above answer 200 with the right key', async () => {
    for (const e of validEndpoints().filter((x) => x.method === 'GET' || x.method === 'HEAD')) {
      const res = await send({ method: e.method, path: e.path, headers: e.admin ? ADMIN : ALICE });
      expect({ path: e.path, status: res.status }).toEqual({ path: e.path, status: 200 });
    }
  });
});
