// /readyz against a Redis that stops answering without closing its connections (SIGSTOP): the readiness check gives
// up after a second of its own and answers 503 with the failing check named, even when Redis commands may wait far
// longer (REDIS_COMMAND_TIMEOUT_MS here: a minute); once Redis answers again, /readyz is 200.
import request from 'supertest';
import { as, expectError, KEYS, startTestApp } from './support/app';
import { sample } from './support/metrics-text';
import { startFaultyRedis } from './support/redis-fault';

test('a Redis that hangs makes /readyz a 503 naming it, without waiting for the command timeout', async () => {
  const redis = await startFaultyRedis();
  const t = await startTestApp({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '60000' });
  try {
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'OK', checks: { redis: 'ok', document_store: 'ok' } });

    await redis.pause();
    const hung = await request(t.app).get('/readyz');
    const error = expectError(hung, 503, 'UNAVAILABLE');
    expect(error.message).toMatch(/^Not ready/);
    expect(error.checks).toEqual({ redis: 'unavailable', document_store: 'ok' });
    expect(hung.headers['retry-after']).toBe('1');
    // counted as a 503 of its own cause (not one of Redis's: no request reached Redis)
    const scraped = await request(t.app).get('/metrics').set(as(KEYS.admin));
    expect(sample(scraped.text, 'tixlock_unavailable_total', { cause: 'unavailable' })).toBe(1);
    expect(sample(scraped.text, 'tixlock_unavailable_total', { cause: 'unavailable_redis' })).toBe(0);

    redis.resume();
    const back = await request(t.app).get('/readyz');
    expect(back.status).toBe(200);
    expect(back.body.checks).toEqual({ redis: 'ok', document_store: 'ok' });
  } finally {
    redis.resume(); // (a no-op unless a failed expectation left it paused) so that the client closes
    await t.close().catch(() => undefined);
    await redis.stop();
  }
});
