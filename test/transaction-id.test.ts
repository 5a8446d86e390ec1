// Transaction ids carry their performance's code (src/domain/transaction-id.ts): pure functions, no Redis.
import { MAX_CODE, mintTransactionId, performanceCodeOf } from '../src/domain/transaction-id';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a minted id is a version 8 UUID whose first 32 bits are the code, for every code', () => {
  for (const code of [1, 2, 12, 255, 65_536, 1_000_000, MAX_CODE]) {
    const id = mintTransactionId(code);
    expect(id).toMatch(UUID_V8);
    expect(performanceCodeOf(id)).toBe(code);
    expect(performanceCodeOf(id.toUpperCase())).toBe(code);
  }
});

test('random ids differ; a seed gives the same id for the same code, another id for another seed or code', () => {
  const random = new Set(Array.from({ length: 1000 }, () => mintTransactionId(7)));
  expect(random.size).toBe(1000);
  expect(mintTransactionId(7, 'alice\nkey-1')).toBe(mintTransactionId(7, 'alice\nkey-1'));
  expect(mintTransactionId(7, 'alice\nkey-1')).not.toBe(mintTransactionId(7, 'alice\nkey-2'));
  expect(mintTransactionId(7, 'alice\nkey-1')).not.toBe(mintTransactionId(7, 'bob\nkey-1'));
  expect(performanceCodeOf(mintTransactionId(8, 'alice\nkey-1'))).toBe(8);
});

test('ids tixlock did not mint carry no code', () => {
  for (const id of ['', 'x', '00000000-0000-8000-8000-000000000000', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', '0000000c-dd16-8631-cb49-81ec7fd7bdc2', '0000000c-dd16-8631-bb49-81ec7fd7bdc2-']) {
    expect(performanceCodeOf(id)).toBeUndefined();
  }
});

test('codes outside 1..2^32-1 are refused', () => {
  for (const code of [0, -1, 1.5, MAX_CODE + 1, Number.NaN]) expect(() => mintTransactionId(code)).toThrow(new RangeError(`performance code out of range: ${code}`));
});
