// One logical call over fetch: headers and key, the call's deadline, the attempts and the waits between them.
// Turns every failure into a TixlockError.
import { randomUUID } from 'node:crypto';
import { TixlockError, type ClientErrorCode, type TixlockErrorInit } from './errors';
import { parseRetryAfter, retryWait, type RetryPolicy } from './retry';
import type { ErrorCode } from './types';

export interface TransportSettings<Op extends string = string> extends RetryPolicy {
  /** e.g. https://tixlock.example/ or http://127.0.0.1:3000/api (a path prefix is kept) */
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  /** send an Idempotency-Key on the routes that honour one */
  idempotencyKeys: boolean;
  onAttempt: ((event: AttemptEvent<Op>) => void) | undefined;
}

/** Per-call settings; each overrides the client's. */
export interface CallOptions {
  /** cancels the call (the promise rejects with the signal's reason) */
  signal?: AbortSignal;
  /** the longest the whole call may take, retries and their waits included */
  timeoutMs?: number;
  /** attempts after the first (only calls that are safe to repeat are retried) */
  retries?: number;
  /**
   * The Idempotency-Key of a hold, checkout or complete: give your own (e.g. from your order id) to repeat a call
   * across restarts; by default a new UUID per call, kept across its retries.
   */
  idempotencyKey?: string;
  /** sent as X-Request-Id, to find the request in the service's logs */
  requestId?: string;
}

export interface Route<Op extends string = string> {
  /** the client method, for onAttempt */
  operation: Op;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** path and query, already encoded */
  path: string;
  body?: unknown;
  /** repeating it changes nothing (reads, an inventory upsert, a release) */
  idempotent: boolean;
  /** the server honours an Idempotency-Key on it (src/http/idempotency.ts): one is sent, and makes a retry safe */
  keyed: boolean;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** the parsed JSON body; undefined for HEAD */
  body: unknown;
}

/** One attempt of a call, for logging and metrics. */
export interface AttemptEvent<Op extends string = string> {
  operation: Op;
  method: string;
  path: string;
  /** 1 = the first */
  attempt: number;
  /** 0 = no answer */
  status: number;
  /** the error code of a failed attempt */
  code: ErrorCode | ClientErrorCode | undefined;
  /** from just before sending to the parsed body */
  ms: number;
  requestId: string | undefined;
  /** the answer was replayed for a repeated Idempotency-Key (Idempotent-Replayed) */
  replayed: boolean;
  /** what went wrong, for a failed attempt */
  error: string | undefined;
}

/** The reason our own deadline aborts a call with (a caller's signal has its own). */
const TIMED_OUT = Symbol('timed out');

export async function send<Op extends string>(settings: TransportSettings<Op>, route: Route<Op>, options: CallOptions = {}): Promise<Answer> {
  const key = route.keyed ? (options.idempotencyKey ?? (settings.idempotencyKeys ? randomUUID() : undefined)) : undefined;
  const safe = route.idempotent || key !== undefined;
  const policy: RetryPolicy = { ...settings, retries: options.retries ?? settings.retries };
  const timeoutMs = options.timeoutMs ?? settings.timeoutMs;
  const url = settings.baseUrl.replace(/\/+$/, '') + route.path;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (settings.apiKey !== undefined) headers.authorization = `Bearer ${settings.apiKey}`;
  if (route.body !== undefined) headers['content-type'] = 'application/json';
  if (key !== undefined) headers['idempotency-key'] = key;
  if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
  const payload = route.body === undefined ? undefined : JSON.stringify(route.body);

  options.signal?.throwIfAborted();
  const controller = new AbortController();
  const deadline = performance.now() + timeoutMs;
  const timer = setTimeout(() => controller.abort(TIMED_OUT), timeoutMs);
  const cancel = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', cancel, { once: true });
  const fail: Fail = (init) =>
    new TixlockError({ ...init, method: route.method, path: route.path, idempotencyKey: key });

  try {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      let answer: Answer;
      let error: TixlockError | undefined;
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(url, { method: route.method, headers, body: payload, signal: controller.signal });
        const text = route.method === 'HEAD' ? '' : await res.text();
        answer = { status: res.status, headers: res.headers, body: text === '' ? undefined : parseJson(text) };
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        error = answerError(answer, retryAfterMs, route.method, attempt, fail);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        const timedOut = controller.signal.reason === TIMED_OUT;
        answer = { status: 0, headers: new Headers(), body: undefined };
        error = fail({
          status: 0,
          code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
          message: timedOut ? `no answer within ${timeoutMs} ms` : networkMessage(err),
          attempts: attempt,
          cause: timedOut ? undefined : err, // (a timeout's is only our abort reason)
        });
      }
      settings.onAttempt?.({
        operation: route.operation,
        method: route.method,
        path: route.path,
        attempt,
        status: answer.status,
        code: error?.code,
        ms: performance.now() - started,
        requestId: answer.headers.get('x-request-id') ?? undefined,
        replayed: answer.headers.get('idempotent-replayed') === 'true',
        error: error?.message,
      });
      if (!error) return answer;

      const wait = retryWait(policy, attempt, { status: error.status, code: error.code, retryAfterMs }, safe);
      // a wait that ends past the deadline cannot lead to an answer in time: the caller gets this error now
      if (wait === undefined || performance.now() + wait >= deadline) throw error;
      await sleep(wait, controller.signal).catch(() => {
        if (options.signal?.aborted) throw options.signal.reason;
        throw error;
      });
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }
}

type Fail = (init: Omit<TixlockErrorInit, 'method' | 'path' | 'idempotencyKey'>) => TixlockError;

/** The error of an answer that is not a success, or of a success whose body is not the API's. */
function answerError(answer: Answer, retryAfterMs: number | undefined, method: string, attempts: number, fail: Fail): TixlockError | undefined {
  const requestId = answer.headers.get('x-request-id') ?? undefined;
  const retryAfter = retryAfterMs === undefined ? undefined : retryAfterMs / 1000;
  const base = { status: answer.status, retryAfter, requestId, attempts };
  if (answer.status >= 200 && answer.status < 300) {
    const ok = method === 'HEAD' || (isRecord(answer.body) && answer.body.status === 'OK');
    return ok ? undefined : fail({ ...base, code: 'INVALID_RESPONSE', message: "The answer is not the API's JSON." });
  }
  const body = isRecord(answer.body) && isRecord(answer.body.error) ? answer.body.error : undefined;
  if (body && typeof body.code === 'string') {
    const { code, message, request_id, ...details } = body;
    return fail({
      ...base,
      code: code as ErrorCode,
      message: typeof message === 'string' ? message : code,
      requestId: typeof request_id === 'string' ? request_id : requestId,
      details,
    });
  }
  return fail({ ...base, code: 'HTTP_ERROR', message: `HTTP ${answer.status} without an API error body` });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** fetch's TypeError says only "fetch failed"; the cause names the real trouble (ECONNREFUSED, ...). */
function networkMessage(err: unknown): string {
  const cause = (err as { cause?: { message?: unknown } })?.cause;
  const detail = typeof cause?.message === 'string' ? cause.message : (err as Error)?.message;
  return `no answer: ${detail ?? String(err)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
