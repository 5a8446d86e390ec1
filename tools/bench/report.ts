// The benchmark's results: the JSON shape written to bench-results.json, the target checks of the issue, and the
// markdown printed at the end of `npm run bench`.
import type { CeilingResult } from './ceiling';
import type { IdleCost } from './idle-writer';
import type { MixedResult } from './mixed';
import type { SeasonResult } from './season';
import type { LoadResult } from './protocol';
import type { VenueComparison, VenueResult } from './venues';
import type { WaitResult } from './wait';
import type { WorkersResult } from './workers';

export interface ScenarioResult {
  id: string;
  name: string;
  /** what each request is */
  request: string;
  requests_per_second: number;
  requests_total: number;
  duration_seconds: number;
  latency_ms: LoadResult['latencyMs'];
  non_2xx: number;
  errors: number;
  timeouts: number;
  status_codes: Record<string, number>;
  /** requests/s over the bare-Express baseline (a) */
  ratio_to_a: number;
  /** CPU time of the serving process (tixlock's API; for (a) the bare Express app) per completed request, µs */
  server_cpu_us_per_request: number;
  /** CPU time of redis-server per completed request, µs */
  redis_cpu_us_per_request: number;
  /** CPU time of the load generator (autocannon) per completed request, µs */
  load_generator_cpu_us_per_request: number;
  /** forks of redis-server during the run (an AOF rewrite); 0 in a clean run */
  redis_forks: number;
  /** stopped before its duration because its input list ran out */
  ended_early: boolean;
  /** requests/s of each part the result sums (two halves; ABBA slices for the hold-scale runs) */
  parts_requests_per_second: number[];
  warmup: { seconds: number; requests_per_second: number; non_2xx: number; errors: number } | undefined;
}

export interface ScaleResult extends ScenarioResult {
  inventory_tickets: number;
  /** distinct ticket pairs the loop cycles through */
  pairs: number;
  /** each loop is one hold and one release: holds/s = requests/s / 2 */
  holds_per_second: number;
}

export interface MemoryResult {
  tickets: number;
  used_memory_before: number;
  used_memory_after: number;
  delta_bytes: number;
  bytes_per_ticket: number;
  /** client buffers and the AOF buffer (not data) at the two readings; they should be about equal */
  mem_clients_normal: [number, number];
  mem_aof_buffer: [number, number];
  keys_added: number;
  expires_added: number;
  /** MEMORY USAGE per ticket by kind of key (bytes); `other` = the INFO delta minus the listed parts */
  breakdown_bytes_per_ticket: Record<string, number>;
}

/** the season row: Redis memory through a season (season.ts) and the idle writer's commands/s (idle-writer.ts) */
export interface SeasonReport {
  memory: SeasonResult;
  idle_writer: { few: IdleCost; many: IdleCost; ratio_many_to_few: number };
}

export interface TargetCheck {
  id: string;
  description: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  tool: string;
  mode: 'full' | 'quick';
  started_at: string;
  finished_at: string;
  elapsed_seconds: number;
  machine: { cpus: number; cpu_model: string; node: string; redis: string; platform: string };
  setup: Record<string, unknown>;
  /** (a) .. (f) */
  scenarios: ScenarioResult[];
  inventory_scale: { small: ScaleResult; large: ScaleResult; ratio_large_to_small: number };
  memory: { available: MemoryResult; locked: MemoryResult };
  /** best-available holds of 2 on the small venue, a stadium and the stadium with its cheapest price fragmented */
  venues: VenueComparison;
  /** another performance's holds and searches, alone and while the stadium gets best-available holds */
  mixed: MixedResult;
  /** one performance driven through the lock store directly, Redis the limit */
  ceiling: CeilingResult;
  /** 1 and 2 API worker processes (API_WORKERS) on the same Redis */
  workers: WorkersResult;
  /** completes with REDIS_WAIT_REPLICAS=0 and =1 (a local replica) */
  wait: WaitResult;
  /** a season sold, archived and expired; the idle writer by performances created */
  season: SeasonReport;
  targets: TargetCheck[];
}

