// A private redis-server child process, for `npm start` without REDIS_URL and for the test suite.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { StartupError } from '../startup-error';

export interface EmbeddedRedis {
  url: string;
  port: number;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * redis-server children not yet stopped. Should this process exit without stopping one (process.exit on an error
 * path, a signal before the service was up, an uncaught exception), it is sent SIGTERM on the way out: a private
 * Redis never outlives its node process and keeps answering on its port.
 */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** How many free ports startOnFreePort tries when each is taken before its server binds it. */
export const PORT_ATTEMPTS = 5;

/**
 * Starts a server on `given`, or else on a free loopback port. A port found free can be taken before the server
 * binds it (by any process's outgoing connection: they share the ephemeral range), so a start that fails with
 * "Address already in use" is made again on another free port, up to PORT_ATTEMPTS ports. A given port is tried
 * once. `choosePort` is for tests (they hand out taken ports).
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, given?: number, choosePort: () => Promise<number> = freePort): Promise<T> {
  if (given !== undefined) return start(given);
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await choosePort());
    } catch (err) {
      if (attempt >= PORT_ATTEMPTS || !/address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

/**
 * Starts redis-server on a free loopback port (or on `port`; startOnFreePort) with AOF on and its data in `dir`;
 * resolves once it answers PING. Options as production wants them: noeviction, appendfsync everysec.
 */
export async function startRedisServer(bin: string, dir: string, port?: number, choosePort = freePort): Promise<EmbeddedRedis> {
  fs.mkdirSync(dir, { recursive: true });
  return startOnFreePort((chosen) => startOnPort(bin, dir, chosen), port, choosePort);
}

async function startOnPort(bin: string, dir: string, chosen: number): Promise<EmbeddedRedis> {
  const args = [
    '--port', String(chosen), '--bind', '127.0.0.1', '--dir', path.resolve(dir),
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
  ];
  // redis-server logs to stdout (no logfile): kept, so a failed start says why (e.g. the port was taken)
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + String(d)).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const spawnError = new Promise<Error>((resolve) =>
    child.once('error', (err) => {
      running.delete(child);
      resolve(err);
    }),
  );
  for (let waited = 0; waited < 10_000; waited += 50) {
    const early = await Promise.race([
      spawnError,
      exited.then((code) => new Error(`redis-server exited with code ${code}: ${output.trim()}`)),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (early instanceof Error) {
      if ((early as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StartupError(
          `redis-server was not found on PATH (${bin}). Install it (apt-get install -y redis-server) or set REDIS_URL.`,
        );
      }
      throw early;
    }
    if (await ping(chosen)) {
      return {
        url: `redis://127.0.0.1:${chosen}`,
        port: chosen,
        pid: child.pid ?? 0,
        dir,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await exited; // resolve only once it is gone: the port is free and nothing answers on it
          }
        },
      };
    }
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer within 10 s');
}
