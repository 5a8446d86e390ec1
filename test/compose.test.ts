// docker-compose.yml (the production-like local stack) checked without Docker: the file against the Compose
// specification's JSON schema (vendored: test/fixtures/compose-spec.json), every tixlock setting it uses against
// the config schema (a known name, and the environment a container gets parses), and its wiring against the
// Dockerfile and the other services (the sentinels' name and port, PostgreSQL's user and database, the replicas a
// sale waits for).
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import yaml from 'js-yaml';
import { COMMANDS } from '../src/cli-help';
import { loadConfig, SETTINGS, type Config } from '../src/config';
import { REPO } from './support/spawn';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | null> | string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { disable?: boolean };
}
interface ComposeFile {
  services: Record<string, Service>;
}

const composeText = fs.readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
/** the file as Compose reads it: YAML (anchors and merge keys resolved), then ${...} interpolated */
const compose = interpolate(yaml.load(composeText)) as ComposeFile;

/**
 * Compose's interpolation with nothing set in the environment: `${NAME:-default}` is its default, `$$` a `$`.
 * Any other form fails the test, so that a new one is looked at (a `${NAME}` without default would be empty).
 */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([^}]*)\}|\$[A-Za-z_]/g, (match, inner: string | undefined) => {
      if (match === '$$') return '$';
      const m = inner === undefined ? null : /^[A-Za-z_][A-Za-z0-9_]*:-(.*)$/.exec(inner);
      if (!m) throw new Error(`docker-compose.yml: interpolation without a default: ${match}`);
      return m[1] as string;
    });
  }
  if (Array.isArray(value)) return value.map(interpolate);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

/** A service's environment as a map (Compose accepts a map or a list of NAME=value). */
function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The Dockerfile's last stage: its ENV (continuation lines joined) and ENTRYPOINT. */
function dockerfileRuntime(): { env: Record<string, string>; entrypoint: string[] } {
  const text = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1] as string;
  const env: Record<string, string> = {};
  for (const line of last.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, k, v] of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) env[k as string] = v as string;
  }
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(last)?.[1] ?? '[]') as string[];
  return { env, entrypoint };
}

const tixlockServices = Object.entries(compose.services).filter(([, s]) => s.image === 'tixlock:local');
/** what the container's process sees: the image's ENV, then the service's environment */
const containerConfig = (service: Service): Config => loadConfig({ ...dockerfileRuntime().env, ...environmentOf(service) });
const role = (service: Service) => service.command?.[0];

test('the file is valid against the Compose specification schema', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'compose-spec.json'), 'utf8'));
  // strictTypes off: the specification's schema mixes types in one keyword (its business, not this file's)
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  ajv.addMetaSchema({ ...draft07, $id: schema.$schema }); // it names draft-07 by its https address
  const validate = ajv.compile(schema);
  expect(validate(compose) ? [] : validate.errors).toEqual([]);
  // the validator does reject what Compose rejects
  expect(validate({ services: { api: { image: 'x', enviroment: {} } } })).toBe(false);
});

test('two API replicas and two order writers from the Dockerfile; Redis with a replica and three sentinels; PostgreSQL', () => {
  const roles = tixlockServices.map(([, s]) => role(s)).sort();
  expect(roles).toEqual(['api', 'api', 'order-writer', 'order-writer']);
  for (const [, s] of tixlockServices) {
    expect(s.build).toBe('.');
    expect(Object.keys(COMMANDS)).toContain(role(s));
  }
  const commands = Object.values(compose.services).map((s) => (s.command ?? []).join(' '));
  expect(commands.filter((c) => /^redis-server /.test(c))).toHaveLength(2);
  expect(commands.filter((c) => /--replicaof redis-primary 6379/.test(c))).toHaveLength(1);
  expect(commands.filter((c) => /exec redis-sentinel /.test(c))).toHaveLength(3);
  expect(Object.values(compose.services).filter((s) => s.image?.startsWith('postgres:'))).toHaveLength(1);
  // every depends_on names a service of the file
  for (const [name, s] of Object.entries(compose.services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dep of deps) expect({ name, dep, known: dep in compose.services }).toEqual({ name, dep, known: true });
  }
});

