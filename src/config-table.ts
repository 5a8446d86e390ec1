// Every setting tixlock reads, once: its environment variable, the group and key it has in the parsed Config, how
// its text is parsed (bounds, default) and what it means. src/config.ts derives the Config and its type from this
// table; docs/configuration.md's tables (npm run docs:config) and the commands' help (src/cli-help.ts) come from it.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** How one variable's text becomes its value (unset = undefined: the default), and how the docs describe it. */
export interface Value<T> {
  readonly schema: z.ZodType<T, string | undefined>;
  /** the default as text (help, docs); undefined = none: unset means unset (or a default the cross-field rules fill) */
  readonly default: string | undefined;
  /** the values it takes (markdown, for the docs) */
  readonly values: string;
}

/** A value whose default depends on another setting or on the host: config.ts's cross-field rules fill it in. */
export interface DerivedDefault<T> extends Value<T> {
  /** the default as the docs show it (markdown) */
  readonly derivedDefault: string;
}

/** One setting: its group and key in Config (config[group][key]), its value and its meaning (markdown, the docs' text). */
export interface Setting {
  readonly group: Group;
  readonly key: string;
  readonly value: Value<unknown>;
  readonly description: string;
}

// ---- the kinds of value ----

const wholeNumber = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

/** A whole number from min to max, with a default (else unset = undefined). */
function int(bounds: { min: number; max: number; default: number }): Value<number>;
function int(bounds: { min: number; max: number }): Value<number | undefined>;
function int({ min, max, default: def }: { min: number; max: number; default?: number }): Value<number | undefined> {
  const schema = wholeNumber(min, max).optional();
  return {
    schema: def === undefined ? schema : schema.transform((v) => v ?? def),
    default: def === undefined ? undefined : String(def),
    values: `${min}–${max}`,
  };
}

/** Any non-empty text, with a default (else unset = undefined). */
function text(options: { default: string; values?: string }): Value<string>;
function text(options?: { values?: string }): Value<string | undefined>;
function text({ default: def, values = 'text' }: { default?: string; values?: string } = {}): Value<string | undefined> {
  const schema = z.string().min(1).optional();
  return { schema: def === undefined ? schema : schema.transform((v) => v ?? def), default: def, values };
}

/** Text that must match `pattern` (else: `rule`); unset = undefined. */
function matching(pattern: RegExp, rule: string, values: string): Value<string | undefined> {
  return { schema: z.string().regex(pattern, rule).optional(), default: undefined, values };
}

/** One of `options`; unset = undefined. */
function oneOf<const T extends readonly [string, ...string[]]>(options: T): Value<T[number] | undefined> {
  return { schema: z.enum(options).optional(), default: undefined, values: options.map((o) => `\`${o}\``).join(', ') };
}

/** `0` or `1`, as a boolean. */
function flag(def: boolean): Value<boolean> {
  return {
    schema: z
      .enum(['0', '1'])
      .optional()
      .transform((v) => (v === undefined ? def : v === '1')),
    default: def ? '1' : '0',
    values: '`0`, `1`',
  };
}

/** Its default (shown as `shown`) depends on another setting or the host: filled in by config.ts's cross-field rules. */
function derivedDefault<T>(value: Value<T | undefined>, shown: string): DerivedDefault<T | undefined> {
  return { ...value, derivedDefault: shown };
}

/** A parse of its own (lists, Express's trust proxy...): `schema` handles unset itself. */
function custom<T>(schema: z.ZodType<T, string | undefined>, options: { default?: string; values: string }): Value<T> {
  return { schema, default: options.default, values: options.values };
}

// ---- parses of their own ----

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

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

// ---- the table ----

/** The groups of Config (config.server, config.redis, ...), each with what the docs say of it. */
export const GROUPS = {
  server: 'The API process: where it listens, how many processes, whom it trusts.',
  keys: 'API keys.',
  redis: 'Where Redis is and how tixlock uses it.',
  store: 'The document store and the data directory.',
  domain: 'The rules of holds and sales: handed to the use cases as they are (`DomainSettings`, src/domain/types.ts).',
  limits: "Limits on clients' requests.",
  logging: 'Logs.',
  writer: 'The order writer.',
} as const;
export type Group = keyof typeof GROUPS;

