// The on-sale's results: the summary table (text), the JSON file and a self-contained HTML report with inline SVG.
import type { Outcome } from './buyer';
import type { InvariantResult } from './invariants';
import type { EndpointSummary, FailoverFacts, Sample } from './metrics';

export interface HistogramBucket {
  /** upper edge in ms (Infinity for the last bucket) */
  le: number;
  /** endpoint → requests in this bucket */
  counts: Record<string, number>;
}

export interface OnsaleResult {
  target: { mode: 'embedded' | 'remote'; url: string };
  performance_id: string;
  /** the options, without keys */
  options: Record<string, unknown>;
  tickets: number;
  started_at: string;
  /** the sale: first buyer to last buyer done, seconds */
  duration_s: number;
  buyers: Record<Outcome, number>;
  /** --kill-primary-at: the killed primary and how the sale went through its failover; null = no kill */
  failover: FailoverFacts | null;
  requests: number;
  requests_per_s: number;
  errors: number;
  error_samples: string[];
  conflicts: { total: number; by_endpoint_and_code: Record<string, number> };
  holds: number;
  holds_per_s: number;
  completes: number;
  completes_per_s: number;
  /** seconds from the start until every ticket was sold, null when it never was */
  sold_out_s: number | null;
  /** seconds from the start until no ticket was available (all sold or held) at a sample, null when never */
  all_taken_s: number | null;
  last_sale_s: number | null;
  endpoints: EndpointSummary[];
  histogram: HistogramBucket[];
  timeline: Sample[];
  /** seconds the invariant check waited for the order writer */
  drain_s: number;
  invariants: InvariantResult;
}

const EDGES = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, Infinity];

