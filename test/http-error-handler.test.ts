// The error handler (src/http/errors.ts) on errors the service's own routes cannot be made to throw: what Express,
// its parsers or a dependency pass on with a `status` or `statusCode` of their own. A 4xx becomes 400 INVALID_REQUEST
// (413: PAYLOAD_TOO_LARGE); anything else is a 500 INTERNAL that is logged with its request id, message and stack.
import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../src/http/errors';
import { requestId } from '../src/http/middleware';
import { createLogger } from '../src/logger';
import { expectError } from './support/app';

/** Errors as a route or a dependency throws them, by name. */
const THROWN: Record<string, () => unknown> = {
  statusOnly400: () => Object.assign(new Error('bad path'), { status: 400 }),
  statusCodeOnly404: () => Object.assign(new Error('not here'), { statusCode: 404 }),
  status413: () => Object.assign(new Error('too big'), { status: 413 }),
  status499: () => Object.assign(new Error('client gone'), { status: 499 }),
  status399: () => Object.assign(new Error('odd'), { status: 399 }),
  status302: () => Object.assign(new Error('moved'), { status: 302 }),
  status500: () => Object.assign(new Error('dependency broke'), { status: 500 }),
  statusCode503: () => Object.assign(new Error('upstream down'), { statusCode: 503 }),
  plain: () => new Error('boom'),
  text: () => 'a thrown string',
};

function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = express();
  app.use(requestId);
  app.get('/throw/:name', (req) => {
    throw THROWN[String(req.params.name)]!();
  });
  app.use(errorHandler(createLogger('error', sink)));
  return { app, lines };
}

const sentence = expect.stringMatching(/^[A-Z].*\S/);

describe('errors that carry a 4xx status of their own', () => {
  const { app, lines } = appWithLog();

  test.each(['statusOnly400', 'statusCodeOnly404', 'status499'])('%s -> 400 INVALID_REQUEST, not logged', async (name) => {
    const res = await request(app).get(`/throw/${name}`);
    expect(expectError(res, 400, 'INVALID_REQUEST').message).toEqual(sentence);
    expect(lines.filter((l) => l.request_id === res.headers['x-request-id'])).toEqual([]);
  });

  test('413 -> 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(app).get('/throw/status413');
    expect(expectError(res, 413, 'PAYLOAD_TOO_LARGE').message).toEqual(sentence);
  });
});

describe('any other error', () => {
  const { app, lines } = appWithLog();

  test.each(['status399', 'status302', 'status500', 'statusCode503', 'plain', 'text'])(
    '%s -> 500 INTERNAL',
    async (name) => {
      const res = await request(app).get(`/throw/${name}`);
      expect(expectError(res, 500, 'INTERNAL').message).toEqual(sentence);
    },
  );

  test('is logged at error with the request id, the message and the stack', async () => {
    const res = await request(app).get('/throw/status500').set('X-Request-Id', 'req-logged-500');
    expectError(res, 500, 'INTERNAL');
    expect(res.headers['x-request-id']).toBe('req-logged-500');
    expect(lines.filter((l) => l.request_id === 'req-logged-500')).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'unhandled error',
        error: 'dependency broke',
        stack: expect.stringContaining('Error: dependency broke'),
      }),
    ]);
  });
});