/** The settings that say where Redis is; at most one may be set, none = a private redis-server. */
export const REDIS_TOPOLOGY_SETTINGS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;
/** The Redis settings that together say where and how to reach Redis: read as one, config.redis.topology. */
export const REDIS_TOPOLOGY_INPUTS = [...REDIS_TOPOLOGY_SETTINGS, 'REDIS_SENTINEL_NAME', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const;

/** Every setting, by environment variable, in the order the docs list them. */
export const SETTINGS_TABLE = {
  // server
  NODE_ENV: {
    group: 'server',
    key: 'nodeEnv',
    value: text({ default: 'development', values: '`production`, `development`, `test`, ...' }),
    description: '`production` refuses to start without configured keys; `test` silences logs',
  },
  HOST: {
    group: 'server',
    key: 'host',
    value: text({ default: '127.0.0.1', values: 'an address' }),
    description: 'listen address (loopback only; the Dockerfile sets `0.0.0.0`)',
  },
  PORT: {
    group: 'server',
    key: 'port',
    value: int({ default: 3000, min: 0, max: 65535 }),
    description: 'listen port (`0` = any free port)',
  },
  API_WORKERS: {
    group: 'server',
    key: 'apiWorkers',
    value: custom(apiWorkers, { default: '1', values: `1–${MAX_API_WORKERS}, \`auto\`` }),
    description:
      "API processes sharing `PORT` (Node's `cluster`): a whole number, or `auto` = one per core (`os.availableParallelism()`); `--workers N` of `tixlock api` / `tixlock all` overrides it",
  },
  METRICS_PORT: {
    group: 'server',
    key: 'metricsPort',
    value: int({ min: 0, max: 65535 }),
    description:
      'serve `GET /metrics` (Prometheus) without a key on this port, for an internal network (`0` = any free port; the start-up banner names it); unset = on `PORT` to admin keys ([operations.md](operations.md))',
  },
  TRUST_PROXY: {
    group: 'server',
    key: 'trustProxy',
    value: custom(trustProxy, {
      default: 'false',
      values: '`false`, `true`, a hop count, a comma list of `loopback`, `linklocal`, `uniquelocal`, IP, IP/bits, IP/netmask',
    }),
    description: '`true`, a hop count, or a comma list of proxy addresses/subnets: then the client IP comes from `X-Forwarded-For`',
  },
  CORS_ORIGINS: {
    group: 'server',
    key: 'corsOrigins',
    value: custom(corsOrigins, { values: 'a comma list of `http(s)://host[:port]`' }),
    description: 'comma list of browser origins (`https://shop.example`) allowed by CORS; unset = no CORS headers at all',
  },

  // keys
  TIXLOCK_API_KEYS: {
    group: 'keys',
    key: 'clients',
    value: custom(keyList, { values: '`name:key,name:key` (key of 8+ characters)' }),
    description: 'client keys; the name is recorded as `locked_by`',
  },
  TIXLOCK_ADMIN_KEYS: {
    group: 'keys',
    key: 'admins',
    value: custom(keyList, { values: '`name:key,name:key` (key of 8+ characters)' }),
    description: 'admin keys',
  },

  // redis
  REDIS_URL: {
    group: 'redis',
    key: 'url',
    value: matching(/^rediss?:\/\//, 'must start with redis:// or rediss://', '`redis://...`, `rediss://...`'),
    description:
      'one Redis node. Set at most one of `REDIS_URL`, `REDIS_CLUSTER_NODES`, `REDIS_SENTINELS`; none = start a private `redis-server` child',
  },
  REDIS_CLUSTER_NODES: {
    group: 'redis',
    key: 'clusterNodes',
    value: custom(hostPortList, { values: '`host:port,host:port,...`' }),
    description: 'a Redis Cluster: its seed nodes (the rest is discovered)',
  },
  REDIS_SENTINELS: {
    group: 'redis',
    key: 'sentinels',
    value: custom(hostPortList, { values: '`host:port,host:port,...`' }),
    description: 'a Sentinel-watched primary: the sentinels; needs `REDIS_SENTINEL_NAME`',
  },
  REDIS_SENTINEL_NAME: {
    group: 'redis',
    key: 'sentinelName',
    value: matching(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9._-]', '1–128 of `[A-Za-z0-9._-]`'),
    description: "the primary's name the sentinels monitor",
  },
  REDIS_USERNAME: {
    group: 'redis',
    key: 'username',
    value: text(),
    description: 'ACL user for every data node (a `REDIS_URL` may carry its own)',
  },
  REDIS_PASSWORD: {
    group: 'redis',
    key: 'password',
    value: text(),
    description: 'password for every data node (a `REDIS_URL` may carry its own)',
  },
  REDIS_TLS: {
    group: 'redis',
    key: 'tls',
    value: flag(false),
    description: '`1` = TLS to every node (sentinels too); a `rediss://` URL implies it',
  },
  REDIS_SERVER_BIN: {
    group: 'redis',
    key: 'serverBin',
    value: text({ default: 'redis-server', values: 'a command' }),
    description: 'the binary started when no Redis is configured',
  },
  REDIS_WAIT_REPLICAS: {
    group: 'redis',
    key: 'waitReplicas',
    value: int({ default: 0, min: 0, max: 16 }),
    description:
      'replicas that must acknowledge a sale (`WAIT`) before complete answers 200; else 503 `NOT_REPLICATED` (the sale stays done; repeat the complete). 1 is recommended in production: [production topology](production-topology.md)',
  },
  REDIS_WAIT_TIMEOUT_MS: {
    group: 'redis',
    key: 'waitTimeoutMs',
    value: int({ default: 1000, min: 10, max: 60000 }),
    description: 'how long a complete waits for those replicas',
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    group: 'redis',
    key: 'commandTimeoutMs',
    value: int({ default: 2000, min: 50, max: 60000 }),
    description: 'longest wait for one Redis command before the request gets a 503',
  },

  // store
  DATA_DIR: {
    group: 'store',
    key: 'dataDir',
    value: text({ default: './data', values: 'a directory' }),
    description: "dev keys, the private Redis's AOF and URL, the SQLite document store",
  },
  DOCUMENT_STORE_URL: {
    group: 'store',
    key: 'url',
    value: matching(
      /^(sqlite:|postgres:\/\/|postgresql:\/\/)/,
      'must start with sqlite:, postgres:// or postgresql://',
      '`sqlite:PATH`, `postgres://...`, `postgresql://...`',
    ),
    description: 'unset = SQLite file `DATA_DIR/tixlock.sqlite`; `sqlite:PATH`; or `postgres://user:pass@host:port/db`',
  },

  // domain
  LOCK_TTL_SECONDS: {
    group: 'domain',
    key: 'lockTtlSeconds',
    value: int({ default: 180, min: 1, max: 86400 }),
    description: 'default hold; must lie within `MIN_HOLD_SECONDS..MAX_HOLD_SECONDS`',
  },
  MIN_HOLD_SECONDS: {
    group: 'domain',
    key: 'minHoldSeconds',
    value: int({ default: 1, min: 1, max: 86400 }),
    description: 'lowest `hold_seconds` a request or performance may ask for; must not exceed `MAX_HOLD_SECONDS`',
  },
  MAX_HOLD_SECONDS: {
    group: 'domain',
    key: 'maxHoldSeconds',
    value: int({ default: 900, min: 1, max: 86400 }),
    description: "highest `hold_seconds`, and the cap on a transaction's total lock life from creation",
  },
  MAX_TICKETS_PER_TRANSACTION: {
    group: 'domain',
    key: 'maxTicketsPerTransaction',
    value: int({ default: 10, min: 1, max: 1000 }),
    description: 'default per-transaction maximum (a performance may set its own)',
  },
  RECORD_RETENTION_SECONDS: {
    group: 'domain',
    key: 'recordRetentionSeconds',
    value: int({ default: 86400, min: 60, max: 30 * 86400 }),
    description:
      'how long an ended transaction stays readable (one whose hold lapsed: up to `MAX_HOLD_SECONDS` longer); Redis keeps its record that long: about 330 bytes for a hold of 2 tickets, 1,240 for a completed sale (docs/memory.md)',
  },
  BUYER_MAX_TICKETS: {
    group: 'domain',
    key: 'buyerMaxTickets',
    value: int({ default: 10, min: 0, max: 100000 }),
    description: 'tickets one buyer (`buyer.id`, else `buyer.email`) may have locked at once per performance; `0` = no limit',
  },
  PERFORMANCE_END_GRACE_SECONDS: {
    group: 'domain',
    key: 'endGraceSeconds',
    value: int({ default: 21600, min: 0, max: 30 * 86400 }),
    description:
      'a performance without `ends_at` ends this long after its `starts_at` (one with neither never ends on its own); an ended performance is closed: no new holds ([lifecycle.md](lifecycle.md))',
  },

  // limits
  HOLD_RATE_LIMIT: {
    group: 'limits',
    key: 'holdRateLimit',
    value: int({ default: 0, min: 0, max: 1000000 }),
    description: 'holds (`POST /transaction`) per client key per window, counted in Redis across replicas; `0` = off',
  },
  HOLD_RATE_WINDOW_SECONDS: {
    group: 'limits',
    key: 'holdRateWindowSeconds',
    value: int({ default: 1, min: 1, max: 86400 }),
    description: 'the window of `HOLD_RATE_LIMIT`',
  },
  IDEMPOTENCY_TTL_SECONDS: {
    group: 'limits',
    key: 'idempotencyTtlSeconds',
    value: int({ default: 86400, min: 60, max: 30 * 86400 }),
    description:
      'how long the answer to an `Idempotency-Key` is kept: about 320 bytes of Redis per request that sent one (docs/memory.md)',
  },

  // logging
  LOG_LEVEL: {
    group: 'logging',
    key: 'level',
    value: derivedDefault(oneOf(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent']), '`info` (`silent` in test)'),
    description: 'winston level, or `silent`',
  },

  // writer
  WRITER_BATCH_SIZE: {
    group: 'writer',
    key: 'batchSize',
    value: int({ default: 100, min: 1, max: 10000 }),
    description: 'sales read per XREADGROUP / XAUTOCLAIM',
  },
  WRITER_BLOCK_MS: {
    group: 'writer',
    key: 'blockMs',
    value: int({ default: 500, min: 10, max: 60000 }),
    description:
      "how long one XREADGROUP waits for new sales (the outbox of a performance that was not active, new or idle, is joined within about 0.5 s + this)",
  },
  WRITER_CLAIM_IDLE_MS: {
    group: 'writer',
    key: 'claimIdleMs',
    value: int({ default: 30000, min: 100, max: 3600000 }),
    description: 'a sale pending this long (its writer died) is claimed by a live writer',
  },
  WRITER_MAX_DELIVERIES: {
    group: 'writer',
    key: 'maxDeliveries',
    value: int({ default: 10, min: 1, max: 1000 }),
    description: 'failed deliveries (other than "document store unavailable") before a sale moves to the dead letters',
  },
  WRITER_SWEEP_INTERVAL_MS: {
    group: 'writer',
    key: 'sweepIntervalMs',
    value: int({ default: 5000, min: 50, max: 3600000 }),
    description:
      'how often one writer (elected with redlock) reclaims stale sales, trims and retires the active outboxes and checks `WRITER_SCAN_BATCH` other performances',
  },
  WRITER_RETIRE_AFTER_MS: {
    group: 'writer',
    key: 'retireAfterMs',
    value: int({ default: 120000, min: 90000, max: 86400000 }),
    description:
      "a performance's outbox found drained (everything persisted) this long after its latest complete is no longer read, claimed or trimmed until its next complete; at least 90 s: a complete runs within 60 s of its performance's mark or not at all ([order writer](order-writer.md))",
  },
  WRITER_SCAN_BATCH: {
    group: 'writer',
    key: 'scanBatch',
    value: int({ default: 10, min: 1, max: 10000 }),
    description:
      'performances the sweep checks per round besides the active ones, round robin over every performance: an outbox holding sales without its active mark is marked again, a performance behind the document store is found; a full pass over P performances takes P ÷ this many sweeps',
  },
  WRITER_CONSUMER: {
    group: 'writer',
    key: 'consumer',
    value: derivedDefault(matching(ID_PATTERN, 'must be 1-128 of [A-Za-z0-9._:-]', '1–128 of `[A-Za-z0-9._:-]`'), '`<hostname>-<pid>`'),
    description: "this writer's consumer name in the group",
  },
  WRITER_AUTO_REHYDRATE: {
    group: 'writer',
    key: 'autoRehydrate',
    value: flag(true),
    description:
      "`1` = a performance found behind the document store is rehydrated at once; `0` = it stays `RECOVERING` until `tixlock rehydrate` ([production topology](production-topology.md))",
  },
  ARCHIVE_AUTO: {
    group: 'writer',
    key: 'archiveAuto',
    value: flag(true),
    description:
      '`1` = the order writer that sweeps also archives closed or ended performances whose sales are all persisted (their Redis keys removed); `0` = only `tixlock archive` does ([lifecycle.md](lifecycle.md))',
  },
  ARCHIVE_INTERVAL_SECONDS: {
    group: 'writer',
    key: 'archiveIntervalSeconds',
    value: int({ default: 60, min: 1, max: 86400 }),
    description: 'how often the sweeping writer looks for performances to archive',
  },
  ARCHIVE_LOCK_MARGIN_SECONDS: {
    group: 'writer',
    key: 'archiveLockMarginSeconds',
    value: int({ default: 60, min: 0, max: 86400 }),
    description: "a performance is archived only once its last lock lapsed at least this long ago (Redis clocks of a failover's nodes may differ)",
  },
} as const satisfies Record<string, Setting>;

export type SettingsTable = typeof SETTINGS_TABLE;
export type SettingName = keyof SettingsTable;

/** The table's entries, in its order. */
export const SETTING_ENTRIES = Object.entries(SETTINGS_TABLE) as [SettingName, Setting][];

/** The settings of a group, in the table's order. */
export const settingsIn = (group: Group): SettingName[] => SETTING_ENTRIES.filter(([, s]) => s.group === group).map(([name]) => name);