const fixed = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The targets, checked against a run (reported, never asserted). */
export function checkTargets(r: Omit<BenchReport, 'targets'>): TargetCheck[] {
  const byId = (id: string) => r.scenarios.find((s) => s.id === id);
  const checks: TargetCheck[] = [];
  for (const id of ['b', 'c']) {
    const s = byId(id);
    if (!s) continue;
    checks.push({
      id: `${id}-throughput`,
      description: `(${id}) ${s.name}: requests/s vs (a)`,
      target: '≥ 0.85 × (a)',
      measured: `${s.ratio_to_a.toFixed(2)} × (a) (${fixed(s.requests_per_second)} vs ${fixed(byId('a')?.requests_per_second ?? 0)} req/s)`,
      met: s.ratio_to_a >= 0.85,
    });
    checks.push({
      id: `${id}-p99`,
      description: `(${id}) ${s.name}: p99 latency`,
      target: '≤ 25 ms',
      measured: `${fixed(s.latency_ms.p99, 1)} ms`,
      met: s.latency_ms.p99 <= 25,
    });
  }
  const { small, large, ratio_large_to_small: ratio } = r.inventory_scale;
  checks.push({
    id: 'hold-scale',
    description: `hold rate on ${fixed(large.inventory_tickets)} tickets vs ${fixed(small.inventory_tickets)}`,
    target: '≥ 0.95 ×',
    measured: `${ratio.toFixed(2)} × (${fixed(large.holds_per_second)} vs ${fixed(small.holds_per_second)} holds/s)`,
    met: ratio >= 0.95,
  });
  checks.push({
    id: 'memory-available',
    description: 'Redis memory per available ticket',
    target: '≤ 200 bytes',
    measured: `${fixed(r.memory.available.bytes_per_ticket, 1)} bytes`,
    met: r.memory.available.bytes_per_ticket <= 200,
  });
  checks.push({
    id: 'memory-locked',
    description: 'Redis memory per locked ticket',
    target: '≤ 600 bytes',
    measured: `${fixed(r.memory.locked.bytes_per_ticket, 1)} bytes`,
    met: r.memory.locked.bytes_per_ticket <= 600,
  });
  for (const [key, v] of [
    ['stadium', r.venues.stadium],
    ['fragmented', r.venues.fragmented],
  ] as const) {
    const ratio = key === 'stadium' ? r.venues.ratio_stadium_to_small : r.venues.ratio_fragmented_to_small;
    checks.push({
      id: `venue-${key}-ratio`,
      description: `best available, ${v.name.replace('best-available hold of 2, ', '')} vs the small venue: requests/s`,
      target: '≥ 0.9 ×',
      measured: `${ratio.toFixed(2)} × (${fixed(v.requests_per_second)} vs ${fixed(r.venues.small.requests_per_second)} req/s)`,
      met: ratio >= 0.9,
    });
  }
  const redisTarget = (id: string, description: string, s: ScenarioResult | undefined, limit: number) => {
    if (!s) return;
    checks.push({
      id: `${id}-redis-cpu`,
      description: `${description}: Redis CPU per request`,
      target: `≤ ${limit} µs`,
      measured: `${fixed(s.redis_cpu_us_per_request, 1)} µs`,
      met: s.redis_cpu_us_per_request <= limit,
    });
  };
  redisTarget('b', `(b) ${byId('b')?.name ?? ''}`, byId('b'), 40);
  for (const v of [r.venues.small, r.venues.stadium, r.venues.fragmented]) redisTarget(`venue-${v.venue}`, v.name, v, 60);
  redisTarget('d', `(d) ${byId('d')?.name ?? ''}`, byId('d'), 30);
  redisTarget('e', `(e) ${byId('e')?.name ?? ''}`, byId('e'), 60);
  redisTarget('f', `(f) ${byId('f')?.name ?? ''}`, byId('f'), 40);
  checks.push(...seasonTargets(r.season));
  return checks;
}

/** used_memory after a season was archived and its records and answers expired, over the baseline */
export const SEASON_MEMORY_TARGET = 1.05;
/** the idle writer's commands/s with many performances over few */
export const IDLE_WRITER_TARGET = 1.1;

