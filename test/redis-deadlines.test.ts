// RedisDeadlines (pure): deadlines in Redis time from the offset the last reply showed.
import { RedisDeadlines } from '../src/redis/clock';

test('no deadline until a reply showed the Redis clock, and none with a zero budget', () => {
  const d = new RedisDeadlines(2000);
  expect(d.deadline()).toBe(0);
  const none = new RedisDeadlines(0);
  none.observe(Date.now());
  expect(none.deadline()).toBe(0);
});

test('¾ of the budget from now, in Redis time (a Redis clock 1 h ahead or behind)', () => {
  for (const skew of [3_600_000, -3_600_000, 0]) {
    const d = new RedisDeadlines(2000);
    d.observe(Date.now() + skew);
    const before = Date.now();
    const deadline = d.deadline();
    const after = Date.now();
    expect(deadline).toBeGreaterThanOrEqual(before + skew + 1500 - 1);
    expect(deadline).toBeLessThanOrEqual(after + skew + 1500 + 1);
  }
});
