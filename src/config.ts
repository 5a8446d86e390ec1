// The only reader of process.env: every setting, parsed once by a zod schema and frozen.
// The README's configuration table lists the same variables.
import { z } from 'zod';

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

/** Express's `trust proxy`: false (default), true, a hop count, or a comma list of addresses/subnets. */
const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((raw): boolean | number | string[] => {
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d+$/.test(raw)) return Number(raw);
    return raw.split(',').map((s) => s.trim()).filter(Boolean);
  });

const schema = z
  .object({
    NODE_ENV: z.string().optional().transform((v) => v ?? 'development'),
    HOST: z.string().min(1).optional().transform((v) => v ?? '0.0.0.0'),
    PORT: int(3000, 0, 65535),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    REDIS_SERVER_BIN: z.string().min(1).optional().transform((v) => v ?? 'redis-server'),
    REDIS_COMMAND_TIMEOUT_MS: int(2000, 50, 60000),
    DATA_DIR: z.string().min(1).optional().transform((v) => v ?? './data'),
    LOCK_TTL_SECONDS: int(180, 1, 86400),
    MIN_HOLD_SECONDS: int(1, 1, 86400),
    MAX_HOLD_SECONDS: int(900, 1, 86400),
    MAX_TICKETS_PER_TRANSACTION: int(10, 1, 1000),
    RECORD_RETENTION_SECONDS: int(86400, 60, 30 * 86400),
    TRUST_PROXY: trustProxy,
    TIXLOCK_API_KEYS: keyList,
    TIXLOCK_ADMIN_KEYS: keyList,
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent']).optional(),
    DOCUMENT_STORE_URL: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.MIN_HOLD_SECONDS > c.MAX_HOLD_SECONDS)
      ctx.addIssue({ code: 'custom', path: ['MIN_HOLD_SECONDS'], message: 'must not exceed MAX_HOLD_SECONDS' });
    if (c.LOCK_TTL_SECONDS < c.MIN_HOLD_SECONDS || c.LOCK_TTL_SECONDS > c.MAX_HOLD_SECONDS)
      ctx.addIssue({ code: 'custom', path: ['LOCK_TTL_SECONDS'], message: 'must lie within MIN_HOLD_SECONDS..MAX_HOLD_SECONDS' });
  });

export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly redisUrl: string | undefined;
  readonly redisServerBin: string;
  readonly redisCommandTimeoutMs: number;
  readonly dataDir: string;
  readonly lockTtlSeconds: number;
  readonly minHoldSeconds: number;
  readonly maxHoldSeconds: number;
  readonly maxTicketsPerTransaction: number;
  readonly recordRetentionSeconds: number;
  readonly trustProxy: boolean | number | readonly string[];
  readonly apiKeys: readonly { name: string; key: string }[];
  readonly adminKeys: readonly { name: string; key: string }[];
  readonly logLevel: string;
  readonly documentStoreUrl: string | undefined;
}

export class ConfigError extends Error {}

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
  return Object.freeze({
    nodeEnv: c.NODE_ENV,
    production: c.NODE_ENV === 'production',
    host: c.HOST,
    port: c.PORT,
    redisUrl: c.REDIS_URL,
    redisServerBin: c.REDIS_SERVER_BIN,
    redisCommandTimeoutMs: c.REDIS_COMMAND_TIMEOUT_MS,
    dataDir: c.DATA_DIR,
    lockTtlSeconds: c.LOCK_TTL_SECONDS,
    minHoldSeconds: c.MIN_HOLD_SECONDS,
    maxHoldSeconds: c.MAX_HOLD_SECONDS,
    maxTicketsPerTransaction: c.MAX_TICKETS_PER_TRANSACTION,
    recordRetentionSeconds: c.RECORD_RETENTION_SECONDS,
    trustProxy: Object.freeze(c.TRUST_PROXY),
    apiKeys: Object.freeze(c.TIXLOCK_API_KEYS),
    adminKeys: Object.freeze(c.TIXLOCK_ADMIN_KEYS),
    logLevel: c.LOG_LEVEL ?? (c.NODE_ENV === 'test' ? 'silent' : 'info'),
    documentStoreUrl: c.DOCUMENT_STORE_URL,
  });
}