/** The season row's targets: memory back to the baseline, the idle writer's cost flat in the performances created. */
export function seasonTargets(s: SeasonReport): TargetCheck[] {
  const m = s.memory;
  const w = s.idle_writer;
  return [
    {
      id: 'season-memory',
      description: `Redis used_memory after a season (${fixed(m.performances)} performances) archived and its records and answers expired, over the empty baseline`,
      target: `≤ ${SEASON_MEMORY_TARGET.toFixed(2)} ×`,
      measured: `${m.ratio_after_expiry.toFixed(3)} × (${fixed(m.after_expiry.used_memory)} vs ${fixed(m.baseline.used_memory)} bytes)`,
      met: m.ratio_after_expiry <= SEASON_MEMORY_TARGET,
    },
    {
      id: 'idle-writer',
      description: `idle order writer: Redis commands/s with ${fixed(w.many.performances)} performances vs ${fixed(w.few.performances)}`,
      target: `≤ ${IDLE_WRITER_TARGET.toFixed(1)} ×`,
      measured: `${w.ratio_many_to_few.toFixed(2)} × (${fixed(w.many.commandsPerSecond, 2)} vs ${fixed(w.few.commandsPerSecond, 2)} commands/s)`,
      met: w.ratio_many_to_few <= IDLE_WRITER_TARGET,
    },
  ];
}

