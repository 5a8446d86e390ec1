// A small JSON client over node:http(s) with one keep-alive agent: cheap enough for hundreds of concurrent buyers.
import http from 'node:http';
import https from 'node:https';

export interface ApiResponse {
  /** HTTP status, or 0 when the request failed (connection error, timeout, unreadable body) */
  status: number;
  body: Record<string, unknown> | undefined;
  /** the error's `code` for an error body, 'NETWORK' for status 0 */
  code: string | undefined;
  /** from just before sending to the parsed body, in ms */
  ms: number;
  error?: string;
}

export interface ApiClient {
  request(method: string, path: string, key: string, body?: unknown): Promise<ApiResponse>;
  close(): void;
}

export function createApiClient(baseUrl: string, opts: { maxSockets: number; timeoutMs?: number }): ApiClient {
  const base = new URL(baseUrl);
  const secure = base.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets });
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const request = (method: string, path: string, key: string, body?: unknown) =>
    new Promise<ApiResponse>((resolve) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const started = performance.now();
      let settled = false;
      const finish = (r: Omit<ApiResponse, 'ms'>) => {
        if (settled) return;
        settled = true;
        resolve({ ...r, ms: performance.now() - started });
      };
      const fail = (err: Error) => finish({ status: 0, body: undefined, code: 'NETWORK', error: err.message });
      const headers: http.OutgoingHttpHeaders = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const req = transport.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port || undefined,
          path: prefix + path,
          method,
          headers,
          agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> | undefined;
            if (text.length > 0) {
              try {
                parsed = JSON.parse(text) as Record<string, unknown>;
              } catch {
                parsed = undefined;
              }
            }
            const error = parsed?.error as { code?: unknown } | undefined;
            finish({ status, body: parsed, code: typeof error?.code === 'string' ? error.code : undefined });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', fail);
      req.end(payload);
    });

  return { request, close: () => agent.destroy() };
}
