// HTTP fuzz (test/support/http-fuzz.ts): query strings — missing, repeated, malformed and out-of-range parameters
// of GET /tickets, GET /performances/{id}/tickets and GET /people get a 400.
import fc from 'fast-check';
import { ADMIN, ALICE, fuzz, fx, MAX_PRICE, useFuzzFixture, type Case } from './support/http-fuzz';
import { badEmailString, badId } from './support/http-fuzz-generators';
import { TICKET_CURSOR } from '../src/http/schemas';

useFuzzFixture('http-fuzz-query');

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  describe('query strings', () => {
    /** Not a whole number written as 1-10 ASCII digits within [min, max]. */
    const badNumString = (min: number, max: number) =>
      fc
        .oneof(
          fc.constantFrom(
            '', ' ', '-1', '+1', '1.5', '1.0', '1e2', '0x10', '0b1', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '1,2', '1 ', ' 1',
            '\u0661', '\uff11', '\u00b2', '1_0', '12345678901', '99999999999999999999', '1e400', '-0', '0.5', '[1]', '{"a":1}',
            String(min - 1), String(max + 1), '00000000000', '1\u0000',
          ),
          fc.integer().map(String),
          fc.double().map(String),
          fc.string({ maxLength: 12 }),
        )
        .filter((s) => !(/^\d{1,10}$/.test(s) && Number(s) >= min && Number(s) <= max));
    const badAttr = fc.oneof(
      fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('|', '\u0000', '\n', '\u007f'), fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c),
      fc.string({ minLength: 65, maxLength: 100 }),
      fc.constant(''),
    );
    const noiseParams = fc.array(
      fc.tuple(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...'abcxyz_'), minLength: 1, maxLength: 8 }).map((s) => `x${s}`),
          fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__proto__[quantity]', 'constructor[prototype][quantity]', 'quantity[]', 'performance_id[0]', 'QUANTITY', 'email[]'),
        ),
        fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('1', '1000', 'available')),
      ),
      { maxLength: 3 },
    );
    type Pairs = [string, string][];
    /** A query mutation: it alone makes the query a 400. */
    type QMutation = { what: string; apply: (pairs: Pairs) => Pairs };
    const setParam = (key: string, values: fc.Arbitrary<string>) =>
      values.map((v): QMutation => ({ what: `${key}=${JSON.stringify(v)}`, apply: (p) => [...p.filter(([k]) => k !== key), [key, v]] }));
    const dropParam = (key: string) =>
      fc.constantFrom('', '[]', '[0]').map((suffix): QMutation => ({
        what: suffix ? `${key}${suffix} instead of ${key}` : `without ${key}`,
        apply: (p) => p.flatMap(([k, v]): Pairs => (k !== key ? [[k, v]] : suffix ? [[`${key}${suffix}`, v]] : [])),
      }));
    const repeatParam = (keys: readonly string[], values: fc.Arbitrary<string>) =>
      fc.tuple(fc.constantFrom(...keys), values, values).map(([key, a, b]): QMutation => ({
        what: `${key} repeated`,
        apply: (p) => [...p.filter(([k]) => k !== key), [key, a], [key, b]],
      }));

    const queryCases = (path: string, headers: Record<string, string>, base: fc.Arbitrary<Pairs>, mutations: fc.Arbitrary<QMutation>[]) =>
      fc
        .tuple(base, fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 3 }), noiseParams, fc.nat())
        .map(([pairs, muts, extra, rotate]): Case => {
          let p = pairs;
          for (const m of muts) p = m.apply(p);
          p = [...p, ...extra];
          const k = rotate % Math.max(1, p.length); // parameter order must not matter
          p = [...p.slice(k), ...p.slice(0, k)];
          const enc = (s: string) => (/^[A-Za-z0-9_[\]]*$/.test(s) ? s : encodeURIComponent(s));
          const qs = p.map(([k, v]) => `${enc(k)}=${encodeURIComponent(v)}`).join('&');
          return { what: muts.map((m) => m.what).join('; '), req: { method: 'GET', path: `${path}?${qs}`, headers }, expect: { status: 400, code: 'INVALID_REQUEST' } };
        });

    test('GET /tickets (search): missing, repeated, non-numeric and out-of-range parameters, bad ids -> 400', async () => {
      const base = fc
        .record({ section: fc.boolean(), max_price: fc.boolean() })
        .map(({ section, max_price }): Pairs => [
          ['performance_id', fx.P],
          ['quantity', '1'],
          ...(section ? ([['section', 'ORCH']] as Pairs) : []),
          ...(max_price ? ([['max_price', '100000']] as Pairs) : []),
        ]);
      const anyValue = fc.oneof(fc.constantFrom('1', '2', fx.P, 'ORCH'), fc.string({ maxLength: 6 }));
      const arb = queryCases('/tickets', ALICE, base, [
        dropParam('performance_id'),
        dropParam('quantity'),
        setParam('quantity', badNumString(1, 1000)),
        setParam('max_price', badNumString(0, MAX_PRICE)),
        setParam('performance_id', badId(fx.t)),
        setParam('section', badAttr),
        setParam('price_level', badAttr),
        repeatParam(['performance_id', 'quantity', 'section', 'price_level', 'max_price'], anyValue),
      ]);
      await fuzz(105, 200, arb);
    });

    test('GET /performances/{id}/tickets: unknown state values, bad limits and cursors, repeats -> 400', async () => {
      const base = fc
        .record({ state: fc.option(fc.constantFrom('available', 'locked', 'sold')), limit: fc.option(fc.constantFrom('1', '5', '1000')) })
        .map(({ state, limit }): Pairs => [...(state ? ([['state', state]] as Pairs) : []), ...(limit ? ([['limit', limit]] as Pairs) : [])]);
      const badState = fc
        .oneof(fc.constantFrom('AVAILABLE', 'Available', 'available ', ' locked', 'free', 'all', '', 'sold,locked', 'locked|sold', '*', 'available\u0000', '\u0430vailable'), fc.string({ maxLength: 10 }))
        .filter((s) => !['available', 'locked', 'sold'].includes(s));
      const badCursor = fc
        .oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 65, max: 100 }).map((n) => '1'.repeat(n)), fc.constantFrom('-1', '1e3', 'abc', '1 2', '%'))
        .filter((s) => !TICKET_CURSOR.test(s));
      const arb = queryCases(`/performances/${fx.P}/tickets`, ADMIN, base, [
        setParam('state', badState),
        setParam('limit', badNumString(1, 1000)),
        setParam('cursor', badCursor),
        repeatParam(['state', 'limit', 'cursor'], fc.constantFrom('available', 'locked', '1', '5', '')),
      ]);
      await fuzz(106, 100, arb);
    });

    test('GET /people: missing, repeated or malformed email -> 400', async () => {
      const base = fc.constant<Pairs>([['email', fx.email]]);
      const arb = queryCases('/people', ADMIN, base, [
        dropParam('email'),
        setParam('email', badEmailString),
        repeatParam(['email'], fc.constantFrom(fx.email, 'ann@example.com')),
      ]);
      await fuzz(107, 80, arb);
    });
  });
});
