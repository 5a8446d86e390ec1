// Servers started on a port found free, when that port is taken before the server binds it (any process's outgoing
// connection may get it: they share the ephemeral range; under a loaded parallel suite this happens). The private
// redis-server (startRedisServer, also what `npm start` runs) and the tests' PostgreSQL replace a chosen port that
// turns out taken; a port the caller gave is never replaced, and a failure says why. tixlock itself, given a PORT
// or METRICS_PORT that is taken, exits with code 1 and says so (tests use PORT=0 and read the banner instead).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, PORT_ATTEMPTS, startRedisServer, type EmbeddedRedis } from '../src/redis/embedded';
import { KEYS, testRedisUrl } from './support/app';
import { startPostgres } from './support/postgres';
import { spawnCli, waitForBanner } from './support/spawn';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

let dir: string;
let taken: net.Server;
let takenPort: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-taken-ports-'));
  // a connection to it is dropped at once: a start-up probe that reached it (before its server's exit was seen)
  // must not keep it open, or closing it waits for that connection and the file's afterAll times out (seen once)
  taken = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Hands out the taken port `times` times, then free ones; records every port it handed out. */
function takenThenFree(times: number) {
  const offered: number[] = [];
  const choose = async () => {
    const port = offered.length < times ? takenPort : await freePort();
    offered.push(port);
    return port;
  };
  return { offered, choose };
}

describe('startRedisServer on a taken port', () => {
  const started: EmbeddedRedis[] = [];
  afterAll(async () => {
    for (const r of started) await r.stop();
  });

  test('a chosen port that is taken is replaced by another free one', async () => {
    const { offered, choose } = takenThenFree(2);
    const redis = await startRedisServer(BIN, path.join(dir, 'retry'), undefined, choose);
    started.push(redis);
    expect(offered).toHaveLength(3);
    expect(redis.port).toBe(offered[2]);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
  });

  test(`after ${PORT_ATTEMPTS} taken ports it gives up, saying why`, async () => {
    const { offered, choose } = takenThenFree(Infinity);
    await expect(startRedisServer(BIN, path.join(dir, 'give-up'), undefined, choose)).rejects.toThrow(/Address already in use/i);
    expect(offered).toHaveLength(PORT_ATTEMPTS);
  });

  test('a port the caller gave is never replaced by another', async () => {
    const { offered, choose } = takenThenFree(0);
    await expect(startRedisServer(BIN, path.join(dir, 'given'), takenPort, choose)).rejects.toThrow(/Address already in use/i);
    expect(offered).toEqual([]);
  });
});

describe("the tests' PostgreSQL on a taken port", () => {
  test('a chosen port that is taken is replaced by another free one', async () => {
    const { offered, choose } = takenThenFree(1);
    const pg = await startPostgres({ choosePort: choose });
    try {
      expect(offered).toHaveLength(2);
      expect(pg.port).toBe(offered[1]);
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${offered[1]}/postgres`);
      expect(pg.running()).toBe(true);
    } finally {
      await pg.destroy();
    }
  }, 60_000);

  test('a port the caller gave is never replaced, and the failure says why', async () => {
    const { offered, choose } = takenThenFree(0);
    // a PostgreSQL that did start (on another port) is stopped here, so the test fails instead of leaving it running
    const outcome = await startPostgres({ port: takenPort, choosePort: choose }).then(
      async (pg) => {
        await pg.destroy();
        return `started on ${pg.port}`;
      },
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/Address already in use/i);
    expect(offered).toEqual([]);
  }, 60_000);
});

describe('tixlock given a taken port', () => {
  test.each([['PORT'], ['METRICS_PORT']])('%s taken: exit code 1 with the reason, no banner', async (setting) => {
    const cli = spawnCli(['api'], {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      [setting]: String(takenPort),
      REDIS_URL: testRedisUrl(),
      DOCUMENT_STORE_URL: 'sqlite::memory:',
      DATA_DIR: path.join(dir, `cli-${setting}`),
      TIXLOCK_API_KEYS: `alice:${KEYS.alice}`,
      TIXLOCK_ADMIN_KEYS: `root:${KEYS.admin}`,
      LOG_LEVEL: 'warn',
    });
    try {
      // waitForBanner fails as soon as the process is gone, with its output (not "no banner" after its 60 s)
      await expect(waitForBanner(cli, 60_000)).rejects.toThrow(new RegExp(`exited \\(1\\) before its banner.*EADDRINUSE.*127\\.0\\.0\\.1:${takenPort}`, 's'));
      expect(cli.stdout()).not.toContain('listening on');
    } finally {
      await cli.kill();
    }
  }, 90_000);
});
