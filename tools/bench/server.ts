// The servers the benchmark measures, each alone in a child process of its own: tixlock (startService: the API,
// no order writer, on a private redis-server) or the bare Express 5 baseline (a). Nothing of the benchmark's own
// bookkeeping (ticket lists, transaction pools) lives in a process it measures: a large live heap makes every
// major GC of the serving process slower (measured here: half a million live objects cut bare Express's
// requests/s by about 40%), which would skew the comparison.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startService } from '../../src/service';

/** tixlock: the API only, unless `writer` (the season scenario: the order writer in the same process, as `tixlock all`) */
export type ServerKind = { kind: 'tixlock'; env: Record<string, string>; writer?: boolean } | { kind: 'bare' };

type ToServer = { id: number; cmd: 'cpu' | 'stop' };
type FromServer =
  | { ready: true; port: number; redisUrl?: string }
  | { ready: false; error: string }
  | { id: number; cpuMicros?: number };

/**
 * The environment of a benchmark's tixlock child: production mode on a free loopback port, errors only, its data in
 * `dataDir`, one client and one admin key named after `name`; `extra` adds or overrides settings.
 */
export function tixlockEnv(dataDir: string, name: string, keys: { client: string; admin: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    DATA_DIR: dataDir,
    TIXLOCK_API_KEYS: `${name}:${keys.client}`,
    TIXLOCK_ADMIN_KEYS: `${name}-admin:${keys.admin}`,
    ...extra,
  };
}

/** The baseline (a): a bare Express 5 route that parses a small JSON body and answers JSON. */
export async function startBareExpress(): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = express();
  app.post('/bare', express.json(), (req, res) => {
    res.json({ status: 'OK', received: req.body as unknown });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The parent's handle on a server child. */
export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: FromServer) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** the private redis-server of a tixlock child */
    readonly redisUrl: string | undefined,
  ) {
    child.on('message', (msg: FromServer) => {
      if ('id' in msg) {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forks a server child and waits until it listens. execArgv: as for LoadClient.start. */
  static async start(server: ServerKind, execArgv: string[] = []): Promise<ServerProcess> {
    const module = path.join(__dirname, `server${path.extname(__filename)}`);
    const child = fork(module, [JSON.stringify(server)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const first = await new Promise<FromServer>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before it listened`)));
    });
    if (!('ready' in first) || !first.ready) {
      child.kill('SIGKILL');
      throw new Error(`bench server failed: ${'error' in first ? first.error : 'unexpected message'}`);
    }
    return new ServerProcess(child, first.port, first.redisUrl);
  }

  private ask(cmd: 'cpu'): Promise<FromServer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, resolve);
      this.child.send({ id, cmd } satisfies ToServer, (err) => err && reject(err));
    });
  }

  /** CPU time (user + system, µs) the server process has used so far. */
  async cpuMicros(): Promise<number> {
    const reply = await this.ask('cpu');
    return 'cpuMicros' in reply ? (reply.cpuMicros ?? 0) : 0;
  }

  /** Stops the server (a tixlock child stops its redis-server too) and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    this.child.send({ id: 0, cmd: 'stop' } satisfies ToServer, () => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

// As the child: start the server named in argv[2], answer the parent's questions, stop when told (or orphaned).
if (require.main === module) {
  const server = JSON.parse(process.argv[2] ?? '{}') as ServerKind;
  const send = (msg: FromServer) => process.send?.(msg);
  const started =
    server.kind === 'tixlock'
      ? startService(loadConfig(server.env), createLogger('error'), { api: true, writer: server.writer ?? false }).then((s) => ({
          port: s.port,
          redisUrl: s.embedded?.url,
          stop: () => s.stop(),
        }))
      : startBareExpress().then((s) => ({ port: s.port, redisUrl: undefined, stop: s.stop }));
  started.then(
    (s) => {
      let stopping: Promise<void> | undefined;
      const stop = () => (stopping ??= s.stop().finally(() => process.exit(0)));
      process.on('message', (msg: ToServer) => {
        if (msg.cmd === 'cpu') {
          const used = process.cpuUsage();
          send({ id: msg.id, cpuMicros: used.user + used.system });
        } else if (msg.cmd === 'stop') {
          void stop();
        }
      });
      process.on('disconnect', () => void stop());
      send({ ready: true, port: s.port, redisUrl: s.redisUrl });
    },
    (err: unknown) => {
      send({ ready: false, error: String((err as Error)?.stack ?? err) });
      process.exit(1);
    },
  );
}
