// HTTP fuzz (test/support/http-fuzz.ts): how a body is sent — wrong content types, charsets and encodings, bytes
// that are not JSON or not UTF-8, over-size bodies, and a bad Idempotency-Key header.
import zlib from 'node:zlib';
import fc from 'fast-check';
import {
  ADMIN,
  bodyTargets,
  fixedCases,
  fuzz,
  fx,
  JSON_TYPE,
  tk,
  useFuzzFixture,
  type Case,
} from './support/http-fuzz';
import { printable, requestIdHeader } from './support/http-fuzz-generators';

useFuzzFixture('http-fuzz-content');

describe('generated bad requests get a 4xx in the error shape and change nothing', () => {
  describe('content types, encodings and raw bytes', () => {
    test('wrong content types -> 415, non-JSON text -> 400, other charsets and encodings -> 415 or 400', async () => {
      const wrongType = fc
        .oneof(
          fc.constantFrom(
            'text/plain', 'text/json', 'text/html; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
            'application/xml', 'application/javascript', 'application/octet-stream', 'application/jsonp', 'application/json-patch+json',
            'application/merge-patch+json', 'application/ld+json', 'application/vnd.api+json', 'application/jsonx', 'x-application/json',
            '*/*', 'application/*', 'json', 'application', 'foo', '',
          ),
          printable(30).filter((s) => !/json/i.test(s)),
        )
        .map((type) => ({ type: type as string | undefined }));
      const noType = fc.constant({ type: undefined as string | undefined });
      const nonJson = fc.oneof(
        fc.constantFrom(
          '{', '{"tickets": [', "{'tickets':['x']}", '{tickets:["x"]}', 'NaN', 'Infinity', '{"a":NaN}', '{"a":1,}', '[1,]', '// c\n{}',
          '{"a":1} x', '{"a":1}{"b":2}', '42', '"tickets"', 'null', 'true', '{"a":"\\x41"}', '{"a":01}', '{"a":.5}', '{"a":+1}',
          '{"status":"checkout"', 'undefined', '<json/>', '{"a":1e}', '\u0000{}',
        ),
        fc.string({ maxLength: 40 }).filter((s) => {
          try {
            JSON.parse(s.replace(/^\ufeff/, ''));
            return s.trim() === ''; // whitespace only: not JSON either
          } catch {
            return true;
          }
        }),
      );
      const arb: fc.Arbitrary<Case> = fc.constantFrom(...bodyTargets()).chain((tgt) =>
        fc.oneof(
          fc.tuple(fc.oneof(wrongType, noType), fc.boolean()).map(([{ type }, chunked]): Case => ({
            what: `Content-Type ${JSON.stringify(type)}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...(type === undefined ? {} : { 'Content-Type': type }) }, body: JSON.stringify(tgt.body), chunked },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.constantFrom('latin1', 'iso-8859-1', 'ascii', 'us-ascii', 'windows-1252', 'koi8-r', 'foo', 'binary', 'utf-7', 'UTF-7', 'utf-16', 'utf-16le', 'utf-32', 'utf8', '"utf-7"', 'utf-8; charset=utf-7').map((charset): Case => ({
            what: `charset ${charset}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, 'Content-Type': `application/json; charset=${charset}` }, body: JSON.stringify(tgt.body) },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.tuple(nonJson, fc.boolean()).map(([text, chunked]): Case => ({
            what: 'not JSON',
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: text, chunked },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          })),
          fc.constant<Case>({
            what: 'empty body',
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: '' },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          }),
          fc.tuple(fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80]), fc.boolean()).map(([bytes, inId]): Case => {
            // invalid UTF-8 inside a string where only an id or a status may stand
            const [field, close] = tgt.path.startsWith('/performances')
              ? ['{"tickets":[{"id":"A', '"}]}']
              : 'status' in tgt.body
                ? ['{"status":"check', '"}']
                : ['{"tickets":["A', '"]}'];
            const raw = Buffer.concat([Buffer.from(inId ? field : '{"'), Buffer.from(bytes), Buffer.from(inId ? close : '":1}')]);
            return {
              what: `invalid UTF-8 ${bytes.join(',')}`,
              req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE }, body: raw },
              expect: { status: 400, code: 'INVALID_REQUEST' },
            };
          }),
          fc.constantFrom('foo', 'compress', 'x-gzip', 'gzip, deflate', 'identity, gzip', 'zip').map((encoding): Case => ({
            what: `Content-Encoding ${encoding}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': encoding }, body: JSON.stringify(tgt.body) },
            expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
          })),
          fc.tuple(fc.constantFrom('gzip', 'deflate', 'br'), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([encoding, bytes]): Case => ({
            what: `Content-Encoding ${encoding} over bytes that are not ${encoding}`,
            req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': encoding }, body: Buffer.concat([Buffer.from('{"'), Buffer.from(bytes)]) },
            expect: { status: 400, code: 'INVALID_REQUEST' },
          })),
        ),
      );
      await fuzz(111, 200, arb);
    });

    test('over-size bodies -> 413 (transaction routes over 64 KiB, inventory over 8 MiB; gzip that inflates past it too)', async () => {
      const LIMIT = 64 * 1024;
      const padded = (body: Record<string, unknown>, size: number) => {
        const text = JSON.stringify({ ...body, pad: '' });
        return `${text.slice(0, -2)}${'x'.repeat(Math.max(0, size - text.length))}"}`;
      };
      const targets = bodyTargets().filter((x) => !x.path.startsWith('/performances'));
      const arb = fc
        .tuple(fc.constantFrom(...targets), fc.integer({ min: LIMIT + 1, max: 4 * LIMIT }), fc.boolean(), fc.constantFrom('json', 'json', 'gzip', 'no-key', 'text'))
        .map(([tgt, size, chunked, variant]): Case => {
          const text = padded(tgt.body, size);
          const base = { method: tgt.method, path: tgt.path, chunked };
          switch (variant) {
            case 'gzip':
              return { what: `gzip inflating to ${size} bytes`, req: { ...base, headers: { ...tgt.key, ...JSON_TYPE, 'Content-Encoding': 'gzip' }, body: zlib.gzipSync(text) }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } };
            case 'no-key':
              return { what: `${size} bytes without a key`, req: { ...base, headers: JSON_TYPE, body: text }, expect: { status: 401, code: 'UNAUTHENTICATED' } };
            case 'text':
              return { what: `${size} bytes of text/plain`, req: { ...base, headers: { ...tgt.key, 'Content-Type': 'text/plain' }, body: text }, expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' } };
            default:
              return { what: `${size} bytes of JSON`, req: { ...base, headers: { ...tgt.key, ...JSON_TYPE }, body: text }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } };
          }
        });
      await fuzz(112, 12, arb);

      // the inventory route: over 8 MiB, and over 50,000 tickets in a body it does accept
      const big = padded({ tickets: [{ id: tk(6), price: 1 }] }, 8 * 1024 * 1024 + 1);
      const many = JSON.stringify({ tickets: Array.from({ length: 50_001 }, (_, i) => ({ id: `fz-many-${i}` })) });
      await fixedCases([
        { what: 'inventory over 8 MiB', req: { method: 'PUT', path: `/performances/${fx.P}`, headers: { ...ADMIN, ...JSON_TYPE }, body: big }, expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' } },
        { what: 'inventory of 50,001 tickets', req: { method: 'PUT', path: '/performances/fz-many', headers: { ...ADMIN, ...JSON_TYPE }, body: many }, expect: { status: 400, code: 'INVALID_REQUEST' } },
      ]);
    });
  });

  test('a bad Idempotency-Key -> 400 before anything is held or remembered', async () => {
    const visible = fc.constantFrom(...'abcXYZ0189-_.:!~'.split(''));
    const badKey = fc.oneof(
      fc.constantFrom('', ' ', 'a b', 'key\twith-tab', 'caf\u00e9', '\u00ff\u00fe'),
      fc.string({ unit: visible, minLength: 256, maxLength: 400 }),
      fc.tuple(fc.string({ unit: visible, minLength: 1, maxLength: 10 }), fc.string({ unit: visible, minLength: 1, maxLength: 10 })).map(([a, b]) => `${a} ${b}`),
    );
    const targets = bodyTargets().filter((x) => !x.path.startsWith('/performances'));
    const arb = fc.tuple(fc.constantFrom(...targets), badKey, requestIdHeader).map(([tgt, key, rid]): Case => ({
      what: `Idempotency-Key ${JSON.stringify(key)}`,
      req: { method: tgt.method, path: tgt.path, headers: { ...tgt.key, ...JSON_TYPE, ...rid, 'Idempotency-Key': key }, body: JSON.stringify(tgt.body) },
      expect: { status: 400, code: 'INVALID_REQUEST', issue: 'Idempotency-Key' },
    }));
    await fuzz(115, 40, arb);
  });
});
