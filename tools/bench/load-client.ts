// The benchmark's load generator: autocannon in a child process of its own, so the client never shares an event
// loop (or a core, on a 2-core machine) with the server it measures. The parent (bench.ts) sends it LoadJobs over
// IPC and gets LoadResults back; the same child measures the bare-Express baseline and every tixlock scenario.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import type { ClientReply, ClientRequest, ListSpec, LoadJob, LoadResult, LoadSpec } from './protocol';

const TRANSACTION_ID = /"transaction_id":"([0-9a-f-]{36})"/;
const ok = (status: number) => status >= 200 && status < 300;

/** A fixed-capacity FIFO of ticket pairs (the hold-release loop's free pairs). */
class PairQueue {
  private readonly ring: ([string, string] | undefined)[];
  private head = 0;
  private size: number;
  constructor(pairs: [string, string][]) {
    this.ring = [...pairs];
    this.size = pairs.length;
  }
  take(): [string, string] {
    const pair = this.ring[this.head];
    if (this.size === 0 || pair === undefined) throw new Error('hold-release: no free pair (more connections than pairs?)');
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return pair;
  }
  put(pair: [string, string]) {
    this.ring[(this.head + this.size) % this.ring.length] = pair;
    this.size++;
  }
}

function listRequest(spec: ListSpec, collected: string[]): autocannon.Request {
  const { paths, bodies } = spec;
  let i = 0;
  return {
    method: spec.method,
    setupRequest: (req) => {
      req.path = paths[i % paths.length];
      if (bodies) req.body = bodies[i % bodies.length];
      i++;
      return req;
    },
    onResponse: spec.collectTransactions
      ? (status, body) => {
          const id = ok(status) ? TRANSACTION_ID.exec(body)?.[1] : undefined;
          if (id) collected.push(id);
        }
      : undefined,
  };
}

function requestsOf(spec: LoadSpec, collected: string[]): autocannon.Request[] {
  if (spec.kind === 'list') return [listRequest(spec, collected)];
  if (spec.kind === 'mix') return spec.parts.map((part) => listRequest(part, collected));
  const free = new PairQueue(spec.pairs);
  return [
    {
      method: 'POST',
      path: '/transaction',
      setupRequest: (req, context) => {
        const pair = free.take();
        context.pair = pair;
        req.body = JSON.stringify({ tickets: pair });
        return req;
      },
      onResponse: (status, body, context) => {
        context.tx = ok(status) ? TRANSACTION_ID.exec(body)?.[1] : undefined;
        if (!context.tx) free.put(context.pair as [string, string]); // nothing held: the pair is free again
      },
    },
    {
      method: 'DELETE',
      // no transaction to release (the hold failed): returning nothing makes autocannon start over with the hold
      setupRequest: (req, context) => (context.tx ? { ...req, path: `/transaction/${String(context.tx)}`, body: '' } : (null as never)),
      onResponse: (_status, _body, context) => free.put(context.pair as [string, string]),
    },
  ];
}

const collects = (spec: LoadSpec) =>
  spec.kind === 'list' ? Boolean(spec.collectTransactions) : spec.kind === 'mix' && spec.parts.some((p) => p.collectTransactions);

/** Runs one job with autocannon; latencies are of 2xx answers, requests/s counts every completed request. */
export function runJob(job: LoadJob): Promise<LoadResult> {
  const collected: string[] = [];
  const options: autocannon.Options = {
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    maxOverallRequests: job.maxRequests,
    // autocannon notices the end of a run (its duration, or every connection done) only at a sample tick: tick
    // every 100 ms, not every second, so a run lasts its duration and not up to the next whole second
    sampleInt: 100,
    timeout: 10,
    headers: job.headers,
    requests: requestsOf(job.spec, collected),
  };
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    autocannon(options, (err, r) => {
      if (err) return reject(err);
      const cpu = process.cpuUsage(cpuBefore);
      const statusCodes: Record<string, number> = {};
      for (const [code, { count }] of Object.entries(r.statusCodeStats)) statusCodes[code] = count;
      resolve({
        requestsPerSecond: r.duration > 0 ? r.requests.total / r.duration : 0,
        requestsTotal: r.requests.total,
        durationSeconds: r.duration,
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, mean: r.latency.mean, max: r.latency.max },
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        statusCodes,
        clientCpuUs: (cpu.user + cpu.system) / Math.max(r.requests.total, 1),
        endedEarly: job.maxRequests !== undefined && r.requests.sent >= job.maxRequests,
        transactionIds: collects(job.spec) ? collected : undefined,
      });
    });
  });
}

/** The parent's handle on the load-generator child. */
export class LoadClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: ClientReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(`load generator: ${reply.error}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`load generator exited (${code ?? signal})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  /**
   * Forks this module as the load generator. execArgv: extra node options for the child — running from the
   * TypeScript sources (tests) needs a require hook such as `-r test/support/swc-register.js`.
   */
  static start(execArgv: string[] = []): LoadClient {
    const module = path.join(__dirname, `load-client${path.extname(__filename)}`);
    return new LoadClient(fork(module, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, job } satisfies ClientRequest);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.disconnect();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

// As the child: run each job the parent sends, one at a time; leave when the parent disconnects.
if (require.main === module) {
  let queue = Promise.resolve();
  process.on('message', (msg: ClientRequest) => {
    queue = queue.then(() =>
      runJob(msg.job).then(
        (result) => void process.send?.({ id: msg.id, ok: true, result } satisfies ClientReply),
        (err: unknown) => void process.send?.({ id: msg.id, ok: false, error: String((err as Error)?.stack ?? err) } satisfies ClientReply),
      ),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