test('every setting of a tixlock service is one src/config.ts reads, and the environment parses', () => {
  for (const [name, s] of tixlockServices) {
    const unknown = Object.keys(environmentOf(s)).filter((k) => !SETTINGS.includes(k));
    expect({ name, unknown }).toEqual({ name, unknown: [] });
    expect(() => containerConfig(s)).not.toThrow();
    const config = containerConfig(s);
    expect(config.server.production).toBe(true);
    expect(config.redis.topology.mode).toBe('sentinel');
    expect(config.store.url).toMatch(/^postgres:\/\//);
  }
  // and a misspelt setting would be caught
  expect(SETTINGS).not.toContain('REDIS_SENTINEL');
  expect(SETTINGS).toContain('REDIS_SENTINEL_NAME');
});

test('the Dockerfile: node dist/src/cli.js as entrypoint; HOST=0.0.0.0, so each API replica serves its published port', () => {
  const { env, entrypoint } = dockerfileRuntime();
  expect(entrypoint).toEqual(['node', 'dist/src/cli.js']);
  expect(env.HOST).toBe('0.0.0.0');
  for (const [name, s] of tixlockServices.filter(([, s]) => role(s) === 'api')) {
    const config = containerConfig(s);
    expect({ name, host: config.server.host }).toEqual({ name, host: '0.0.0.0' });
    const targets = (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    expect({ name, targets }).toEqual({ name, targets: [config.server.port] });
  }
  // the writers serve no /healthz: the image's HEALTHCHECK is off for them
  expect(fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
  for (const [name, s] of tixlockServices.filter(([, s]) => role(s) === 'order-writer')) {
    expect({ name, healthcheck: s.healthcheck }).toEqual({ name, healthcheck: { disable: true } });
  }
});

test('the wiring: sentinels, the monitored name, the replicas a sale waits for, PostgreSQL, writer names', () => {
  const sentinelConf = (compose.services['sentinel-1']?.command ?? []).join('\n');
  const monitor = /sentinel monitor (\S+) (\S+) (\d+) (\d+)/.exec(sentinelConf);
  const sentinelPort = Number(/^\s*port (\d+)$/m.exec(sentinelConf)?.[1]);
  const replicas = Object.values(compose.services).filter((s) => (s.command ?? []).includes('--replicaof')).length;
  const pg = environmentOf(compose.services.postgres as Service);
  const consumers = new Set<string>();

  for (const [name, s] of tixlockServices) {
    const config = containerConfig(s);
    const { topology } = config.redis;
    if (topology.mode !== 'sentinel') throw new Error(`${name}: not on the sentinels`);
    const sentinels = topology.sentinels.map((n) => `${n.host}:${n.port}`);
    const sentinelServices = Object.keys(compose.services).filter((k) => k.startsWith('sentinel-'));
    expect(sentinels).toEqual(sentinelServices.map((k) => `${k}:${sentinelPort}`));
    expect(topology.name).toBe(monitor?.[1]);
    expect(monitor?.[2]).toBe('redis-primary');
    expect(Number(monitor?.[4])).toBeLessThanOrEqual(sentinels.length); // a quorum the sentinels can reach
    expect(config.redis.waitReplicas).toBeGreaterThan(0);
    expect(config.redis.waitReplicas).toBeLessThanOrEqual(replicas);
    const url = new URL(config.store.url as string);
    expect([url.hostname, url.username, decodeURIComponent(url.password), url.pathname]).toEqual([
      'postgres',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    if (role(s) === 'order-writer') consumers.add(config.writer.consumer);
    expect(config.keys.clients.length + config.keys.admins.length).toBeGreaterThan(0);
  }
  expect(consumers.size).toBe(2); // each writer its own consumer name in the group
});