/** The season row's markdown: memory at each step, what a sale leaves, the idle writer. */
export function seasonLines(s: SeasonReport): string[] {
  const m = s.memory;
  const cells = (label: string, x: SeasonResult['baseline']) =>
    row([label, fixed(x.used_memory), `${(x.used_memory / m.baseline.used_memory).toFixed(3)} ×`, fixed(x.keys), fixed(x.expires)]);
  const b = m.after_sales_bytes;
  const w = s.idle_writer;
  return [
    row([`season: ${fixed(m.performances)} performances of ${fixed(m.tickets_per_performance)} tickets, Redis memory`, 'used_memory', 'over baseline', 'keys', 'with TTL']),
    row(['---', '---:', '---:', '---:', '---:']),
    cells('baseline (a warm-up performance sold and archived, its records and answers gone)', m.baseline),
    cells(`after the sales (${fixed(m.sales.completed)} completed, ${fixed(m.sales.keyed_sales)} of them keyed; ${fixed(m.sales.released)} released, ${fixed(m.sales.lapsed)} lapsed)`, m.after_sales),
    cells('after close, persist and archive', m.after_archive),
    cells(`after the records and answers expired (${m.settings.RECORD_RETENTION_SECONDS} s, ${m.settings.IDEMPOTENCY_TTL_SECONDS} s)`, m.after_expiry),
    '',
    `After the sales, by MEMORY USAGE: tickets hashes ${fixed(b.tickets)}, sold hashes ${fixed(b.sold)}, outboxes ${fixed(b.outboxes)} ` +
      `(trimmed as the writer persists), transaction records ${fixed(b.transaction_records)} bytes. Left in Redis per completed sale: ` +
      `${fixed(m.bytes_per_sale_after_archive)} bytes after the archive (records and answers waiting to expire), ` +
      `${fixed(m.bytes_per_sale_after_expiry)} after their expiry; ${fixed(m.leftover_keys.count)} keys that the baseline did not have. ` +
      `Seconds: sales ${fixed(m.seconds.sales, 1)}, archive ${fixed(m.seconds.archive, 1)}, expiry ${fixed(m.seconds.expiry, 1)}.`,
    '',
    `Idle order writer (tools/bench/idle-writer.ts): ${fixed(w.few.commandsPerSecond, 2)} Redis commands/s with ${fixed(w.few.performances)} ` +
      `performances, ${fixed(w.many.commandsPerSecond, 2)} with ${fixed(w.many.performances)}: ${w.ratio_many_to_few.toFixed(2)} × ` +
      `(windows of ${fixed(w.few.windowMs / 1000, 1)} and ${fixed(w.many.windowMs / 1000, 1)} s of whole sweeps).`,
  ];
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function scenarioRow(s: ScenarioResult, label = `(${s.id}) ${s.name}`) {
  return row([
    label,
    fixed(s.requests_per_second),
    fixed(s.latency_ms.p50, 1),
    fixed(s.latency_ms.p99, 1),
    s.id === 'a' ? '1.00' : s.ratio_to_a.toFixed(2),
    failures(s),
    fixed(s.server_cpu_us_per_request),
    fixed(s.redis_cpu_us_per_request),
  ]);
}

const failures = (s: ScenarioResult) => fixed(s.non_2xx + s.errors + s.timeouts) + (s.ended_early ? ' (input ran out)' : '');

function venueLines(v: VenueComparison): string[] {
  const lines = [
    row(['best-available hold of 2, by venue', 'tickets', 'partitions', 'requests/s', 'p50 ms', 'p99 ms', 'ratio to small', 'non-2xx + errors', 'server CPU µs/req', 'Redis CPU µs/req']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const x of [v.small, v.stadium, v.fragmented] as VenueResult[]) {
    const ratio = v.small.requests_per_second > 0 ? x.requests_per_second / v.small.requests_per_second : 0;
    lines.push(
      row([
        x.name.replace('best-available hold of 2, ', ''),
        fixed(x.inventory_tickets),
        fixed(x.partitions),
        fixed(x.requests_per_second),
        fixed(x.latency_ms.p50, 1),
        fixed(x.latency_ms.p99, 1),
        ratio.toFixed(2),
        failures(x),
        fixed(x.server_cpu_us_per_request),
        fixed(x.redis_cpu_us_per_request),
      ]),
    );
  }
  const f = v.fragmented.fragmented;
  if (f) {
    lines.push(
      '',
      `Same run, at the same connections: a warm-up and a first half of each venue (small, stadium, fragmented), then the ` +
        `second halves in the reverse order, ${fixed(v.small.duration_seconds, 1)} s per venue in all. Fragmented: ` +
        `${fixed(f.held_beforehand)} seats of the cheapest price (${fixed(f.cheapest_price / 100, 2)}) held beforehand, every other one, in ` +
        `${fixed(f.bulk_transactions)} transactions; ${fixed(f.holds_on_fragmented_price)} of the ${fixed(f.holds)} measured holds took two of its ` +
        `single seats (${fixed(f.singles_available_at_start)} singles available at the start, ${fixed(f.singles_available_at_end)} at the end).`,
    );
  }
  return lines;
}

function mixedLines(m: MixedResult): string[] {
  const cells = (label: string, s: ScenarioResult) =>
    row([label, fixed(s.requests_per_second), fixed(s.latency_ms.p50, 1), fixed(s.latency_ms.p99, 1), failures(s), fixed(s.server_cpu_us_per_request), fixed(s.redis_cpu_us_per_request)]);
  return [
    row(['mixed: another performance beside a stadium on-sale', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx + errors', 'server CPU µs/req', 'Redis CPU µs/req']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    cells(`other performance alone: holds of 2 given tickets and searches, ${m.other_connections} connections`, m.other_alone),
    cells(`other performance while the stadium gets best-available holds at ${m.stadium_connections} connections`, m.other_with_stadium),
    cells('the stadium’s best-available holds meanwhile', m.stadium_during),
    '',
    `The other performance's p99 beside the stadium: ${m.p99_ratio.toFixed(2)} × alone; its requests/s ${m.throughput_ratio.toFixed(2)} × ` +
      '(slices alone, mixed, mixed, alone; in the mixed slices, CPU per request is over both loads’ requests).',
  ];
}

function ceilingLines(c: CeilingResult): string[] {
  const names = { hold: 'holds of 2 given tickets', holdBest: 'best-available holds of 2', release: 'releases (of those holds)' };
  const lines = [
    row([`single-shard ceiling: one performance (${c.layout}), lock store, ${c.connections} connections × ${c.in_flight / c.connections} in flight`, 'ops/s', 'p50 ms', 'p99 ms', 'Redis CPU µs/op', 'Redis CPU busy', 'driver CPU busy', 'errors']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const x of c.runs) {
    lines.push(
      row([
        names[x.op],
        fixed(x.ops_per_second),
        fixed(x.latency_ms.p50, 1),
        fixed(x.latency_ms.p99, 1),
        fixed(x.redis_cpu_us_per_op, 1),
        `${fixed(x.redis_cpu_utilisation * 100)} %`,
        `${fixed(x.driver_cpu_utilisation * 100)} %`,
        fixed(x.errors) + (x.ended_early ? ' (input ran out)' : ''),
      ]),
    );
  }
  lines.push('', 'Redis CPU busy near 100 % (of one core): Redis is the limit; driver CPU busy near 100 %: the driving process is.');
  for (const x of c.runs) if (x.error) lines.push(`${names[x.op]}: ${fixed(x.errors)} calls failed, the first with: ${x.error}`);
  return lines;
}

function workersLines(w: WorkersResult): string[] {
  const lines = [
    row(['API worker processes', 'processes', 'hold req/s', 'hold p99 ms', 'best-available req/s', 'best-available p99 ms', 'server CPU µs/req (hold, best)', 'Redis CPU µs/req (hold, best)', 'non-2xx + errors']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const x of w.rows) {
    lines.push(
      row([
        `API_WORKERS=${x.workers}`,
        fixed(x.processes),
        fixed(x.hold.requests_per_second),
        fixed(x.hold.latency_ms.p99, 1),
        fixed(x.best.requests_per_second),
        fixed(x.best.latency_ms.p99, 1),
        `${fixed(x.hold.server_cpu_us_per_request)}, ${fixed(x.best.server_cpu_us_per_request)}`,
        `${fixed(x.hold.redis_cpu_us_per_request)}, ${fixed(x.best.redis_cpu_us_per_request)}`,
        `${failures(x.hold)}, ${failures(x.best)}`,
      ]),
    );
  }
  lines.push('', `2 workers over 1: holds ${w.hold_ratio.toFixed(2)} ×, best-available holds ${w.best_ratio.toFixed(2)} × (${w.command}; slices 1, 2, 2, 1).`);
  return lines;
}

function waitLines(w: WaitResult): string[] {
  const lines = [
    row(['complete, WAIT for replicas', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx + errors', 'server CPU µs/req', 'Redis CPU µs/req']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const x of w.rows) {
    const c = x.complete;
    lines.push(
      row([
        `REDIS_WAIT_REPLICAS=${x.replicas}`,
        fixed(c.requests_per_second),
        fixed(c.latency_ms.p50, 1),
        fixed(c.latency_ms.p99, 1),
        failures(c),
        fixed(c.server_cpu_us_per_request),
        fixed(c.redis_cpu_us_per_request),
      ]),
    );
  }
  lines.push('', `WAIT 1 over WAIT 0: requests/s ${w.rate_ratio.toFixed(2)} ×, p99 ${w.p99_ratio.toFixed(2)} × (${w.command}; slices 0, 1, 1, 0).`);
  return lines;
}

function breakdown(m: MemoryResult): string {
  return Object.entries(m.breakdown_bytes_per_ticket)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

/** The markdown printed by `npm run bench` (and pasted into docs/benchmark.md). */
export function renderMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `tixlock benchmark (${r.mode}): ${m.cpus} × ${m.cpu_model}, Node ${m.node}, Redis ${m.redis}; ` +
      `${String(r.setup.connections)} connections, ${String(r.setup.duration_seconds)} s per scenario ` +
      `(after ${String(r.setup.warmup_seconds)} s of warm-up), ${r.started_at}`,
    '',
    row(['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'ratio to (a)', 'non-2xx + errors', 'server CPU µs/req', 'Redis CPU µs/req']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const s of r.scenarios) lines.push(scenarioRow(s));
  const { small, large } = r.inventory_scale;
  for (const s of [small, large]) {
    lines.push(scenarioRow(s, `hold + release loop, ${fixed(s.inventory_tickets)}-ticket inventory (${fixed(s.holds_per_second)} holds/s)`));
  }
  const a = r.scenarios.find((s) => s.id === 'a');
  if (a) {
    lines.push(
      '',
      `Each row sums two ${fixed(Number(r.setup.duration_seconds) / 2, 1)} s halves measured in mirrored order ((a)..(f), the hold + ` +
        `release loops, then (f)..(a)); p50 is request-weighted over the halves, p99 the worse half's. ` +
        `(a) answered ${a.parts_requests_per_second.map((x) => fixed(x)).join(' and ')} req/s in its two halves.`,
    );
  }
  lines.push(
    '',
    row(['Redis memory', 'tickets', 'INFO used_memory delta', 'bytes per ticket', 'by kind of key (bytes per ticket)']),
    row(['---', '---:', '---:', '---:', '---']),
  );
  const mem = r.memory;
  lines.push(row(['available ticket (load)', fixed(mem.available.tickets), fixed(mem.available.delta_bytes), fixed(mem.available.bytes_per_ticket, 1), breakdown(mem.available)]));
  lines.push(row(['locked ticket (hold of 2)', fixed(mem.locked.tickets), fixed(mem.locked.delta_bytes), fixed(mem.locked.bytes_per_ticket, 1), breakdown(mem.locked)]));
  lines.push('', ...venueLines(r.venues), '', ...mixedLines(r.mixed), '', ...ceilingLines(r.ceiling), '', ...workersLines(r.workers), '', ...waitLines(r.wait), '', ...seasonLines(r.season));
  lines.push('', row(['target', 'wanted', 'measured', '']), row(['---', '---', '---', '---']));
  for (const t of r.targets) lines.push(row([t.description, t.target, t.measured, t.met ? 'met' : '**missed**']));
  return lines.join('\n');
}
