// A primary and one replica, two real redis-servers on loopback for one test file, with an admin connection to
// each; stop() stops both (resuming a SIGSTOPped one first) and removes their data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../src/redis/connection';
import { startRedisServer, type EmbeddedRedis } from '../../src/redis/embedded';
import { waitFor } from './writer-tests';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface Replicated {
  primary: EmbeddedRedis;
  replica: EmbeddedRedis;
  primaryAdmin: Redis;
  replicaAdmin: Redis;
  stop(): Promise<void>;
}

/** True once `replica` has synced with its primary and follows it. */
export async function linkUp(replica: Redis): Promise<boolean> {
  return /master_link_status:up/.test(await replica.info('replication'));
}

export async function startReplicated(name: string): Promise<Replicated> {
  const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), `tixlock-${name}-p-`)), fs.mkdtempSync(path.join(os.tmpdir(), `tixlock-${name}-r-`))];
  const primary = await startRedisServer(BIN, dirs[0] as string);
  const replica = await startRedisServer(BIN, dirs[1] as string);
  const primaryAdmin = await connectRedis(primary.url, { commandTimeoutMs: 5000 });
  const replicaAdmin = await connectRedis(replica.url, { commandTimeoutMs: 5000 });
  await replicaAdmin.call('REPLICAOF', '127.0.0.1', String(primary.port));
  await waitFor(() => linkUp(replicaAdmin), 10_000, 'the replica follows the primary');
  return {
    primary,
    replica,
    primaryAdmin,
    replicaAdmin,
    stop: async () => {
      for (const server of [primary, replica]) {
        try {
          process.kill(server.pid, 'SIGCONT');
        } catch {
          // already gone
        }
      }
      primaryAdmin.disconnect();
      replicaAdmin.disconnect();
      await primary.stop();
      await replica.stop();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
