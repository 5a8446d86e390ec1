// A real Sentinel topology on loopback for one test file: a primary, one replica and three sentinels (quorum 2,
// a primary is down after 1 s without answers). Stopped by stop(); the data directories are removed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startOnFreePort, startRedisServer, type EmbeddedRedis } from '../../src/redis/embedded';
import { waitFor } from './writer-tests';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
export const SENTINEL_NAME = 'tixmain';

export interface SentinelTopology {
  primary: EmbeddedRedis;
  replica: EmbeddedRedis;
  /** REDIS_SENTINELS and REDIS_SENTINEL_NAME for the service */
  env: Record<string, string>;
  /** the primary's port as the sentinels report it now */
  primaryPort(): Promise<number>;
  stop(): Promise<void>;
}

/** A sentinel on a free port (startOnFreePort: another one if the port is taken before the sentinel binds it). */
function startSentinel(dir: string, primaryPort: number): Promise<{ port: number; child: ChildProcess }> {
  return startOnFreePort(async (port) => {
    const conf = path.join(dir, `sentinel-${port}.conf`);
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
        '',
      ].join('\n'),
    );
    // its log (stdout) kept, so a sentinel that exits says why ("Address already in use" starts another)
    const child = spawn(BIN, [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => (output = (output + String(d)).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const gone = () => child.exitCode !== null || child.signalCode !== null;
    try {
      await waitFor(async () => gone() || (await probe.connect().then(() => probe.ping()).catch(() => '')) === 'PONG', 10_000, `sentinel on ${port}`);
    } finally {
      probe.disconnect();
    }
    if (gone()) throw new Error(`sentinel on ${port} exited before answering: ${output.trim()}`);
    return { port, child };
  });
}

export async function startSentinelTopology(): Promise<SentinelTopology> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-sentinel-'));
  const primary = await startRedisServer(BIN, path.join(dir, 'primary'));
  const replica = await startRedisServer(BIN, path.join(dir, 'replica'));
  const admin = new Redis({ port: replica.port, lazyConnect: true });
  await admin.connect();
  await admin.call('REPLICAOF', '127.0.0.1', String(primary.port));
  await waitFor(async () => /master_link_status:up/.test(await admin.info('replication')), 10_000, 'the replica follows the primary');
  admin.disconnect();

  const sentinels: { port: number; child: ChildProcess }[] = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(dir, primary.port));
  const ask = new Redis({ port: sentinels[0]!.port, lazyConnect: true });
  await ask.connect();
  // every sentinel knows the replica and the other sentinels before anything fails
  await waitFor(
    async () => {
      const replicas = (await ask.call('SENTINEL', 'REPLICAS', SENTINEL_NAME)) as unknown[];
      const others = (await ask.call('SENTINEL', 'SENTINELS', SENTINEL_NAME)) as unknown[];
      return replicas.length === 1 && others.length === 2;
    },
    20_000,
    'sentinels see the replica and each other',
  );

  return {
    primary,
    replica,
    env: { REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), REDIS_SENTINEL_NAME: SENTINEL_NAME },
    primaryPort: async () => Number(((await ask.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME)) as string[])[1]),
    stop: async () => {
      ask.disconnect();
      for (const s of sentinels) s.child.kill('SIGKILL');
      await primary.stop();
      await replica.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
