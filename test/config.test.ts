// Pure tests of configuration (src/config.ts, its table src/config-table.ts, the docs generated from it) and API keys
// (src/credentials.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { commandHelp } from '../src/cli-help';
import { ConfigError, loadConfig, parseApiWorkers, SETTINGS } from '../src/config';
import { CONFIGURATION_DOC, withSettingsTables } from '../src/config-doc';
import { SETTING_ENTRIES } from '../src/config-table';
import { resolveKeys } from '../src/credentials';
import { StartupError } from '../src/startup-error';

describe('loadConfig', () => {
  test('defaults', () => {
    const c = loadConfig({});
    expect(c).toEqual({
      server: {
        nodeEnv: 'development',
        production: false,
        host: '127.0.0.1', // loopback unless asked (the Dockerfile sets HOST=0.0.0.0)
        port: 3000,
        apiWorkers: 1,
        metricsPort: undefined,
        trustProxy: false,
        corsOrigins: [],
      },
      keys: { clients: [], admins: [] },
      redis: {
        topology: { mode: 'embedded' },
        serverBin: 'redis-server',
        waitReplicas: 0,
        waitTimeoutMs: 1000,
        commandTimeoutMs: 2000,
      },
      store: { dataDir: './data', url: undefined },
      domain: {
        lockTtlSeconds: 180,
        minHoldSeconds: 1,
        maxHoldSeconds: 900,
        maxTicketsPerTransaction: 10,
        recordRetentionSeconds: 86400,
        buyerMaxTickets: 10,
        endGraceSeconds: 21600,
      },
      limits: { holdRateLimit: 0, holdRateWindowSeconds: 1, idempotencyTtlSeconds: 86400 },
      logging: { level: 'info' },
      writer: {
        batchSize: 100,
        blockMs: 500,
        claimIdleMs: 30000,
        maxDeliveries: 10,
        sweepIntervalMs: 5000,
        retireAfterMs: 120000,
        scanBatch: 10,
        consumer: `${os.hostname()}-${process.pid}`,
        autoRehydrate: true,
        archiveAuto: true,
        archiveIntervalSeconds: 60,
        archiveLockMarginSeconds: 60,
      },
    });
    expect(loadConfig({ NODE_ENV: 'test' }).logging.level).toBe('silent');
    expect(loadConfig({ NODE_ENV: 'production' }).server.production).toBe(true);
  });

  test('reads only the environment it is given; empty strings count as unset', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig({}).server.port).toBe(3000);
      expect(loadConfig({ PORT: '', LOCK_TTL_SECONDS: '', REDIS_URL: '' })).toMatchObject({
        server: { port: 3000 },
        domain: { lockTtlSeconds: 180 },
        redis: { topology: { mode: 'embedded' } },
      });
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  test('valid values are parsed', () => {
    const c = loadConfig({
      PORT: ' 8080 ',
      REDIS_URL: 'rediss://cache.example:6380/2',
      DATA_DIR: '/var/lib/tixlock',
      LOCK_TTL_SECONDS: '120',
      MIN_HOLD_SECONDS: '30',
      MAX_HOLD_SECONDS: '600',
      MAX_TICKETS_PER_TRANSACTION: '8',
      TIXLOCK_API_KEYS: 'shop:abcdefgh12, app.two:k:with:colons',
      TIXLOCK_ADMIN_KEYS: 'ops:12345678',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      server: { port: 8080 },
      redis: { topology: { mode: 'url', url: 'rediss://cache.example:6380/2' } },
      store: { dataDir: '/var/lib/tixlock' },
      domain: { lockTtlSeconds: 120, minHoldSeconds: 30, maxHoldSeconds: 600, maxTicketsPerTransaction: 8 },
      logging: { level: 'debug' },
      keys: {
        clients: [
          { name: 'shop', key: 'abcdefgh12' },
          { name: 'app.two', key: 'k:with:colons' },
        ],
        admins: [{ name: 'ops', key: '12345678' }],
      },
    });
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ LOCK_TTL_SECONDS: '0' }, 'LOCK_TTL_SECONDS'],
    [{ LOCK_TTL_SECONDS: '1.5' }, 'LOCK_TTL_SECONDS'],
    [{ LOCK_TTL_SECONDS: '901' }, 'LOCK_TTL_SECONDS'], // above the default MAX_HOLD_SECONDS
    [{ LOCK_TTL_SECONDS: '60', MAX_HOLD_SECONDS: '30' }, 'LOCK_TTL_SECONDS'],
    [{ LOCK_TTL_SECONDS: '5', MIN_HOLD_SECONDS: '10' }, 'LOCK_TTL_SECONDS'],
    [{ MIN_HOLD_SECONDS: '100', MAX_HOLD_SECONDS: '50', LOCK_TTL_SECONDS: '60' }, 'MIN_HOLD_SECONDS'],
    [{ MAX_TICKETS_PER_TRANSACTION: '0' }, 'MAX_TICKETS_PER_TRANSACTION'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ REDIS_COMMAND_TIMEOUT_MS: '10' }, 'REDIS_COMMAND_TIMEOUT_MS'],
    [{ TIXLOCK_API_KEYS: 'nocolon' }, 'TIXLOCK_API_KEYS'],
    [{ TIXLOCK_API_KEYS: 'shop:short' }, 'TIXLOCK_API_KEYS'],
    [{ TIXLOCK_API_KEYS: ':12345678' }, 'TIXLOCK_API_KEYS'],
    [{ TIXLOCK_API_KEYS: 'bad name:12345678' }, 'TIXLOCK_API_KEYS'],
    [{ TIXLOCK_ADMIN_KEYS: 'ok:12345678,nocolon' }, 'TIXLOCK_ADMIN_KEYS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'loopback, 10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/255.0.255.0' }, 'TRUST_PROXY'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://ok.example, shop.example' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://shop.example/path' }, 'CORS_ORIGINS'],
    [{ BUYER_MAX_TICKETS: '-1' }, 'BUYER_MAX_TICKETS'],
    [{ HOLD_RATE_LIMIT: '1.5' }, 'HOLD_RATE_LIMIT'],
    [{ HOLD_RATE_WINDOW_SECONDS: '0' }, 'HOLD_RATE_WINDOW_SECONDS'],
    [{ IDEMPOTENCY_TTL_SECONDS: '59' }, 'IDEMPOTENCY_TTL_SECONDS'],
    [{ REDIS_CLUSTER_NODES: 'redis-a' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'redis-a:7000,redis-b:99999' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'bad name' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_TLS: 'yes' }, 'REDIS_TLS'],
  ])('invalid %j: ConfigError, one line naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env as Record<string, string>);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^Invalid configuration: ${variable}: \\S`));
    expect(message).not.toContain('\n');
    // never echoes a key
    if (variable.startsWith('TIXLOCK_')) expect(message).not.toContain('12345678');
  });

  test('Redis topology: one node, a Cluster, Sentinel, or a private redis-server; credentials and TLS for every node', () => {
    expect(loadConfig({}).redis.topology).toEqual({ mode: 'embedded' });
    expect(loadConfig({ REDIS_URL: 'rediss://h:6380/2' }).redis.topology).toEqual({
      mode: 'url',
      url: 'rediss://h:6380/2',
      auth: { username: undefined, password: undefined, tls: true },
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000, 10.0.0.2:7001,[::1]:7002', REDIS_PASSWORD: 'pw', REDIS_TLS: '1' }).redis.topology).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      auth: { username: undefined, password: 'pw', tls: true },
    });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'main', REDIS_USERNAME: 'app' }).redis.topology).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'main',
      auth: { username: 'app', password: undefined, tls: false },
    });
  });

  test.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['0', 0],
    ['2', 2],
    [' loopback, 10.0.0.0/8 ', ['loopback', '10.0.0.0/8']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
    ['linklocal,uniquelocal,192.168.0.0/255.255.0.0', ['linklocal', 'uniquelocal', '192.168.0.0/255.255.0.0']],
  ])('TRUST_PROXY %j → %j, which Express accepts', (raw, parsed) => {
    const c = loadConfig(raw === undefined ? {} : { TRUST_PROXY: raw });
    expect(c.server.trustProxy).toEqual(parsed);
    expect(() => express().set('trust proxy', c.server.trustProxy)).not.toThrow();
  });

  test.each([
    ['1', 1],
    ['2', 2],
    [' 16 ', 16],
    ['256', 256],
    ['auto', os.availableParallelism()],
    ['AUTO', os.availableParallelism()],
  ])('API_WORKERS %j → %d API processes', (raw, workers) => {
    expect(loadConfig({ API_WORKERS: raw }).server.apiWorkers).toBe(workers);
    expect(parseApiWorkers(raw)).toBe(workers);
  });

  test.each(['0', 'abc', '-1', '1.5', '257', 'auto2', '2 workers'])('API_WORKERS %j: one clear line', (raw) => {
    expect(() => loadConfig({ API_WORKERS: raw })).toThrow(
      new ConfigError('Invalid configuration: API_WORKERS: must be a whole number from 1 to 256, or auto (one per core)'),
    );
    expect(parseApiWorkers(raw)).toBeUndefined();
  });

  test('limits and CORS origins are parsed', () => {
    const c = loadConfig({
      CORS_ORIGINS: 'https://shop.example, http://localhost:8080',
      BUYER_MAX_TICKETS: '6',
      HOLD_RATE_LIMIT: '20',
      HOLD_RATE_WINDOW_SECONDS: '10',
      IDEMPOTENCY_TTL_SECONDS: '3600',
    });
    expect(c.server.corsOrigins).toEqual(['https://shop.example', 'http://localhost:8080']);
    expect(c.limits).toEqual({ holdRateLimit: 20, holdRateWindowSeconds: 10, idempotencyTtlSeconds: 3600 });
    expect(c.domain.buyerMaxTickets).toBe(6);
  });

  test('the result is frozen', () => {
    const c = loadConfig({ TIXLOCK_API_KEYS: 'shop:abcdefgh', TRUST_PROXY: 'loopback' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.server)).toBe(true);
    expect(Object.isFrozen(c.keys.clients)).toBe(true);
    expect(Object.isFrozen(c.server.trustProxy)).toBe(true);
    expect(() => {
      (c.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => (c.keys.clients as { name: string; key: string }[]).push({ name: 'x', key: 'yyyyyyyy' })).toThrow(TypeError);
  });
});

