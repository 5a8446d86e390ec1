// Generators of the HTTP fuzz suite (test/support/http-fuzz.ts): bad ids and their encodings in paths, JSON values
// and bodies made bad by mutation, credentials and headers.
import fc from 'fast-check';
import { KEYS } from './app';
import { ANY_4XX, ID_RE, ORDER_RE, UUID_RE, type Expect } from './http-fuzz';

// ---------------------------------------------------------------- generators: ids

const VALID_CHARS = 'ABCXYZabcxyz0189._:-'.split('');
const validChar = fc.constantFrom(...VALID_CHARS);
/** Characters that look like ones of the id alphabet (Cyrillic, Greek, fullwidth, Unicode dashes, Kelvin sign...). */
const LOOKALIKES: Record<string, string[]> = {
  a: ['\u0430', '\uff41', '\u0251'],
  c: ['\u0441'],
  e: ['\u0435', '\uff45'],
  o: ['\u043e', '\u03bf'],
  p: ['\u0440'],
  x: ['\u0445'],
  A: ['\u0410', '\u0391', '\uff21'],
  B: ['\u0412', '\u0392'],
  C: ['\u0421', '\uff23'],
  E: ['\u0415', '\u0395'],
  H: ['\u041d'],
  K: ['\u041a', '\u212a'],
  M: ['\u041c'],
  O: ['\u041e', '\u039f'],
  P: ['\u0420', '\u03a1'],
  T: ['\u0422', '\u03a4'],
  X: ['\u0425', '\u03a7'],
  '0': ['\uff10', '\u041e'],
  '1': ['\uff11', '\u0661'],
  '2': ['\uff12'],
  '3': ['\uff13', '\u0417'],
  '4': ['\uff14'],
  '5': ['\uff15'],
  '6': ['\uff16'],
  '7': ['\uff17'],
  '9': ['\uff19'],
  '-': ['\u2010', '\u2011', '\u2013', '\u2212', '\uff0d'],
  '.': ['\uff0e', '\u3002'],
  ':': ['\uff1a', '\u2236'],
  _: ['\uff3f'],
};
const ALL_LOOKALIKES = Object.values(LOOKALIKES).flat();
const BAD_ASCII = [...' !"#$%&\'()*+,/;<=>?@[\\]^`{|}~', '\t', '\n', '\r', '\u0000', '\u001f', '\u007f'];
const BAD_UNICODE = ['\u00a0', '\u200b', '\u200d', '\ufeff', '\u0301', '\u00e9', '\u00df', '\u0130', '\u0131', '\u017f', '\u2028', '\u4e2d', '\u03a9', '\ud83c\udf9f', '\ud83d\ude00'];
const badChar = fc.oneof(
  fc.constantFrom(...BAD_ASCII, ...BAD_UNICODE, ...ALL_LOOKALIKES),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((ch) => !/^[A-Za-z0-9._:-]$/.test(ch)),
);

/** An id like a real one with one character swapped for a look-alike (or a fullwidth one appended). */
const lookalikeOf = (ids: readonly string[]) =>
  fc.tuple(fc.constantFrom(...ids), fc.nat(), fc.nat()).map(([id, at, pick]) => {
    const chars = [...id];
    const positions = chars.map((ch, i) => (LOOKALIKES[ch] ? i : -1)).filter((i) => i >= 0);
    if (positions.length === 0) return `${id}\uff21`;
    const i = positions[at % positions.length] as number;
    const options = LOOKALIKES[chars[i] as string] as string[];
    chars[i] = options[pick % options.length] as string;
    return chars.join('');
  });

/** Strings that are not 1-128 characters of [A-Za-z0-9._:-] (never empty). */
export const badId = (realIds: readonly string[]) =>
  fc
    .oneof(
      fc
        .tuple(fc.array(validChar, { maxLength: 24 }), fc.array(fc.tuple(badChar, fc.nat()), { minLength: 1, maxLength: 3 }))
        .map(([chars, bads]) => {
          const out = [...chars];
          for (const [ch, at] of bads) out.splice(at % (out.length + 1), 0, ch);
          return out.join('');
        }),
      fc.integer({ min: 129, max: 400 }).chain((n) => fc.string({ unit: validChar, minLength: n, maxLength: n })),
      lookalikeOf(realIds),
      fc.constantFrom('{id}', '*', '${id}', '../etc', 'a b', '%', '%00', '\u0000', 'NULL\u0000', 'a/b', '?', '#', '\\'),
    )
    .filter((s) => s.length > 0 && !ID_RE.test(s));

