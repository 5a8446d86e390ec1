// `tixlock onsale` arguments: node:util parseArgs, defaults, validation and the --help text.
import { parseArgs } from 'node:util';

export interface Range {
  min: number;
  max: number;
}

/** What share of buyers does what once they hold tickets; whoever is left pays. */
export interface Shares {
  /** hold, then walk away: never pay, never release; the lock expires */
  expire: number;
  /** hold, then release (DELETE) */
  release: number;
  /** hold, checkout, then walk away: the extended lock expires */
  abandonCheckout: number;
}

export interface OnsaleOptions {
  /** remote mode when set; else an embedded tixlock is started */
  url: string | undefined;
  adminKey: string | undefined;
  clientKey: string | undefined;
  performanceId: string | undefined;
  tickets: number;
  sections: number;
  seatsPerRow: number;
  priceLevels: number;
  buyers: number;
  concurrency: number;
  quantity: Range;
  /** share of buyers who hold best-available in one step (the rest search, then hold those ids) */
  bestShare: number;
  shares: Shares;
  thinkMs: Range;
  retries: number;
  holdSeconds: number;
  drainSeconds: number;
  seed: number;
  json: string | undefined;
  html: string | undefined;
  quiet: boolean;
  /** embedded tixlock on a Redis Cluster: 'embedded' = a private 6-node cluster, else seed nodes host:port,... */
  cluster: 'embedded' | string | undefined;
  /** with an embedded cluster: SIGKILL the primary serving the performance this many seconds into the sale */
  killPrimaryAt: number | undefined;
}

export const DEFAULTS: OnsaleOptions = Object.freeze({
  url: undefined,
  adminKey: undefined,
  clientKey: undefined,
  performanceId: undefined,
  tickets: 2000,
  sections: 4,
  seatsPerRow: 25,
  priceLevels: 3,
  buyers: 3000,
  concurrency: 100,
  quantity: { min: 1, max: 4 },
  bestShare: 0.5,
  shares: { expire: 0.1, release: 0.1, abandonCheckout: 0.1 },
  thinkMs: { min: 5, max: 100 },
  retries: 3,
  holdSeconds: 5,
  drainSeconds: 30,
  seed: 0,
  json: undefined,
  html: undefined,
  quiet: false,
  cluster: undefined,
  killPrimaryAt: undefined,
});

export const HELP = `usage: tixlock onsale [options]        (or: npm run onsale -- [options])

Simulates an on-sale against tixlock: creates a performance, runs buyers through the seed flow
(search -> hold ids, or best-available hold -> checkout -> complete), prints a summary table, then checks
the invariants in Redis and the document store (after the order writer drained). Exit code 0 when every
invariant holds, 1 on a violation or failure, 2 on bad arguments.

target (default: an embedded tixlock with a private redis-server and SQLite in a temp directory):
  --url URL                 a running tixlock instead, e.g. http://localhost:3000
  --cluster                 the embedded tixlock on a private Redis Cluster (3 primaries + 3 replicas)
  --redis-cluster-nodes L   the embedded tixlock on this Redis Cluster (seed nodes host:port,...)
  --kill-primary-at S       with --cluster: SIGKILL the performance's primary S seconds into the sale
  --admin-key KEY           its admin key (creates the performance, reads the state)   [with --url]
  --client-key KEY          its client key (the buyers)                                [with --url]

performance:
  --performance-id ID       default onsale-<random>
  --tickets T               tickets on sale                          default ${DEFAULTS.tickets}
  --sections N              sections                                 default ${DEFAULTS.sections}
  --seats-per-row N         seats in a row                           default ${DEFAULTS.seatsPerRow}
  --price-levels N          price levels (front rows dearest)        default ${DEFAULTS.priceLevels}
  --hold-seconds S          the performance's hold time              default ${DEFAULTS.holdSeconds}

buyers:
  --buyers B                simulated buyers                         default ${DEFAULTS.buyers}
  --concurrency C           buyers at a time                         default ${DEFAULTS.concurrency}
  --quantity N | MIN-MAX    tickets per buyer                        default ${DEFAULTS.quantity.min}-${DEFAULTS.quantity.max}
  --best-share F            share holding best available in one step default ${DEFAULTS.bestShare}
                            (the others search, then hold those ids)
  --expire-share F          hold, then never pay: the lock expires   default ${DEFAULTS.shares.expire}
  --release-share F         hold, then release                       default ${DEFAULTS.shares.release}
  --abandon-share F         hold, checkout, then walk away           default ${DEFAULTS.shares.abandonCheckout}
                            (everyone else pays)
  --think-ms N | MIN-MAX    think time before each step              default ${DEFAULTS.thinkMs.min}-${DEFAULTS.thinkMs.max}
  --retries N               searches again after a 409, this often   default ${DEFAULTS.retries}
  --seed N                  random seed (same seed, same buyers)     default ${DEFAULTS.seed}

afterwards:
  --drain-seconds S         longest wait for the order writer        default ${DEFAULTS.drainSeconds}
  --json FILE               write the results as JSON
  --html FILE               write a self-contained HTML report (latency histogram, sold over time)
  --quiet                   no progress bar
  -h, --help                this text`;

