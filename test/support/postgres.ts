// A private PostgreSQL server for the tests: initdb into a temporary directory, `postgres` in the foreground on a
// free loopback port. initdb/postgres refuse to run as root, so as root both run as the `postgres` user.
// The global setup starts one for the whole run (TIXLOCK_TEST_POSTGRES_URL); a test that needs to stop and restart
// PostgreSQL mid-run starts its own with startPostgres() and calls stop() / start() on it (same data dir and port).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startOnFreePort } from '../../src/redis/embedded';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** the temporary directory holding data/ and the socket directory */
  readonly dir: string;
  /** is the server running (as far as this handle knows) */
  running(): boolean;
  /** fast shutdown (SIGINT); resolves when the server has exited */
  stop(): Promise<void>;
  /** starts the server again on the same data directory and port; resolves when it accepts connections */
  start(): Promise<void>;
  /** stop() and remove the directory */
  destroy(): Promise<void>;
}

/** The directory of initdb/postgres: $POSTGRES_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/<newest>/bin, PATH. */
export function findPostgresBinDir(): string | undefined {
  const has = (dir: string) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'));
  const candidates: string[] = [];
  if (process.env.POSTGRES_BINDIR) candidates.push(process.env.POSTGRES_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config
  }
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian layout
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  return candidates.find(has);
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** As root: the uid/gid of the `postgres` user (initdb and postgres refuse to run as root). */
function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root but there is no `postgres` user to run initdb/postgres as (useradd postgres)');
  }
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** port: the port to use (else a free one, startOnFreePort); choosePort: where a free port comes from (tests) */
export async function startPostgres(opts: { binDir?: string; port?: number; choosePort?: () => Promise<number> } = {}): Promise<TestPostgres> {
  const binDir = opts.binDir ?? findPostgresBinDir();
  if (!binDir) {
    throw new Error('PostgreSQL server binaries (initdb, postgres) not found: apt-get install -y postgresql, or set POSTGRES_BINDIR');
  }
  const as = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-test-pg-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'run');
  fs.mkdirSync(socketDir);
  if (as.uid !== undefined) {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dir, as.uid, as.gid ?? as.uid);
    fs.chownSync(socketDir, as.uid, as.gid ?? as.uid);
  }

  const init = spawnSync(
    path.join(binDir, 'initdb'),
    ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...as, cwd: dir, encoding: 'utf8', timeout: 60_000 },
  );
  if (init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);
  }

  // set by the first start (startOnFreePort: another free port if the first is taken); a restart keeps them
  let port = 0;
  let url = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const args = [
      '-D', dataDir, '-p', String(port), '-k', socketDir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
      // a throw-away test cluster: durability off for speed
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ];
    const proc = spawn(path.join(binDir, 'postgres'), args, { ...as, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d) => {
      stderr = (stderr + String(d)).slice(-4000);
    });
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
    for (let waited = 0; waited < 30_000; waited += 100) {
      const early = await Promise.race([
        spawnError,
        exited.then(() => new Error(`postgres exited with ${proc.exitCode ?? proc.signalCode}: ${stderr.trim()}`)),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
      ]);
      if (early instanceof Error) throw early;
      if (await acceptsConnections(url)) return;
    }
    proc.kill('SIGKILL');
    throw new Error(`postgres did not accept connections within 30 s: ${stderr.trim()}`);
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGINT'); // fast shutdown: ends sessions, checkpoints
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };

  const startOn = async (chosen: number) => {
    port = chosen;
    url = `postgres://postgres@127.0.0.1:${chosen}/postgres`;
    await start();
  };
  try {
    await startOnFreePort(startOn, opts.port, opts.choosePort);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    stop,
    start,
    destroy: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The run's PostgreSQL (started by the global setup). */
export function testPostgresUrl(): string {
  const url = process.env.TIXLOCK_TEST_POSTGRES_URL;
  if (!url) throw new Error('TIXLOCK_TEST_POSTGRES_URL is not set: run through jest (global setup starts PostgreSQL)');
  return url;
}

/** A fresh database on the run's PostgreSQL (so parallel jest workers never collide); drop() removes it. */
export async function createTestDatabase(baseUrl = testPostgresUrl()): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = async <T>(fn: (c: Client) => Promise<T>) => {
    const client = new Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
    },
  };
}
