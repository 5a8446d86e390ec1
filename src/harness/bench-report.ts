// The benchmark's results: the JSON shape written to bench-results.json, the target checks of the issue, and the
// markdown printed at the end of `npm run bench`.
import type { LoadResult } from './bench-protocol';

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
  return checks;
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function scenarioRow(s: ScenarioResult, label = `(${s.id}) ${s.name}`) {
  return row([
    label,
    fixed(s.requests_per_second),
    fixed(s.latency_ms.p50, 1),
    fixed(s.latency_ms.p99, 1),
    s.id === 'a' ? '1.00' : s.ratio_to_a.toFixed(2),
    fixed(s.non_2xx + s.errors + s.timeouts) + (s.ended_early ? ' (input ran out)' : ''),
    fixed(s.server_cpu_us_per_request),
    fixed(s.redis_cpu_us_per_request),
  ]);
}

function breakdown(m: MemoryResult): string {
  return Object.entries(m.breakdown_bytes_per_ticket)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

/** The markdown printed by `npm run bench` (and pasted into the README). */
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
  lines.push('', row(['target', 'wanted', 'measured', '']), row(['---', '---', '---', '---']));
  for (const t of r.targets) lines.push(row([t.description, t.target, t.measured, t.met ? 'met' : '**missed**']));
  return lines.join('\n');
}
