// What the benchmark's parent process asks its load-generator child (load-client.ts) to run, and what it gets
// back. Everything here crosses a process boundary as JSON, so it is data only (no functions).

/**
 * Request i uses paths[i mod paths.length] and bodies[i mod bodies.length] (one shared counter over all
 * connections), so a list of N distinct bodies gives N distinct requests before it repeats.
 */
export interface ListSpec {
  kind: 'list';
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  paths: string[];
  bodies?: string[];
  /** collect the transaction_id of every 2xx answer (the holds of one run become the next runs' input) */
  collectTransactions?: boolean;
}

/** How each request of a load run is made. */
export type LoadSpec =
  | ListSpec
  | {
      /**
       * Each connection sends a request of each part in turn (parts[0], parts[1], ..., parts[0], ...); each part
       * is a list with a counter of its own. The run's latencies and counts are over all parts together.
       */
      kind: 'mix';
      parts: ListSpec[];
    }
  | {
      /**
       * Each connection loops: POST /transaction holding a pair taken from a shared queue, then DELETE that
       * transaction, which puts the pair back at the end of the queue. A pair is never held twice at once, so a
       * small inventory can be held again and again.
       */
      kind: 'hold-release';
      pairs: [string, string][];
    };

export interface LoadJob {
  /** base URL, e.g. http://127.0.0.1:1234 */
  url: string;
  connections: number;
  durationSeconds: number;
  /** stop after this many requests even if the duration has not passed (so an input list never wraps) */
  maxRequests?: number;
  headers: Record<string, string>;
  spec: LoadSpec;
}

export interface LoadResult {
  /** completed requests (any status) per second of the run */
  requestsPerSecond: number;
  requestsTotal: number;
  durationSeconds: number;
  /** of 2xx answers, in ms (autocannon's histogram) */
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU time of the load generator per completed request, µs */
  clientCpuUs: number;
  /** the run ended before its duration because maxRequests was reached */
  endedEarly: boolean;
  /** with collectTransactions: transaction ids of the 2xx answers */
  transactionIds?: string[];
}

export type ClientRequest = { id: number; job: LoadJob };
export type ClientReply = { id: number; ok: true; result: LoadResult } | { id: number; ok: false; error: string };
