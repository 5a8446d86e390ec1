// The only reader of process.env: every setting, parsed once by a zod schema and frozen.
// The README's configuration table lists the same variables.
import { isIP } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';
import { StartupError } from './startup-error';

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((v) => v ?? def);

/** A list of `name:key` pairs, comma-separated. */
const keyList = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out: { name: string; key: string }[] = [];
    for (const item of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const at = item.indexOf(':');
      const name = at > 0 ? item.slice(0, at) : '';
      const key = at > 0 ? item.slice(at + 1) : '';
      if (!ID_PATTERN.test(name) || key.length < 8) {
        ctx.addIssue({ code: 'custom', message: 'each entry must be name:key (name of [A-Za-z0-9._:-], key of 8+ characters)' });
        return z.NEVER;
      }
      out.push({ name, key });
    }
    return out;
  });

/** A `trust proxy` list entry Express accepts: loopback, linklocal, uniquelocal, an IP, IP/bits or IP/netmask. */
function proxyEntryValid(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  // a netmask: IPv4, ones then zeros
  const bits = range.split('.').map((n) => Number(n).toString(2).padStart(8, '0')).join('');
  return family === 4 && isIP(range) === 4 && /^1*0*$/.test(bits);
}

/** Express's `trust proxy`: false (default), true, a hop count, or a comma list of addresses/subnets. */
const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((raw, ctx): boolean | number | string[] => {
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d+$/.test(raw)) return Number(raw);
    const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((entry) => !proxyEntryValid(entry));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be true, false, a hop count or a comma list of loopback, linklocal, uniquelocal, IP, IP/bits (not ${bad[0]})`,
      });
      return z.NEVER;
    }
    return list;
  });

/** Origins allowed to call the API from a browser: a comma list of http(s) origins; unset = CORS off. */
const corsOrigins = z
  .string()
  .optional()
  .transform((raw, ctx): string[] => {
    const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.find((o) => !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a comma list of origins like https://shop.example (not ${bad})` });
      return z.NEVER;
    }
    return list;
  });

/** The most API processes one `tixlock api` may fork. */
export const MAX_API_WORKERS = 256;
export const API_WORKERS_RULE = `must be a whole number from 1 to ${MAX_API_WORKERS}, or auto (one per core)`;

/**
 * An API process count as API_WORKERS and `--workers` take it: a whole number 1..MAX_API_WORKERS, or `auto` =
 * one per core (os.availableParallelism()). Undefined when invalid.
 */
export function parseApiWorkers(raw: string): number | undefined {
  const value = raw.trim().toLowerCase();
  if (value === 'auto') return availableParallelism();
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= MAX_API_WORKERS ? n : undefined;
}