/** Strings that are not transaction ids (UUIDs), many of them close to a real one. */
export const badTxId = (realTx: readonly string[], realIds: readonly string[]) =>
  fc
    .oneof(
      badId(realIds),
      fc.string({ unit: validChar, minLength: 1, maxLength: 40 }),
      fc.tuple(fc.constantFrom(...realTx), fc.nat(), fc.constantFrom(...ALL_LOOKALIKES, 'g', 'z', '')).map(([id, at, ch]) => {
        const i = at % id.length;
        return id.slice(0, i) + ch + id.slice(i + 1);
      }),
      fc.constantFrom(...realTx).chain((id) =>
        fc.constantFrom(`{${id}}`, `urn:uuid:${id}`, id.replace(/-/g, ''), `${id}0`, id.slice(1), `${id}-`, id.replace(/-/g, '\u2010')),
      ),
    )
    .filter((s) => s.length > 0 && !UUID_RE.test(s));

/** Strings that are not order numbers ([A-Z0-9]{1,12}). */
export const badOrderNumber = (order: string, realIds: readonly string[]) =>
  fc
    .oneof(
      badId(realIds),
      fc.constantFrom(order.toLowerCase(), `${order}AB`.padEnd(13, 'A'), `${order.slice(0, 4)}-${order.slice(4)}`, ` ${order}`),
      lookalikeOf([order]),
      fc.string({ unit: fc.constantFrom(...'ABCDEFGHJK0123456789'), minLength: 13, maxLength: 30 }),
    )
    .filter((s) => s.length > 0 && !ORDER_RE.test(s));

/** Percent-encodings a router cannot decode. */
const MALFORMED_PERCENT = ['%', '%%', '%zz', '%G0', 'abc%2', '%E0%A4%A', '%C0%AF', '%C0%80', '%ED%A0%80', '%F4%90%80%80', '%FF', '%80', 'ok%', '%u0041'];

type Encoding = 'component' | 'every-byte' | 'raw-ascii' | 'double';
export const encodings = fc.constantFrom<Encoding>('component', 'every-byte', 'raw-ascii', 'double');

/** A path segment that the router decodes back to exactly `s` (or, 'double', to a string that still contains '%'). */
export function encodeSegment(s: string, how: Encoding, lowerHex: boolean): string {
  const hex = (b: number) => {
    const h = b.toString(16).padStart(2, '0');
    return `%${lowerHex ? h : h.toUpperCase()}`;
  };
  switch (how) {
    case 'component':
      return encodeURIComponent(s);
    case 'every-byte':
      return [...Buffer.from(s, 'utf8')].map(hex).join('');
    case 'raw-ascii':
      return [...s].map((ch) => (/^[\x21-\x7e]$/.test(ch) && !'/?#%'.includes(ch) ? ch : encodeURIComponent(ch))).join('');
    case 'double':
      return encodeURIComponent(encodeURIComponent(s));
  }
}

/** A generated bad id as a path segment: well-formed encodings of it, or a malformed percent sequence. */
export const badSegment = (ids: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.tuple(ids, encodings, fc.boolean()).map(([s, how, lower]) => ({ seg: encodeSegment(s, how, lower), malformed: false })) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_PERCENT).map((seg) => ({ seg, malformed: true })) },
  );

// ---------------------------------------------------------------- generators: JSON values

/** A number literal written into the JSON text as is (1e400, -0, 1.5...), which JSON.stringify cannot produce. */
export const RAW = (text: string) => `\u0000RAW:${text}\u0000`;

/** JSON text of value; RAW literals unquoted; extra `"key":value` members appended (a duplicate key wins). */
export function jsonText(value: unknown, extra: readonly string[] = []): string {
  const text = JSON.stringify(value).replace(/"\\u0000RAW:([^"\\]*)\\u0000"/g, '$1');
  if (extra.length === 0 || !text.startsWith('{')) return text;
  return `${text.slice(0, -1)}${text === '{}' ? '' : ','}${extra.join(',')}}`;
}

