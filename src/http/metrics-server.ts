// METRICS_PORT: GET /metrics without a key, on a port of its own (meant for an internal network); nothing else.
import http from 'node:http';

export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

export async function startMetricsServer(host: string, port: number, source: MetricsSource): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Only GET /metrics is served on this port.\n');
      return;
    }
    source.render().then(
      (body) => res.writeHead(200, { 'Content-Type': source.contentType }).end(body),
      (err: Error) => res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

/** Stops accepting and closes idle scrape connections. */
export function stopMetricsServer(server: http.Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
