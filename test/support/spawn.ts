// Child processes of the tixlock CLI for the tests (`node -r test/support/swc-register.js src/cli.ts <command>`,
// no build needed), and a bounded poll.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(REPO, 'test', 'support', 'swc-register.js');
const CLI = path.join(REPO, 'src', 'cli.ts');

export interface CliProcess {
  child: ChildProcess;
  /** everything written so far */
  stdout(): string;
  stderr(): string;
  /** resolves when the process has exited (never rejects) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL unless already gone; resolves when it has exited */
  kill(): Promise<void>;
}

/**
 * Starts `tixlock <args>` with exactly `env` (plus PATH and HOME): nothing of the test process's own
 * configuration leaks into the child.
 */
export function spawnCli(args: string[], env: Record<string, string>, preload: string[] = []): CliProcess {
  // preload: modules run before the CLI (test/support/faults/: faults wrapped around a dependency)
  return spawnProcess(process.execPath, ['-r', REGISTER, ...preload.flatMap((m) => ['-r', m]), CLI, ...args], { cwd: REPO, env });
}

/** Starts any command with exactly `env` (plus PATH and HOME), its output collected. */
export function spawnProcess(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; detached?: boolean },
): CliProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (err += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: async () => {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a one-shot CLI command to its end, bounded by timeoutMs (then killed). */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 20_000) {
  const proc = spawnCli(args, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  return { code, signal, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** What the start-up banner of `tixlock api` / `tixlock all` (src/banner.ts) says, e.g. with PORT=0. */
export interface Banner {
  /** where the API listens, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** the first line after the URL, e.g. " (2 API workers)" or "" */
  notes: string;
  /** METRICS_PORT's port as bound, when the banner names one */
  metricsPort: number | undefined;
}

/**
 * Waits for the whole start-up banner and reads it. Fails at once when the process exits first, and after timeoutMs
 * otherwise; either way with the process's output, so a failed start says why (a 60 s poll of a port nobody
 * listens on said only "timed out").
 */
export async function waitForBanner(proc: CliProcess, timeoutMs: number): Promise<Banner> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = proc.stdout();
    const first = /^tixlock api listening on (http:\/\/\S+:(\d+))(.*)$/m.exec(out);
    // "document store:" is the banner's last line but the dev keys': the banner is complete once it is there
    if (first && /^ {2}document store: /m.test(out)) {
      const metrics = /^ {2}metrics: http:\/\/\S+:(\d+)\/metrics /m.exec(out);
      return { url: first[1] as string, port: Number(first[2]), notes: first[3] as string, metricsPort: metrics ? Number(metrics[1]) : undefined };
    }
    const gone = proc.child.exitCode !== null || proc.child.signalCode !== null;
    if (gone || Date.now() >= deadline) {
      const how = gone ? `exited (${proc.child.exitCode ?? proc.child.signalCode}) before its banner` : `printed no banner within ${timeoutMs} ms`;
      throw new Error(`tixlock ${how}; stdout: ${proc.stdout().slice(-2000)} stderr: ${proc.stderr().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `probe` until it returns something other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `: last error ${(lastError as Error).message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves with the exit of a process, or rejects after timeoutMs (the process is left running). */
export function exitWithin(proc: CliProcess, timeoutMs: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    proc.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not exit within ${timeoutMs} ms; stderr: ${proc.stderr().slice(-2000)}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One request on a connection of its own (no keep-alive), so the cluster hands each to the next worker. */
export function httpCall(port: number, method: string, url: string, key?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: url,
        agent: false,
        headers: {
          ...(key ? { Authorization: `Bearer ${key}` } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
