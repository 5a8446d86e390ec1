// A real HTTP server in front of a tixlock, as a load balancer would be: per request it forwards, answers for
// itself (a 503 with Retry-After), forwards but loses the answer, or never answers. It records what it was sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type GateAction =
  | 'forward'
  /** forwards, waits for tixlock's whole answer, then answers 503 instead: the work was done, the answer lost */
  | 'lose-answer'
  /** reads the request and never answers */
  | 'hang'
  | { status: number; headers?: Record<string, string>; body?: unknown };

export interface GateRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** performance.now() when it arrived */
  at: number;
}

export interface HttpGate {
  url: string;
  /** every request so far, in arrival order */
  requests: GateRequest[];
  close(): Promise<void>;
}

/** The answer a 503 of tixlock's own looks like (API.md's error shape). */
export function unavailable(retryAfter: string | undefined): GateAction {
  return {
    status: 503,
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
    body: { status: 'ERROR', error: { code: 'UNAVAILABLE', message: 'A backing service is unavailable; retry shortly.', request_id: 'gate' } },
  };
}

export async function startHttpGate(upstream: string, plan: (req: GateRequest, index: number) => GateAction): Promise<HttpGate> {
  const target = new URL(upstream);
  const requests: GateRequest[] = [];
  const server = http.createServer((req, res) => {
    const seen: GateRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: performance.now() };
    const action = plan(seen, requests.length);
    requests.push(seen);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (action === 'hang') return;
      if (typeof action === 'object') {
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        res.end(action.body === undefined ? undefined : JSON.stringify(action.body));
        return;
      }
      const forwarded = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          if (action === 'forward') {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            return;
          }
          answer.resume();
          answer.on('end', () => {
            const lost = unavailable('0') as Exclude<GateAction, string>;
            res.writeHead(lost.status, { 'content-type': 'application/json', ...lost.headers });
            res.end(JSON.stringify(lost.body));
          });
        },
      );
      forwarded.on('error', () => res.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