describe('the table of settings', () => {
  test('docs/configuration.md has the tables the code generates (else: npm run docs:config)', () => {
    const committed = fs.readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(committed).toBe(withSettingsTables(committed));
    for (const name of SETTINGS) expect(committed).toContain(`| \`${name}\` |`);
  });

  test.each(SETTING_ENTRIES.filter(([, s]) => s.value.default !== undefined))(
    '%s set to its documented default parses as if unset',
    (name, setting) => {
      expect(loadConfig({ [name]: setting.value.default })).toEqual(loadConfig({}));
    },
  );

  test('tixlock all --help names every setting (all reads them all), each once', () => {
    const line = (commandHelp('all') ?? '').split('settings (default in brackets):')[1]?.replace(/\s+/g, ' ') ?? '';
    for (const name of SETTINGS) expect(line.match(new RegExp(`\\b${name}\\b`, 'g'))).toHaveLength(1);
  });
});

describe('resolveKeys', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-keys-'));

  test('configured keys are used as they are', () => {
    const keys = resolveKeys(loadConfig({ TIXLOCK_API_KEYS: 'shop:abcdefgh', TIXLOCK_ADMIN_KEYS: 'ops:12345678' }));
    expect(keys).toEqual({ clients: [{ name: 'shop', key: 'abcdefgh' }], admins: [{ name: 'ops', key: '12345678' }] });
  });

  test('production with no keys refuses to start and writes nothing', () => {
    const dir = path.join(tmp(), 'data');
    expect(() => resolveKeys(loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }))).toThrow(StartupError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('outside production: dev keys made once in DATA_DIR (mode 0600) and reused', () => {
    const dir = path.join(tmp(), 'nested', 'data');
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const first = resolveKeys(config);
    expect(first.devKeysFile).toBe(path.join(dir, 'dev-keys.json'));
    expect(fs.statSync(first.devKeysFile!).mode & 0o777).toBe(0o600);
    expect(first.clients).toEqual([{ name: 'dev-client', key: expect.stringMatching(/^tix_[A-Za-z0-9_-]{20,}$/) }]);
    expect(first.admins).toEqual([{ name: 'dev-admin', key: expect.stringMatching(/^tix_[A-Za-z0-9_-]{20,}$/) }]);
    expect(first.clients[0]!.key).not.toBe(first.admins[0]!.key);

    const second = resolveKeys(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }));
    expect(second).toEqual(first);
    // the generated keys would pass as configured keys too
    const asConfigured = loadConfig({
      TIXLOCK_API_KEYS: `dev-client:${first.clients[0]!.key}`,
      TIXLOCK_ADMIN_KEYS: `dev-admin:${first.admins[0]!.key}`,
    });
    expect(asConfigured.keys.clients).toEqual(first.clients);

    // another data directory gets other keys
    const other = resolveKeys(loadConfig({ DATA_DIR: path.join(tmp(), 'data') }));
    expect(other.clients[0]!.key).not.toBe(first.clients[0]!.key);
  });
});
