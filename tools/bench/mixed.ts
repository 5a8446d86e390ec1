// The mixed row: one performance's buyers while another performance on the same Redis is busy. A second load
// generator (a child of its own, at a modest fixed connection count) sends specific-ticket holds and searches to an
// ordinary performance, alone, and while the first load generator sends best-available holds of 2 to the stadium
// at the run's connection count. What a stadium on-sale does to everyone else's p99 and throughput.
import { LoadClient } from './load-client';
import { venueTickets } from '../common/venue';
import { loadBenchPerformance, ticketPairs } from './setup';
import { bestAvailableSpec, measureCpu, slowSeconds, toScenario, withCpu, type BenchContext, type MeasuredResult } from './measure';
import type { LoadResult, LoadSpec } from './protocol';
import type { ScenarioResult } from './report';

/** connections of the other performance's load */
export const OTHER_CONNECTIONS = 10;
const OTHER_ID = 'bench-other';

export interface MixedPlan {
  /** the other performance's ticket pairs, one list per step (warm-up, then four slices) */
  pairs: [string, string][][];
}

export interface MixedResult {
  other_performance: string;
  other_connections: number;
  stadium_performance: string;
  stadium_connections: number;
  /** the other performance's holds and searches with nothing else running */
  other_alone: ScenarioResult;
  /** the same load while the stadium gets best-available holds (server and Redis CPU: per request of both loads) */
  other_with_stadium: ScenarioResult;
  /** the stadium's best-available holds during the mixed slices */
  stadium_during: ScenarioResult;
  /** other_with_stadium over other_alone */
  p99_ratio: number;
  throughput_ratio: number;
}

/** Steps of the mixed row: the other load's warm-up, then slices alone, mixed, mixed, alone. */
const SLICES = ['alone', 'mixed', 'mixed', 'alone'] as const;

/** Loads the other performance (the small venue's layout), sized for its holds in every step. */
export async function prepareMixed(ctx: BenchContext): Promise<MixedPlan> {
  // half of the other load's requests are holds; the calibrated rate at 50 connections bounds the one at 10
  const seconds = slowSeconds(ctx);
  const holdsFor = (s: number) => Math.ceil(ctx.requestsFor(s) / 2) + OTHER_CONNECTIONS;
  const counts = [holdsFor(seconds.warm), ...SLICES.map(() => holdsFor(seconds.half))];
  const total = counts.reduce((a, b) => a + b, 0);
  ctx.log(`loading the other performance of the mixed row: ${2 * total} tickets`);
  const tickets = venueTickets('o', 2 * total);
  await loadBenchPerformance(ctx.admin, OTHER_ID, tickets);
  const all = ticketPairs(tickets.map((t) => t.id));
  const pairs: [string, string][][] = [];
  let at = 0;
  for (const n of counts) {
    pairs.push(all.slice(at, at + n));
    at += n;
  }
  return { pairs };
}

/** Specific-ticket holds and searches, one of each in turn on every connection. */
function otherSpec(pairs: [string, string][]): LoadSpec {
  return {
    kind: 'mix',
    parts: [
      { kind: 'list', method: 'POST', paths: ['/transaction'], bodies: pairs.map((p) => JSON.stringify({ tickets: p })) },
      { kind: 'list', method: 'GET', paths: [`/tickets?performance_id=${OTHER_ID}&quantity=2`] },
    ],
  };
}

export async function runMixed(ctx: BenchContext, plan: MixedPlan, stadiumId: string, baseline: LoadResult): Promise<MixedResult> {
  const second = LoadClient.start(ctx.execArgv);
  const seconds = slowSeconds(ctx);
  try {
    const url = ctx.tixlock.url;
    const other = (step: number, seconds: number) => {
      const pairs = plan.pairs[step] ?? [];
      return ctx.job(url, otherSpec(pairs), seconds, 2 * pairs.length, OTHER_CONNECTIONS);
    };
    const stadium = ctx.job(url, bestAvailableSpec(stadiumId), seconds.half, ctx.requestsFor(seconds.half));
    ctx.log(`mixed row: the other performance at ${OTHER_CONNECTIONS} connections alone, with the stadium at ${ctx.connections}, and alone again (${seconds.half} s slices)`);
    const warmup = await withCpu(ctx.db, ctx.tixlock, () => second.run(other(0, seconds.warm)));
    const alone: MeasuredResult[] = [];
    const mixed: MeasuredResult[] = [];
    const during: MeasuredResult[] = [];
    for (const [i, slice] of SLICES.entries()) {
      if (slice === 'alone') {
        const r = await withCpu(ctx.db, ctx.tixlock, () => second.run(other(i + 1, seconds.half)));
        alone.push(r);
        ctx.log(`    other performance alone: ${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99} ms`);
        continue;
      }
      const m = await measureCpu(ctx.db, ctx.tixlock, () => Promise.all([second.run(other(i + 1, seconds.half)), ctx.load.run(stadium)]));
      const [o, s] = m.value;
      const n = Math.max(o.requestsTotal + s.requestsTotal, 1);
      const cpu = { serverCpuUs: m.serverCpuUs / n, redisCpuUs: m.redisCpuUs / n, redisForks: m.redisForks };
      mixed.push({ ...o, ...cpu });
      during.push({ ...s, ...cpu });
      ctx.log(`    other performance with the stadium: ${Math.round(o.requestsPerSecond)} req/s, p99 ${o.latencyMs.p99} ms; stadium ${Math.round(s.requestsPerSecond)} req/s`);
    }
    const request = 'POST /transaction {"tickets":[2 ids]} and GET /tickets?performance_id=…&quantity=2 in turn';
    const otherAlone = toScenario('other-alone', `other performance alone (${OTHER_CONNECTIONS} connections)`, request, alone, baseline, warmup, seconds.warm);
    const otherMixed = toScenario('other-mixed', `other performance while the stadium gets best-available holds`, request, mixed, baseline, undefined, 0);
    const stadiumDuring = toScenario('stadium-mixed', `stadium best-available holds during the mixed slices`, 'POST /transaction {"performance_id","quantity":2}', during, baseline, undefined, 0);
    return {
      other_performance: OTHER_ID,
      other_connections: OTHER_CONNECTIONS,
      stadium_performance: stadiumId,
      stadium_connections: ctx.connections,
      other_alone: otherAlone,
      other_with_stadium: otherMixed,
      stadium_during: stadiumDuring,
      p99_ratio: otherAlone.latency_ms.p99 > 0 ? otherMixed.latency_ms.p99 / otherAlone.latency_ms.p99 : 0,
      throughput_ratio: otherAlone.requests_per_second > 0 ? otherMixed.requests_per_second / otherAlone.requests_per_second : 0,
    };
  } finally {
    await second.close();
  }
}