/** Sets an own enumerable property, so "__proto__" becomes a key of the JSON text rather than the prototype. */
export function own(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export const show = (v: unknown) => jsonText(v).slice(0, 60);

/** Not a whole number in [min, max]: wrong types, strings of numbers, fractions, 1e400, out of range. */
export function badNumber(min: number, max: number): fc.Arbitrary<unknown> {
  const literals = ['1.5', '0.1', '1e400', '-1e400', '2.5e0', '1e20', '9007199254740993', '-1', `${max + 1}`, `${max}.5`];
  if (min >= 1) literals.push('-0', '0', '1e-400', '0.0');
  return fc.oneof(
    fc.constantFrom<unknown>('1', '2', String(min), '', 'NaN', 'Infinity', '1e3', ' 1', '0x1', null, true, false, [], [1], {}, { value: 1 }),
    fc.string({ maxLength: 10 }),
    fc.constantFrom(...literals).map(RAW),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
  );
}

/** Not a ticket attribute (max 64, no '|' or control characters; with allowEmpty false also not empty). */
export const badAttribute = (allowEmpty: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('|', '\u0000', '\n', '\t', '\r', '\u001f', '\u007f'), fc.string({ maxLength: 10 }))
      .map(([a, b, c]) => a + b + c),
    fc.string({ minLength: 65, maxLength: 120 }),
    fc.constantFrom<unknown>(null, 5, true, [], {}, ['ORCH']),
    ...(allowEmpty ? [] : [fc.constant('')]),
  );

/** Not a trimmed non-empty text of at most max characters. */
export const badText = (max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>('', ' ', '   ', '\t\n', '\u00a0', null, 7, true, [], {}, ['x']),
    fc.integer({ min: max + 1, max: max + 50 }).map((n) => 'x'.repeat(n)),
  );

const BAD_EMAILS = ['', 'joe', 'joe@', '@example.com', 'joe@@example.com', 'j oe@example.com', '<joe@example.com>', 'joe@example.com ', 'joe@example.com,ann@example.com', `${'a'.repeat(250)}@example.com`];
export const badEmailString = fc.oneof(fc.constantFrom(...BAD_EMAILS), fc.string({ maxLength: 30 }).filter((s) => !s.includes('@')));
export const badEmail: fc.Arbitrary<unknown> = fc.oneof(badEmailString, fc.constantFrom<unknown>(null, 1, [], {}, ['joe@example.com']));

