// The only reader of process.env. Every setting is declared once, in src/config-table.ts (variable, group, key,
// default, bounds, meaning); loadConfig parses each by its entry into its group, applies the rules that span
// settings (applyCrossFieldRules, below) and freezes the result. The Config type is derived from the table.
import { hostname } from 'node:os';
import type { z } from 'zod';
import {
  GROUPS,
  REDIS_TOPOLOGY_SETTINGS,
  SETTING_ENTRIES,
  type REDIS_TOPOLOGY_INPUTS,
  type DerivedDefault,
  type Group,
  type SettingName,
  type SettingsTable,
} from './config-table';
import type { DomainSettings } from './domain/types';
import { StartupError } from './startup-error';

export { API_WORKERS_RULE, MAX_API_WORKERS, parseApiWorkers, REDIS_TOPOLOGY_SETTINGS } from './config-table';

/** Every environment variable tixlock reads (the compose file's settings are checked against it). */
export const SETTINGS: readonly string[] = Object.freeze(SETTING_ENTRIES.map(([name]) => name));

// ---- the types, derived from the table ----

type ValueOf<N extends SettingName> = SettingsTable[N]['value'];
/** A setting as its entry parses it: undefined when unset and without a default. */
type Parsed<N extends SettingName> = z.output<ValueOf<N>['schema']>;
/** A setting once the cross-field rules have run: a default derived from elsewhere is filled in. */
type Settled<N extends SettingName> = ValueOf<N> extends DerivedDefault<unknown> ? NonNullable<Parsed<N>> : Parsed<N>;

/** Each group's settings by key: as the per-variable parse gives them, and once the cross-field rules have run. */
type ParsedGroups = {
  [G in Group]: { [N in SettingName as SettingsTable[N]['group'] extends G ? SettingsTable[N]['key'] : never]: Parsed<N> };
};
type SettledGroups = {
  [G in Group]: { [N in SettingName as SettingsTable[N]['group'] extends G ? SettingsTable[N]['key'] : never]: Settled<N> };
};

/** The keys of the Redis settings read as one, config.redis.topology, not one by one. */
type TopologyKey = SettingsTable[(typeof REDIS_TOPOLOGY_INPUTS)[number]]['key'];

/** What the cross-field rules make of the groups: derived defaults filled in, `production`, and the Redis topology. */
type Ruled = Omit<SettledGroups, 'server' | 'redis'> & {
  server: SettledGroups['server'] & { production: boolean };
  redis: Omit<SettledGroups['redis'], TopologyKey> & { topology: RedisTopology };
};

/** Deeply read-only, as loadConfig freezes it. */
type Frozen<T> = T extends readonly (infer U)[] ? readonly Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

/** The configuration: one frozen object per group of the table (config.server.port, config.domain, ...). */
export type Config = Frozen<Ruled>;
export type WriterConfig = Config['writer'];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The domain gets its group as it is: the group's type and the domain's DomainSettings are the same, else no compile. */
const _domainGroupIsDomainSettings: Same<Config['domain'], DomainSettings> = true;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RedisTopology =
  | { readonly mode: 'embedded' }
  | { readonly mode: 'url'; readonly url: string; readonly auth: RedisAuth }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly auth: RedisAuth }
  | { readonly mode: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly auth: RedisAuth };

/** Credentials and TLS that apply to every node (REDIS_URL may carry its own in the URL). */
export interface RedisAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/** A variable with a value tixlock does not accept: the message names it and the rule. */
export class ConfigError extends StartupError {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; throws ConfigError with one line naming the offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return deepFreeze(applyCrossFieldRules(parseEach(env)));
}

const invalid = (name: SettingName, rule: string) => new ConfigError(`Invalid configuration: ${name}: ${rule}`);

/** Each variable by its table entry, into its group; the first invalid one (in the table's order) is thrown. */
function parseEach(env: NodeJS.ProcessEnv): ParsedGroups {
  const groups = Object.fromEntries(Object.keys(GROUPS).map((group) => [group, {}])) as Record<Group, Record<string, unknown>>;
  for (const [name, setting] of SETTING_ENTRIES) {
    const raw = env[name];
    // Empty strings count as unset, as shells and compose files often leave them.
    const parsed = setting.value.schema.safeParse(raw === '' ? undefined : raw);
    if (!parsed.success) throw invalid(name, parsed.error.issues[0]?.message ?? 'invalid');
    groups[setting.group][setting.key] = parsed.data;
  }
  return groups as unknown as ParsedGroups; // every entry's value at [group][key]: the shape ParsedGroups spells
}

/**
 * The rules that span settings, after each was parsed on its own: at most one place for Redis, sentinels with their
 * primary's name, the hold bounds; then what is derived from several settings or from the host: the defaults of
 * LOG_LEVEL (by NODE_ENV) and WRITER_CONSUMER (hostname-pid), `production`, and the Redis topology.
 */
function applyCrossFieldRules(c: ParsedGroups): Ruled {
  const where = { REDIS_URL: c.redis.url, REDIS_CLUSTER_NODES: c.redis.clusterNodes, REDIS_SENTINELS: c.redis.sentinels };
  const modes = REDIS_TOPOLOGY_SETTINGS.filter((name) => where[name] !== undefined);
  if (modes[1] !== undefined) throw invalid(modes[1], `set only one of ${REDIS_TOPOLOGY_SETTINGS.join(', ')} (also set: ${modes[0]})`);
  if ((c.redis.sentinels === undefined) !== (c.redis.sentinelName === undefined))
    throw invalid('REDIS_SENTINEL_NAME', 'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together');
  const { minHoldSeconds, maxHoldSeconds, lockTtlSeconds } = c.domain;
  if (minHoldSeconds > maxHoldSeconds) throw invalid('MIN_HOLD_SECONDS', 'must not exceed MAX_HOLD_SECONDS');
  if (lockTtlSeconds < minHoldSeconds || lockTtlSeconds > maxHoldSeconds)
    throw invalid('LOCK_TTL_SECONDS', 'must lie within MIN_HOLD_SECONDS..MAX_HOLD_SECONDS');

  const { url, clusterNodes, sentinels, sentinelName, username, password, tls, ...redis } = c.redis;
  const auth: RedisAuth = { username, password, tls: tls || (url?.startsWith('rediss://') ?? false) };
  const topology: RedisTopology = url
    ? { mode: 'url', url, auth }
    : clusterNodes
      ? { mode: 'cluster', nodes: clusterNodes, auth }
      : sentinels && sentinelName !== undefined
        ? { mode: 'sentinel', sentinels, name: sentinelName, auth }
        : { mode: 'embedded' };
  return {
    ...c,
    server: { ...c.server, production: c.server.nodeEnv === 'production' },
    redis: { ...redis, topology },
    logging: { ...c.logging, level: c.logging.level ?? (c.server.nodeEnv === 'test' ? 'silent' : 'info') },
    writer: { ...c.writer, consumer: c.writer.consumer ?? `${hostname()}-${process.pid}` },
  };
}

function deepFreeze<T>(value: T): Frozen<T> {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value as Frozen<T>;
}