/** A comma list of host:port (Redis Cluster seed nodes, Sentinels). */
const hostPortList = z
  .string()
  .optional()
  .transform((raw, ctx): { host: string; port: number }[] | undefined => {
    if (raw === undefined) return undefined;
    const out: { host: string; port: number }[] = [];
    for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(item);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a comma list of host:port (not ${item})` });
        return z.NEVER;
      }
      out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port });
    }
    if (out.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one host:port' });
      return z.NEVER;
    }
    return out;
  });

const apiWorkers = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return 1;
    const n = parseApiWorkers(raw);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: API_WORKERS_RULE });
      return z.NEVER;
    }
    return n;
  });

/** The settings that say where Redis is; at most one may be set, none = a private redis-server. */
export const REDIS_TOPOLOGY_SETTINGS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;

const schema = z
  .object({
    NODE_ENV: z.string().optional().transform((v) => v ?? 'development'),
    HOST: z.string().min(1).optional().transform((v) => v ?? '127.0.0.1'), // loopback unless asked: the Dockerfile sets 0.0.0.0
    PORT: int(3000, 0, 65535),
    API_WORKERS: apiWorkers,
    METRICS_PORT: z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(0).max(65535)).optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    REDIS_CLUSTER_NODES: hostPortList,
    REDIS_SENTINELS: hostPortList,
    REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9._-]').optional(),
    REDIS_USERNAME: z.string().min(1).optional(),
    REDIS_PASSWORD: z.string().min(1).optional(),
    REDIS_TLS: z.enum(['0', '1']).optional(),
    REDIS_WAIT_REPLICAS: int(0, 0, 16),
    REDIS_WAIT_TIMEOUT_MS: int(1000, 10, 60000),
    REDIS_SERVER_BIN: z.string().min(1).optional().transform((v) => v ?? 'redis-server'),
    REDIS_COMMAND_TIMEOUT_MS: int(2000, 50, 60000),
    DATA_DIR: z.string().min(1).optional().transform((v) => v ?? './data'),
    LOCK_TTL_SECONDS: int(180, 1, 86400),
    MIN_HOLD_SECONDS: int(1, 1, 86400),
    MAX_HOLD_SECONDS: int(900, 1, 86400),
    MAX_TICKETS_PER_TRANSACTION: int(10, 1, 1000),
    RECORD_RETENTION_SECONDS: int(86400, 60, 30 * 86400),
    TRUST_PROXY: trustProxy,
    CORS_ORIGINS: corsOrigins,
    BUYER_MAX_TICKETS: int(10, 0, 100000),
    HOLD_RATE_LIMIT: int(0, 0, 1000000),
    HOLD_RATE_WINDOW_SECONDS: int(1, 1, 86400),
    IDEMPOTENCY_TTL_SECONDS: int(86400, 60, 30 * 86400),
    TIXLOCK_API_KEYS: keyList,
    TIXLOCK_ADMIN_KEYS: keyList,
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent']).optional(),
    DOCUMENT_STORE_URL: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'must start with sqlite:, postgres:// or postgresql://')
      .optional(),
    WRITER_BATCH_SIZE: int(100, 1, 10000),
    WRITER_BLOCK_MS: int(500, 10, 60000),
    WRITER_CLAIM_IDLE_MS: int(30000, 100, 3600000),
    WRITER_MAX_DELIVERIES: int(10, 1, 1000),
    WRITER_SWEEP_INTERVAL_MS: int(5000, 50, 3600000),
    WRITER_CONSUMER: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9._:-]').optional(),
    WRITER_AUTO_REHYDRATE: z.enum(['0', '1']).optional(),
  })
  .superRefine((c, ctx) => {
    const modes = REDIS_TOPOLOGY_SETTINGS.filter((name) => c[name] !== undefined);
    if (modes.length > 1)
      ctx.addIssue({ code: 'custom', path: [modes[1] as string], message: `set only one of ${REDIS_TOPOLOGY_SETTINGS.join(', ')} (also set: ${modes[0]})` });
    if ((c.REDIS_SENTINELS === undefined) !== (c.REDIS_SENTINEL_NAME === undefined))
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together' });
    if (c.MIN_HOLD_SECONDS > c.MAX_HOLD_SECONDS)
      ctx.addIssue({ code: 'custom', path: ['MIN_HOLD_SECONDS'], message: 'must not exceed MAX_HOLD_SECONDS' });
    if (c.LOCK_TTL_SECONDS < c.MIN_HOLD_SECONDS || c.LOCK_TTL_SECONDS > c.MAX_HOLD_SECONDS)
      ctx.addIssue({ code: 'custom', path: ['LOCK_TTL_SECONDS'], message: 'must lie within MIN_HOLD_SECONDS..MAX_HOLD_SECONDS' });
  });

/** Every environment variable tixlock reads (the compose file's settings are checked against it). */
export const SETTINGS: readonly string[] = Object.freeze(Object.keys(schema.shape));

/** A setting's default as text (what the schema makes of it unset), for help texts; undefined when it has none. */
export function settingDefault(name: string): string | undefined {
  const field = (schema.shape as Record<string, z.ZodType>)[name];
  const parsed = field?.safeParse(undefined);
  const value: unknown = parsed?.success ? parsed.data : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** /metrics without a key on this port (an internal network); undefined = on `port` behind an admin key */
  readonly metricsPort: number | undefined;
  /** API processes for `tixlock api` (and `tixlock all`); 1 = no cluster. `--workers N` overrides it. */
  readonly apiWorkers: number;
  /** REDIS_URL: the one node's URL in 'url' mode, else undefined */
  readonly redisUrl: string | undefined;
  /** where Redis is: one node (REDIS_URL), a Cluster, a Sentinel-watched primary, or unset = a private redis-server */
  readonly redis: RedisTopology;
  readonly redisServerBin: string;
  readonly redisCommandTimeoutMs: number;
  /** replicas that must acknowledge a sale (WAIT) before complete answers 200; 0 = no wait */
  readonly redisWaitReplicas: number;
  readonly redisWaitTimeoutMs: number;
  readonly dataDir: string;
  readonly lockTtlSeconds: number;
  readonly minHoldSeconds: number;
  readonly maxHoldSeconds: number;
  readonly maxTicketsPerTransaction: number;
  readonly recordRetentionSeconds: number;
  readonly trustProxy: boolean | number | readonly string[];
  /** browser origins allowed by CORS; empty = CORS off */
  readonly corsOrigins: readonly string[];
  readonly limits: LimitsConfig;
  readonly apiKeys: readonly { name: string; key: string }[];
  readonly adminKeys: readonly { name: string; key: string }[];
  readonly logLevel: string;
  readonly documentStoreUrl: string | undefined;
  readonly writer: WriterConfig;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Credentials and TLS that apply to every node (REDIS_URL may carry its own in the URL). */
export interface RedisAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

export type RedisTopology =
  | { readonly mode: 'embedded' }
  | { readonly mode: 'url'; readonly url: string; readonly auth: RedisAuth }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly auth: RedisAuth }
  | { readonly mode: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly auth: RedisAuth };

export interface LimitsConfig {
  /** tickets one buyer may have locked at once per performance; 0 = no limit */
  readonly buyerMaxTickets: number;
  /** holds (POST /transaction) per client key per window; 0 = no rate limit */
  readonly holdRateLimit: number;
  readonly holdRateWindowSeconds: number;
  /** how long an Idempotency-Key's answer is kept */
  readonly idempotencyTtlSeconds: number;
}

export interface WriterConfig {
  readonly batchSize: number;
  readonly blockMs: number;
  /** a pending sale idle this long is claimed by a live writer */
  readonly claimIdleMs: number;
  /** deliveries after which a sale moves to the dead-letter stream */
  readonly maxDeliveries: number;
  readonly sweepIntervalMs: number;
  readonly consumer: string;
  /** a performance found behind the document store is rehydrated at once (else it stays RECOVERING until `tixlock rehydrate`) */
  readonly autoRehydrate: boolean;
}

/** A variable with a value tixlock does not accept: the message names it and the rule. */
export class ConfigError extends StartupError {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; throws ConfigError with one line naming the offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as shells and compose files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'configuration');
    throw new ConfigError(`Invalid configuration: ${name}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data;
  const auth: RedisAuth = Object.freeze({
    username: c.REDIS_USERNAME,
    password: c.REDIS_PASSWORD,
    tls: c.REDIS_TLS === '1' || (c.REDIS_URL?.startsWith('rediss://') ?? false),
  });
  const redis: RedisTopology = c.REDIS_URL
    ? { mode: 'url', url: c.REDIS_URL, auth }
    : c.REDIS_CLUSTER_NODES
      ? { mode: 'cluster', nodes: Object.freeze(c.REDIS_CLUSTER_NODES), auth }
      : c.REDIS_SENTINELS
        ? { mode: 'sentinel', sentinels: Object.freeze(c.REDIS_SENTINELS), name: c.REDIS_SENTINEL_NAME as string, auth }
        : { mode: 'embedded' };
  return Object.freeze({
    nodeEnv: c.NODE_ENV,
    production: c.NODE_ENV === 'production',
    host: c.HOST,
    port: c.PORT,
    metricsPort: c.METRICS_PORT,
    apiWorkers: c.API_WORKERS,
    redisUrl: c.REDIS_URL,
    redis: Object.freeze(redis),
    redisServerBin: c.REDIS_SERVER_BIN,
    redisCommandTimeoutMs: c.REDIS_COMMAND_TIMEOUT_MS,
    redisWaitReplicas: c.REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: c.REDIS_WAIT_TIMEOUT_MS,
    dataDir: c.DATA_DIR,
    lockTtlSeconds: c.LOCK_TTL_SECONDS,
    minHoldSeconds: c.MIN_HOLD_SECONDS,
    maxHoldSeconds: c.MAX_HOLD_SECONDS,
    maxTicketsPerTransaction: c.MAX_TICKETS_PER_TRANSACTION,
    recordRetentionSeconds: c.RECORD_RETENTION_SECONDS,
    trustProxy: Object.freeze(c.TRUST_PROXY),
    corsOrigins: Object.freeze(c.CORS_ORIGINS),
    limits: Object.freeze({
      buyerMaxTickets: c.BUYER_MAX_TICKETS,
      holdRateLimit: c.HOLD_RATE_LIMIT,
      holdRateWindowSeconds: c.HOLD_RATE_WINDOW_SECONDS,
      idempotencyTtlSeconds: c.IDEMPOTENCY_TTL_SECONDS,
    }),
    apiKeys: Object.freeze(c.TIXLOCK_API_KEYS),
    adminKeys: Object.freeze(c.TIXLOCK_ADMIN_KEYS),
    logLevel: c.LOG_LEVEL ?? (c.NODE_ENV === 'test' ? 'silent' : 'info'),
    documentStoreUrl: c.DOCUMENT_STORE_URL,
    writer: Object.freeze({
      batchSize: c.WRITER_BATCH_SIZE,
      blockMs: c.WRITER_BLOCK_MS,
      claimIdleMs: c.WRITER_CLAIM_IDLE_MS,
      maxDeliveries: c.WRITER_MAX_DELIVERIES,
      sweepIntervalMs: c.WRITER_SWEEP_INTERVAL_MS,
      consumer: c.WRITER_CONSUMER ?? `${hostname()}-${process.pid}`,
      autoRehydrate: c.WRITER_AUTO_REHYDRATE !== '0',
    }),
  });
}
