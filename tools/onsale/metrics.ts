// What the on-sale measures: latency per endpoint and status, conflicts, errors, and time series of the counts.
import type { AttemptEvent } from '../../src/client';

/** An answer the buyers did not expect: no answer at all, a 5xx, or a 4xx other than a 409 conflict. */
export const isError = (status: number) => status === 0 || (status >= 400 && status !== 409);

export interface Sample {
  /** seconds since the start of the sale */
  t: number;
  sold: number;
  locked: number;
  available: number;
  /** buyer requests answered so far */
  requests: number;
  errors: number;
}

export interface EndpointSummary {
  endpoint: string;
  count: number;
  /** status → how many ('0' = no answer) */
  statuses: Record<string, number>;
  /** error code → how many, for the non-2xx answers */
  codes: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending list (0 for an empty one). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

interface EndpointRecord {
  latencies: number[];
  statuses: Map<string, number>;
  codes: Map<string, number>;
}

const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

export interface FailoverFacts {
  killed_primary_port: number;
  /** seconds into the sale */
  killed_at_s: number;
  /** from the kill to the first answer of the performance's shard that was not 503; null = not within the sale */
  recovered_after_s: number | null;
  /** answers 503 the buyers got from the kill until then */
  answers_503: number;
}

export class Metrics {
  private readonly endpoints = new Map<string, EndpointRecord>();
  readonly conflicts = new Map<string, number>();
  requests = 0;
  errors = 0;
  /** the last few error descriptions, to show what went wrong */
  readonly errorSamples: string[] = [];
  readonly timeline: Sample[] = [];
  /** every OK completion: seconds since the start, tickets sold so far (as the buyers saw it) */
  readonly sales: { t: number; sold: number }[] = [];
  soldSeen = 0;
  readonly startedAt = performance.now();

  /** seconds since the start */
  elapsed(now = performance.now()): number {
    return (now - this.startedAt) / 1000;
  }

  /** One answer (or none: status 0) a buyer got, as the client reports each attempt. */
  record(endpoint: string, res: Pick<AttemptEvent, 'status' | 'code' | 'ms' | 'error'>): void {
    let rec = this.endpoints.get(endpoint);
    if (!rec) {
      rec = { latencies: [], statuses: new Map(), codes: new Map() };
      this.endpoints.set(endpoint, rec);
    }
    rec.latencies.push(res.ms);
    bump(rec.statuses, String(res.status));
    if (res.status >= 300 || res.status === 0) bump(rec.codes, res.code ?? `HTTP_${res.status}`);
    this.requests++;
    if (res.status === 503 && this.failover && this.failover.recovered_after_s === null) this.failover.answers_503++;
    if (res.status === 409) bump(this.conflicts, `${endpoint}: ${res.code ?? '409'}`);
    if (isError(res.status)) {
      this.errors++;
      if (this.errorSamples.length < 20) {
        this.errorSamples.push(`${endpoint} → ${res.status || 'no answer'} ${res.code ?? ''} ${res.error ?? ''}`.trim());
      }
    }
  }

  /** --kill-primary-at: the failover as the buyers saw it */
  failover: FailoverFacts | undefined;

  /** A primary was killed now: 503s count towards the failover until failoverEnded(). */
  failoverStarted(killedPort: number): void {
    this.failover = { killed_primary_port: killedPort, killed_at_s: this.elapsed(), recovered_after_s: null, answers_503: 0 };
  }

  /** The performance's shard answered again (a probe got something else than 503). */
  failoverEnded(): void {
    if (this.failover && this.failover.recovered_after_s === null) this.failover.recovered_after_s = this.elapsed() - this.failover.killed_at_s;
  }

  recordSale(tickets: number): void {
    this.soldSeen += tickets;
    this.sales.push({ t: this.elapsed(), sold: this.soldSeen });
  }

  get conflictCount(): number {
    let n = 0;
    for (const v of this.conflicts.values()) n += v;
    return n;
  }

  /** How many answers of one endpoint had this status. */
  statusCount(endpoint: string, status: number): number {
    return this.endpoints.get(endpoint)?.statuses.get(String(status)) ?? 0;
  }

  summaries(): EndpointSummary[] {
    return [...this.endpoints].map(([endpoint, rec]) => {
      const sorted = [...rec.latencies].sort((a, b) => a - b);
      const sum = sorted.reduce((a, b) => a + b, 0);
      return {
        endpoint,
        count: sorted.length,
        statuses: Object.fromEntries([...rec.statuses].sort(([a], [b]) => Number(a) - Number(b))),
        codes: Object.fromEntries(rec.codes),
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? 0,
        mean: sorted.length ? sum / sorted.length : 0,
      };
    });
  }

  /** Every latency of every endpoint, for the histogram. */
  latencies(): { endpoint: string; ms: readonly number[] }[] {
    return [...this.endpoints].map(([endpoint, rec]) => ({ endpoint, ms: rec.latencies }));
  }
}
