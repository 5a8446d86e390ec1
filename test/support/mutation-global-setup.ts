// The jest global setup of the mutation run (jest.mutation.config.js, docs/mutation.md). Stryker's jest runner
// calls jest's runCLI once per mutant inside one long-lived test-runner process, so a global setup runs once per
// mutant: this one starts what global-setup.ts starts (a redis-server, a 6-node Redis Cluster, a PostgreSQL) once per
// test-runner process and hands the same ones to every later run. Each Stryker test runner (concurrency 2) so has its own servers: no two runners share a Redis
// database that a test flushes. Stryker ends a test runner with SIGKILL on its process tree, which stops the
// servers but leaves their directory: the next start removes the directories of test runners no longer alive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedisServer, type EmbeddedRedis } from '../../src/redis/embedded';
import { startCluster, type EmbeddedCluster } from '../../tools/common/redis-cluster';
import { startPostgres, type TestPostgres } from './postgres';

const PREFIX = 'tixlock-mutation-';

interface MutationServers {
  redis: EmbeddedRedis;
  cluster: EmbeddedCluster;
  postgres: TestPostgres;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Directories of earlier test runners (tixlock-mutation-<pid>-*) whose process is gone. */
function removeStaleDirectories(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = Number(/^tixlock-mutation-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

async function startServers(): Promise<MutationServers> {
  removeStaleDirectories();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  fs.chmodSync(dir, 0o755); // as root, postgres runs as the postgres user and must reach its directory inside
  // the cluster and PostgreSQL make their directories in os.tmpdir(): inside this runner's directory
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  const started: { stop(): Promise<void> }[] = [];
  let servers: MutationServers;
  try {
    const redis = await startRedisServer(process.env.REDIS_SERVER_BIN ?? 'redis-server', dir);
    started.push(redis);
    const cluster = await startCluster({ serverBin: process.env.REDIS_SERVER_BIN });
    started.push(cluster);
    const postgres = await startPostgres();
    servers = { redis, cluster, postgres };
  } catch (err) {
    for (const server of started.reverse()) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  const { postgres } = servers;
  // a runner that exits on its own: stop the servers synchronously (no awaiting in an exit handler)
  // (redis-server children get SIGTERM from src/redis/embedded.ts's own exit handler)
  process.once('exit', () => {
    if (postgres.running()) readPostmasterPid(postgres.dir).forEach((pid) => process.kill(pid, 'SIGKILL'));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return servers;
}

function readPostmasterPid(pgDir: string): number[] {
  try {
    const pid = Number(fs.readFileSync(path.join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid ? [pid] : [];
  } catch {
    return [];
  }
}

const g = globalThis as { __tixlockMutationServers?: Promise<MutationServers> };

export default async function mutationGlobalSetup(): Promise<void> {
  g.__tixlockMutationServers ??= startServers();
  const { redis, cluster, postgres } = await g.__tixlockMutationServers;
  process.env.TIXLOCK_TEST_REDIS_URL = redis.url;
  process.env.TIXLOCK_TEST_CLUSTER_NODES = cluster.seeds;
  process.env.TIXLOCK_TEST_POSTGRES_URL = postgres.url;
}

/** The global teardown: under Stryker nothing (the next mutant's run uses the servers); run by jest alone, stop them. */
export async function mutationGlobalTeardown(): Promise<void> {
  if (process.env.STRYKER_MUTATOR_WORKER !== undefined || !g.__tixlockMutationServers) return;
  const { redis, cluster, postgres } = await g.__tixlockMutationServers;
  g.__tixlockMutationServers = undefined;
  await postgres.destroy();
  await cluster.stop();
  await redis.stop();
  fs.rmSync(redis.dir, { recursive: true, force: true });
}