const KNOWN_KEYS = new Set([
  'tickets', 'performance_id', 'quantity', 'section', 'price_level', 'max_price', 'hold_seconds', 'buyer',
  'status', 'id', 'customer', 'payment_reference', 'name', 'starts_at', 'max_tickets_per_transaction',
]);
const noiseKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('Tickets', 'QUANTITY', 'quantity ', 'ticket', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', ''),
).filter((k) => !KNOWN_KEYS.has(k));

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Extra members that must not matter: unknown keys with any value, and __proto__/constructor/prototype. */
export const noise = (helpful: readonly Record<string, unknown>[]) =>
  fc.record({
    extra: fc.array(fc.tuple(noiseKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
    proto: fc.option(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.oneof(fc.constantFrom(...helpful), fc.jsonValue({ maxDepth: 2 })))),
  });
type Noise = { extra: [string, unknown][]; proto: [string, unknown] | null };

function addNoise(body: Record<string, unknown>, n: Noise): void {
  for (const [k, v] of n.extra) own(body, k, v);
  if (n.proto) {
    const [k, v] = n.proto;
    own(body, k, k === 'constructor' ? { prototype: v } : v);
  }
}

// ---------------------------------------------------------------- generators: bodies by mutation

/**
 * A mutation of a valid body. stage 0 (domain-level: unknown, locked or sold tickets...) runs first, stage 1
 * (schema-level) next and stage 2 (removing required members) last, so a later mutation never repairs an earlier
 * one. bad400: the body is then certain to be a 400 INVALID_REQUEST; otherwise any of 400/404/409.
 */
export interface Mutation {
  what: string;
  stage: 0 | 1 | 2;
  bad400: boolean;
  apply: (body: Record<string, unknown>, extra: string[]) => void;
}

export const set = (key: string, value: unknown, bad400 = true, stage: 0 | 1 = 1): Mutation => ({
  what: `${key}=${show(value)}`,
  stage,
  bad400,
  apply: (b) => {
    b[key] = value;
  },
});

/** The same key again at the end of the text with a bad value: JSON.parse keeps the last one. */
export const duplicateKey = (key: string, value: unknown): Mutation => ({
  what: `duplicate ${key}=${show(value)}`,
  stage: 1,
  bad400: true,
  apply: (_b, extra) => extra.push(`${JSON.stringify(key)}:${jsonText(value)}`),
});

/** Removes required members; the removed values may reappear under __proto__ / constructor.prototype / prototype. */
export const removeRequired = (keys: readonly string[], repair: Record<string, unknown>) =>
  fc.constantFrom('plain', ...PROTO_KEYS).map(
    (where): Mutation => ({
      what: `without ${keys.join('+')}${where === 'plain' ? '' : ` (offered under ${where})`}`,
      stage: 2,
      bad400: true,
      apply: (b) => {
        for (const k of keys) delete b[k];
        if (where === 'constructor') own(b, 'constructor', { prototype: repair });
        else if (where !== 'plain') own(b, where, repair);
      },
    }),
  );

interface BodyCase {
  text: string;
  bad400: boolean;
  what: string;
}

export function bodyCase(base: Record<string, unknown>, mutations: readonly Mutation[], n: Noise): BodyCase {
  const body = structuredClone(base);
  const extra: string[] = [];
  const ordered = [...mutations].sort((a, b) => a.stage - b.stage);
  for (const m of ordered) m.apply(body, extra);
  addNoise(body, n);
  return {
    text: jsonText(body, extra),
    bad400: mutations.some((m) => m.bad400),
    what: ordered.map((m) => m.what).join('; '),
  };
}

export const mutationsOf = (arbs: fc.Arbitrary<Mutation>[]) => fc.array(fc.oneof(...arbs), { minLength: 1, maxLength: 3 });

export function bodyExpect(bad400: boolean): Expect {
  return bad400 ? { status: 400, code: 'INVALID_REQUEST' } : { status: ANY_4XX };
}

// ---------------------------------------------------------------- generators: credentials and headers

export const printable = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const REAL_KEYS = Object.values(KEYS);

/** Near misses of real keys: one character off, cut, extended, case-changed, wrapped. */
const nearKey = fc.tuple(fc.constantFrom(...REAL_KEYS), fc.nat(), fc.constantFrom('x', 'X', '0', '-', '.', ':')).chain(([k, at, ch]) => {
  const i = at % k.length;
  return fc.constantFrom(k.slice(0, i) + ch + k.slice(i + 1), k.slice(0, -1), `${k}${ch}`, k.toUpperCase(), `"${k}"`, `<${k}>`, `${k},${k}`);
});

/** Whether the headers present a real key the way API.md says keys are presented. */
function presentsRealKey(h: Record<string, string>): boolean {
  const trim = (v: string | undefined) => v?.replace(/^[ \t]+|[ \t]+$/g, '');
  const bearer = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(trim(h.Authorization) ?? '')?.[1];
  return [bearer, trim(h['X-API-Key']), trim(h['X-ATHENA-Key'])].some((k) => k !== undefined && REAL_KEYS.includes(k));
}

export const garbageCredentials: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      Authorization: fc.oneof(
        printable(60),
        printable(60).map((s) => `Bearer ${s}`),
        nearKey.map((k) => `Bearer ${k}`),
        fc.constantFrom(...REAL_KEYS).chain((k) =>
          fc.constantFrom(k, `Basic ${Buffer.from(`alice:${k}`).toString('base64')}`, `Bearer ${k} ${k}`, `Bearer:${k}`, `Bearerr ${k}`, `Token ${k}`),
        ),
        fc.constantFrom('', 'Bearer', 'Bearer ', 'bearer  ', 'Basic', 'Bearer null', 'Bearer undefined'),
      ),
      'X-API-Key': fc.oneof(printable(40), nearKey, fc.constantFrom(...REAL_KEYS).map((k) => `Bearer ${k}`)),
      'X-ATHENA-Key': fc.oneof(printable(40), nearKey),
    },
    { requiredKeys: [] },
  )
  .map((h) => {
    // only the headers fc.record chose (printable ASCII: values Node accepts)
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
    return out;
  })
  .filter((h) => !presentsRealKey(h));

/** A client (non-admin) key in every accepted form. */
export const clientCredentials: fc.Arbitrary<Record<string, string>> = fc
  .tuple(fc.constantFrom(KEYS.alice, KEYS.bob), fc.nat())
  .map(([k, form]) => {
    const forms: Record<string, string>[] = [
      { Authorization: `Bearer ${k}` },
      { Authorization: `bearer ${k}` },
      { Authorization: `BEARER \t${k}  ` },
      { 'X-API-Key': k },
      { 'X-ATHENA-Key': k },
      { Authorization: 'Basic Zm9vOmJhcg==', 'X-API-Key': k },
    ];
    return forms[form % forms.length] as Record<string, string>;
  });

/** Optionally an X-Request-Id: sane ones must be echoed, others replaced. */
export const requestIdHeader: fc.Arbitrary<Record<string, string>> = fc.option(
  fc.oneof(printable(200), fc.string({ unit: validChar, minLength: 1, maxLength: 140 }), fc.constantFrom('', ' ', 'a b', '../x', '<script>')),
).map((v): Record<string, string> => (v === null ? {} : { 'X-Request-Id': v }));
