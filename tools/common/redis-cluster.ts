// A private Redis Cluster on loopback: `primaries` primaries with one replica each (redis-cli --cluster create), AOF
// on like the embedded redis-server, cluster-require-full-coverage off (a shard without a primary stops only its
// own performances). For `tixlock onsale --cluster`, the test suite's cluster and the tests that kill nodes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/redis/embedded';

export interface ClusterNode {
  port: number;
  pid: number;
  /** SIGKILL; resolves once the process is gone */
  kill(): Promise<void>;
}

export interface EmbeddedCluster {
  nodes: ClusterNode[];
  /** REDIS_CLUSTER_NODES for the service: every node, as seeds */
  seeds: string;
  /** the primaries now, by port, as a node that answers sees them */
  primaries(): Promise<number[]>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`test cluster: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** INFO replication of a node: a replica must have synced with its primary before a failover can promote it. */
async function replicationInfo(port: number): Promise<string> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.info('replication');
  } finally {
    r.disconnect();
  }
}

async function clusterInfo(port: number): Promise<string> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return String(await r.cluster('INFO')) + String(await r.cluster('NODES'));
  } finally {
    r.disconnect();
  }
}

export interface ClusterOptions {
  primaries?: number;
  nodeTimeoutMs?: number;
  /** the redis-server and redis-cli binaries */
  serverBin?: string;
  cliBin?: string;
}

export async function startCluster(options: ClusterOptions = {}): Promise<EmbeddedCluster> {
  const BIN = options.serverBin ?? 'redis-server';
  const CLI = options.cliBin ?? 'redis-cli';
  const primaries = options.primaries ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: ClusterNode[] = [];
  try {
    const chosen = new Set<number>();
    for (let i = 0; i < primaries * 2; i++) {
      // a node spawned just before may not have bound its port yet, and the kernel hands out the same port again
      let port = await freePort();
      while (chosen.has(port)) port = await freePort();
      chosen.add(port);
      const nodeDir = path.join(dir, String(port));
      fs.mkdirSync(nodeDir);
      // redis-server's own retry of a port another process took meanwhile is not worth it here: a clash fails setup
      const child = spawn(
        BIN,
        [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir,
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
          // a shard without a primary must not stop the others (docs/production-topology.md recommends the same)
          '--cluster-require-full-coverage', 'no',
          '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction',
          '--loglevel', 'notice', '--logfile', path.join(nodeDir, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      nodes.push({
        port,
        pid: child.pid ?? 0,
        kill: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          await exited;
        },
      });
    }
    for (const node of nodes) await until(async () => /cluster_state/.test(await clusterInfo(node.port)), 10_000, `node ${node.port}`);
    const created = spawnSync(
      CLI,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.error) throw new Error(`${CLI} could not run (${created.error.message}); it comes with redis-server (apt-get install -y redis-tools)`);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}\n${created.stderr}`);
    // every replica has synced with its primary (a replica that never did may not be promoted), and every node
    // sees the cluster ok with every primary's replica attached
    for (const node of nodes) {
      await until(
        async () => {
          const info = await replicationInfo(node.port);
          return /role:master/.test(info) || /master_link_status:up/.test(info);
        },
        30_000,
        `replica ${node.port} synced`,
      );
    }
    for (const node of nodes) {
      await until(
        async () => {
          const info = await clusterInfo(node.port);
          const slaves = info.split('\n').filter((line) => /^\S+ \S+ \S*slave/.test(line)).length;
          return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info) && slaves === primaries;
        },
        30_000,
        `cluster ok on ${node.port}`,
      );
    }
  } catch (err) {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    primaries: async () => {
      for (const node of nodes) {
        const info = await clusterInfo(node.port).catch(() => '');
        if (!info) continue;
        return info
          .split('\n')
          .filter((line) => /^\S+ \S+ \S*master/.test(line) && !/^\S+ \S+ \S*fail/.test(line) && / connected/.test(line))
          .map((line) => Number(/:(\d+)@/.exec(line)?.[1]));
      }
      return [];
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
