// ImmutableCache (src/redis/lock-store.ts): bounded, keeps the newest entries, forgets the oldest generation whole.
import { ImmutableCache } from '../src/redis/lock-store';

test('keeps at most max entries, the newest ones', () => {
  const cache = new ImmutableCache(10);
  for (let i = 0; i < 100; i++) cache.set(`k${i}`, `v${i}`);
  const kept = Array.from({ length: 100 }, (_, i) => cache.get(`k${i}`)).filter((v) => v !== undefined);
  expect(kept.length).toBeLessThanOrEqual(10);
  expect(kept.length).toBeGreaterThanOrEqual(5);
  expect(cache.get('k99')).toBe('v99');
  expect(cache.get('k0')).toBeUndefined();
});

test('an entry set once is found until two generations have passed', () => {
  const cache = new ImmutableCache(4);
  cache.set('a', '1');
  cache.set('b', '2');
  cache.set('c', '3'); // a and b move to the old generation
  expect(cache.get('a')).toBe('1');
  cache.set('d', '4');
  cache.set('e', '5'); // a and b are dropped
  expect(cache.get('a')).toBeUndefined();
  expect(cache.get('c')).toBe('3');
});