export function histogram(latencies: readonly { endpoint: string; ms: readonly number[] }[]): HistogramBucket[] {
  const buckets: HistogramBucket[] = EDGES.map((le) => ({ le, counts: {} }));
  for (const { endpoint, ms } of latencies) {
    for (const b of buckets) b.counts[endpoint] = 0;
    for (const v of ms) {
      const b = buckets.find((x) => v <= x.le) as HistogramBucket;
      b.counts[endpoint] = (b.counts[endpoint] ?? 0) + 1;
    }
  }
  // drop empty buckets at both ends
  const used = (b: HistogramBucket) => Object.values(b.counts).some((n) => n > 0);
  const first = buckets.findIndex(used);
  if (first < 0) return [];
  let last = buckets.length - 1;
  while (last > first && !used(buckets[last] as HistogramBucket)) last--;
  return buckets.slice(first, last + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// text

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

const OUTCOME_LABELS: Record<Outcome, string> = {
  paid: 'paid',
  expired: 'let the hold expire',
  released: 'released',
  abandoned_checkout: 'abandoned after checkout',
  sold_out: 'found it sold out',
  gave_up: 'gave up after conflicts',
  error: 'stopped by an error',
};

export function summaryTable(r: OnsaleResult): string {
  const lines: string[] = [];
  const width = Math.max(24, ...r.endpoints.map((e) => e.endpoint.length));
  lines.push(
    `${pad('endpoint', width)}  ${lpad('requests', 8)}  ${lpad('p50 ms', 7)}  ${lpad('p95 ms', 7)}  ${lpad('p99 ms', 7)}  ${lpad('max ms', 7)}  statuses`,
  );
  lines.push('-'.repeat(width + 52 + 20));
  for (const e of r.endpoints) {
    const statuses = Object.entries(e.statuses)
      .map(([s, n]) => `${s === '0' ? 'no answer' : s}×${n}`)
      .join(' ');
    lines.push(
      `${pad(e.endpoint, width)}  ${lpad(String(e.count), 8)}  ${lpad(ms(e.p50), 7)}  ${lpad(ms(e.p95), 7)}  ${lpad(ms(e.p99), 7)}  ${lpad(ms(e.max), 7)}  ${statuses}`,
    );
  }
  lines.push('');
  const b = r.buyers;
  const total = Object.values(b).reduce((x, y) => x + y, 0);
  const outcomes = (Object.keys(OUTCOME_LABELS) as Outcome[])
    .filter((o) => b[o] > 0 || o === 'paid')
    .map((o) => `${OUTCOME_LABELS[o]} ${b[o]}`)
    .join(', ');
  lines.push(`buyers       ${total}: ${outcomes}`);
  const byCode = Object.entries(r.conflicts.by_endpoint_and_code)
    .sort(([, x], [, y]) => y - x)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push(`conflicts    ${r.conflicts.total} (409)${byCode ? `: ${byCode}` : ''}`);
  if (r.failover) {
    const f = r.failover;
    lines.push(
      `failover     primary :${f.killed_primary_port} killed (SIGKILL) at ${f.killed_at_s.toFixed(2)} s; ${
        f.recovered_after_s === null ? 'its shard did not answer again during the sale' : `its shard answered again after ${f.recovered_after_s.toFixed(2)} s`
      }; ${f.answers_503} answers 503 meanwhile`,
    );
  }
  const taken = r.all_taken_s === null ? 'some always available' : `none available after ${r.all_taken_s.toFixed(2)} s`;
  lines.push(
    `sell-out     ${r.sold_out_s === null ? 'not sold out' : `sold out after ${r.sold_out_s.toFixed(2)} s`}; ${taken} (${r.invariants.stats.sold} of ${r.tickets} sold${r.last_sale_s === null ? '' : `, last sale at ${r.last_sale_s.toFixed(2)} s`})`,
  );
  lines.push(
    `throughput   ${r.requests} requests in ${r.duration_s.toFixed(2)} s: ${r.requests_per_s.toFixed(0)} req/s, ${r.holds_per_s.toFixed(1)} holds/s, ${r.completes_per_s.toFixed(1)} completes/s`,
  );
  lines.push(`errors       ${r.errors}${r.error_samples.length ? `: ${r.error_samples.slice(0, 5).join('; ')}` : ''}`);
  lines.push(`order writer drained in ${r.drain_s.toFixed(2)} s (${r.invariants.stats.orders_found} of ${r.invariants.stats.completions} orders found)`);
  lines.push(invariantsText(r.invariants));
  return lines.join('\n');
}

export function invariantsText(inv: InvariantResult): string {
  const s = inv.stats;
  const lines: string[] = [];
  for (const w of inv.warnings.slice(0, 20)) lines.push(`  warning: ${w}`);
  if (inv.ok) {
    lines.push(
      `invariants: OK (${s.tickets} tickets: ${s.sold} sold, ${s.locked} locked, ${s.available} available; ${s.completions} OK completions, each with its order)`,
    );
    return lines.join('\n');
  }
  lines.push(`invariants: FAILED (${inv.violations.length} violation${inv.violations.length === 1 ? '' : 's'})`);
  for (const v of inv.violations.slice(0, 50)) {
    lines.push(`  ✗ ${v.check}: ${v.message}`);
    if (v.tickets.length > 0) {
      lines.push(`    tickets: ${v.tickets.slice(0, 50).join(', ')}${v.tickets.length > 50 ? ` … (${v.tickets.length} in all)` : ''}`);
    }
  }
  if (inv.violations.length > 50) lines.push(`  … ${inv.violations.length - 50} more (see --json)`);
  return lines.join('\n');
}

export function toJson(r: OnsaleResult): string {
  return `${JSON.stringify(r, (_k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];

const niceMax = (v: number) => {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? 10 * p);
};

/** Stacked bars: requests per latency bucket, one colour per endpoint. */
export function histogramSvg(buckets: readonly HistogramBucket[]): string {
  const W = 760;
  const H = 300;
  const left = 56;
  const bottom = 40;
  const top = 16;
  const endpoints = [...new Set(buckets.flatMap((b) => Object.keys(b.counts)))];
  const totals = buckets.map((b) => Object.values(b.counts).reduce((x, y) => x + y, 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const bw = buckets.length ? plotW / buckets.length : plotW;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  buckets.forEach((b, i) => {
    let y = top + plotH;
    endpoints.forEach((e, k) => {
      const n = b.counts[e] ?? 0;
      if (n === 0) return;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(
        `<rect x="${(left + i * bw + 2).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[k % COLORS.length]}"><title>${esc(e)}: ${n}</title></rect>`,
      );
    });
    const prev = i === 0 ? 0 : (buckets[i - 1] as HistogramBucket).le;
    const label = b.le === Infinity ? `>${prev}` : `≤${b.le}`;
    parts.push(`<text x="${(left + i * bw + bw / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${label}</text>`);
  });
  parts.push(`<text x="${left + plotW / 2}" y="${H - 6}" text-anchor="middle">latency (ms)</text>`);
  const legend = endpoints
    .map((e, k) => `<span class="key"><i style="background:${COLORS[k % COLORS.length]}"></i>${esc(e)}</span>`)
    .join(' ');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency histogram">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

/** Sold, locked and available over time. */
export function timelineSvg(samples: readonly Sample[], total: number): string {
  const W = 760;
  const H = 300;
  const left = 56;
  const bottom = 40;
  const top = 16;
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const yMax = Math.max(1, total);
  const x = (t: number) => (left + (t / tMax) * plotW).toFixed(1);
  const y = (v: number) => (top + plotH - (v / yMax) * plotH).toFixed(1);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${Number(y(v)) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    parts.push(`<text x="${x(t)}" y="${H - bottom + 16}" text-anchor="middle">${t.toFixed(1)}</text>`);
  }
  const series: [keyof Sample, string, string][] = [
    ['sold', 'sold', COLORS[4] as string],
    ['locked', 'locked', COLORS[1] as string],
    ['available', 'available', COLORS[0] as string],
  ];
  for (const [key, , color] of series) {
    const pts = samples.map((s) => `${x(s.t)},${y(s[key])}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${H - 6}" text-anchor="middle">seconds since the first buyer</text>`);
  const legend = series.map(([, label, color]) => `<span class="key"><i style="background:${color}"></i>${label}</span>`).join(' ');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="tickets over time">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

export function toHtml(r: OnsaleResult): string {
  const rows = r.endpoints
    .map(
      (e) =>
        `<tr><td>${esc(e.endpoint)}</td><td>${e.count}</td><td>${ms(e.p50)}</td><td>${ms(e.p95)}</td><td>${ms(e.p99)}</td><td>${ms(e.max)}</td><td>${esc(
          Object.entries(e.statuses)
            .map(([s, n]) => `${s === '0' ? 'no answer' : s}×${n}`)
            .join(' '),
        )}</td></tr>`,
    )
    .join('\n');
  const verdict = r.invariants.ok ? '<p class="ok">invariants: OK</p>' : '<p class="bad">invariants: FAILED</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tixlock on-sale ${esc(r.performance_id)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:820px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
svg text{font-size:11px;fill:#555}.legend{margin:4px 0 20px}.key{margin-right:14px}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px}
.ok{color:#2a7d2a;font-weight:bold}.bad{color:#b00;font-weight:bold}pre{background:#f6f6f6;padding:10px;overflow:auto}
</style></head><body>
<h1>tixlock on-sale</h1>
<p>${esc(r.performance_id)}: ${r.tickets} tickets, ${Object.values(r.buyers).reduce((a, b) => a + b, 0)} buyers, ${esc(r.target.mode)} target ${esc(r.target.url)}, started ${esc(r.started_at)}</p>
${verdict}
<h2>Summary</h2>
<pre>${esc(summaryTable(r))}</pre>
<h2>Latency per endpoint</h2>
<table><tr><th>endpoint</th><th>requests</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>statuses</th></tr>
${rows}
</table>
<h2>Latency histogram</h2>
${histogramSvg(r.histogram)}
<h2>Tickets over time</h2>
${timelineSvg(r.timeline, r.tickets)}
<h2>Options</h2>
<pre>${esc(JSON.stringify(r.options, null, 2))}</pre>
</body></html>
`;
}
