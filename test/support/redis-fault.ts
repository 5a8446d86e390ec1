// A private redis-server (AOF on, in a temp directory, on its own port) that a test may pause (SIGSTOP), resume,
// SIGKILL and restart on the same port from its AOF: Redis outages without touching the shared test Redis.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startRedisServer, type EmbeddedRedis } from '../../src/redis/embedded';
import { waitFor } from './spawn';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface FaultyRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** pid of the running redis-server */
  pid(): number;
  /** SIGSTOP: the server keeps its sockets open and answers nothing; resolves once it is stopped */
  pause(): Promise<void>;
  /** SIGCONT */
  resume(): void;
  /** SIGKILL; resolves once the port is closed */
  kill(): Promise<void>;
  /** a new redis-server on the same port and directory (it loads the AOF); resolves once it answers PING */
  restart(): Promise<void>;
  /** resume if paused, stop, remove the directory; safe to call twice */
  stop(): Promise<void>;
}

export const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** The state letter of /proc/<pid>/stat (R running, S sleeping, T stopped); 'T' where /proc is missing. */
function processState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'T';
  }
}

/** Resolves once probe() is true; fails naming `what` after timeoutMs. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await waitFor(what, async () => (await probe()) || undefined, { timeoutMs, intervalMs: 20 });
}

export async function startFaultyRedis(prefix = 'tixlock-fault-redis-'): Promise<FaultyRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let server: EmbeddedRedis = await startRedisServer(BIN, dir);
  let paused = false;
  let stopped = false;
  // a last resort if the jest worker exits without running afterAll: never leave a (stopped) redis-server behind
  const onExit = () => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);

  return {
    url: server.url,
    port: server.port,
    dir,
    pid: () => server.pid,
    pause: async () => {
      process.kill(server.pid, 'SIGSTOP');
      paused = true;
      await until('the redis-server to stop', async () => processState(server.pid) === 'T', 2000);
    },
    resume: () => {
      process.kill(server.pid, 'SIGCONT');
      paused = false;
    },
    kill: async () => {
      if (paused) {
        process.kill(server.pid, 'SIGCONT');
        paused = false;
      }
      process.kill(server.pid, 'SIGKILL');
      await until('the killed redis-server to close its port', async () => !(await portOpen(server.port)), 5000);
    },
    restart: async () => {
      server = await startRedisServer(BIN, dir, server.port);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      if (paused) {
        try {
          process.kill(server.pid, 'SIGCONT');
        } catch {
          // already gone
        }
        paused = false;
      }
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fsync policy a running redis-server uses ('always', 'everysec' or 'no'). */
export async function appendfsyncOf(redis: { call(...args: string[]): Promise<unknown> }): Promise<string> {
  const reply = (await redis.call('CONFIG', 'GET', 'appendfsync')) as string[];
  return reply[1] as string;
}

/**
 * Resolves once Redis has write()n its whole AOF buffer to the kernel (INFO persistence aof_buffer_length:0).
 * With appendfsync everysec Redis replies before the fsync, and while a background fsync is still running it
 * postpones even the write() (up to 2 s) yet goes on replying: until this resolves, a SIGKILL of redis-server
 * alone can lose acknowledged writes. After it, only an OS crash or power loss can (the fsync may still be due).
 */
export async function aofBufferWritten(redis: { info(section: string): Promise<string> }, timeoutMs = 10_000): Promise<void> {
  await until(
    'Redis to write its AOF buffer to the kernel',
    async () => /^aof_buffer_length:0\r?$/m.test(await redis.info('persistence')),
    timeoutMs,
  );
}