export class UsageError extends Error {}

function integer(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number (got '${raw}')`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must lie within ${min}..${max} (got ${n})`);
  return n;
}

function share(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--${name} must be a share between 0 and 1 (got '${raw}')`);
  }
  return n;
}

/** "N" or "MIN-MAX" of whole numbers. */
function range(name: string, raw: string | undefined, def: Range, min: number, max: number): Range {
  if (raw === undefined) return { ...def };
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  if (!m) throw new UsageError(`--${name} must be N or MIN-MAX (got '${raw}')`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > hi) throw new UsageError(`--${name}: MIN must not exceed MAX (got '${raw}')`);
  if (lo < min || hi > max) throw new UsageError(`--${name} must lie within ${min}..${max} (got '${raw}')`);
  return { min: lo, max: hi };
}

const ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The arguments node:util parseArgs takes (all strings but the switches). */
const ARGS = {
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  'client-key': { type: 'string' },
  'performance-id': { type: 'string' },
  tickets: { type: 'string' },
  sections: { type: 'string' },
  'seats-per-row': { type: 'string' },
  'price-levels': { type: 'string' },
  'hold-seconds': { type: 'string' },
  buyers: { type: 'string' },
  concurrency: { type: 'string' },
  quantity: { type: 'string' },
  'best-share': { type: 'string' },
  'expire-share': { type: 'string' },
  'release-share': { type: 'string' },
  'abandon-share': { type: 'string' },
  'think-ms': { type: 'string' },
  retries: { type: 'string' },
  seed: { type: 'string' },
  'drain-seconds': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  cluster: { type: 'boolean' },
  'redis-cluster-nodes': { type: 'string' },
  'kill-primary-at': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Parses argv (without the command name); returns 'help' for -h/--help; throws UsageError. */
export function parseOptions(argv: readonly string[]): OnsaleOptions | 'help' {
  let values: Values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: ARGS }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string) => values[name] as string | undefined;
  // checked in this order: the target, the performance id, the shares, then each number as the result lists it
  const target = targetOf(values);
  const performanceId = str('performance-id');
  if (performanceId !== undefined && !ID.test(performanceId)) {
    throw new UsageError('--performance-id must be 1-100 characters of A-Z a-z 0-9 . _ : -');
  }
  const shares = sharesOf(str);
  return {
    url: target.url,
    adminKey: target.adminKey,
    clientKey: target.clientKey,
    performanceId,
    tickets: integer('tickets', str('tickets'), DEFAULTS.tickets, 1, 1_000_000),
    sections: integer('sections', str('sections'), DEFAULTS.sections, 1, 100),
    seatsPerRow: integer('seats-per-row', str('seats-per-row'), DEFAULTS.seatsPerRow, 1, 1000),
    priceLevels: integer('price-levels', str('price-levels'), DEFAULTS.priceLevels, 1, 26),
    holdSeconds: integer('hold-seconds', str('hold-seconds'), DEFAULTS.holdSeconds, 1, 900),
    buyers: integer('buyers', str('buyers'), DEFAULTS.buyers, 1, 10_000_000),
    concurrency: integer('concurrency', str('concurrency'), DEFAULTS.concurrency, 1, 10_000),
    quantity: range('quantity', str('quantity'), DEFAULTS.quantity, 1, 1000),
    bestShare: share('best-share', str('best-share'), DEFAULTS.bestShare),
    shares,
    thinkMs: range('think-ms', str('think-ms'), DEFAULTS.thinkMs, 0, 600_000),
    retries: integer('retries', str('retries'), DEFAULTS.retries, 0, 1000),
    seed: integer('seed', str('seed'), DEFAULTS.seed, 0, 2 ** 32 - 1),
    drainSeconds: integer('drain-seconds', str('drain-seconds'), DEFAULTS.drainSeconds, 0, 3600),
    json: str('json'),
    html: str('html'),
    quiet: Boolean(values.quiet),
    cluster: target.cluster,
    killPrimaryAt: target.killAt === undefined ? undefined : integer('kill-primary-at', target.killAt, 0, 0, 3600),
  };
}

/**
 * The target: --url with its keys, or the embedded tixlock (on --cluster or --redis-cluster-nodes, with
 * --kill-primary-at, whose number parseOptions reads last).
 */
function targetOf(values: Values): Pick<OnsaleOptions, 'url' | 'adminKey' | 'clientKey' | 'cluster'> & { killAt: string | undefined } {
  const str = (name: string) => values[name] as string | undefined;
  const url = str('url');
  const adminKey = str('admin-key');
  const clientKey = str('client-key');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url must be an http(s) URL (got '${url}')`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--url must start with http:// or https://');
    if (!adminKey || !clientKey) throw new UsageError('--url needs --admin-key and --client-key');
  } else if (adminKey !== undefined || clientKey !== undefined) {
    throw new UsageError('--admin-key and --client-key go with --url (the embedded tixlock makes its own keys)');
  }
  const seeds = str('redis-cluster-nodes');
  if (values.cluster && seeds !== undefined) throw new UsageError('--cluster starts a cluster of its own; --redis-cluster-nodes names one: not both');
  if (url !== undefined && (values.cluster || seeds !== undefined)) throw new UsageError('--cluster and --redis-cluster-nodes go with the embedded tixlock, not --url');
  if (seeds !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/.test(seeds)) {
    throw new UsageError(`--redis-cluster-nodes must be host:port,host:port,... (got '${seeds}')`);
  }
  const killAt = str('kill-primary-at');
  if (killAt !== undefined && !values.cluster) throw new UsageError('--kill-primary-at needs --cluster (a cluster whose nodes this process started)');
  return {
    url: url?.replace(/\/+$/, ''),
    adminKey,
    clientKey,
    cluster: values.cluster ? 'embedded' : seeds,
    killAt,
  };
}

/** What share of buyers walks away how (at most 1 together). */
function sharesOf(str: (name: string) => string | undefined): Shares {
  const shares: Shares = {
    expire: share('expire-share', str('expire-share'), DEFAULTS.shares.expire),
    release: share('release-share', str('release-share'), DEFAULTS.shares.release),
    abandonCheckout: share('abandon-share', str('abandon-share'), DEFAULTS.shares.abandonCheckout),
  };
  if (shares.expire + shares.release + shares.abandonCheckout > 1 + 1e-9) {
    throw new UsageError('--expire-share + --release-share + --abandon-share must not exceed 1');
  }
  return shares;
}
