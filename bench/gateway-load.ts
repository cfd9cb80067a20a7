/**
 * The gateway bench's load generator: autocannon in a child process (forked by bench/gateway.ts),
 * so the servers and the client do not share an event loop. Receives one job, sends back its
 * figures. (Not a worker thread: autocannon only aggregates its histograms on a main thread.)
 */
import autocannon from 'autocannon';

export interface LoadJob {
  readonly url: string;
  readonly method: 'GET' | 'PUT';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly seconds: number;
  /** A fixed number of requests instead of `seconds` (for CPU per request). */
  readonly amount?: number;
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
// Tell the parent we are loaded, and start when it says so: the parent measures its own CPU
// from then on, without this child's start-up.
process.send?.('ready');
await new Promise((resolve) => process.once('message', resolve));
const r = await autocannon({
  url: job.url,
  method: job.method,
  headers: job.headers,
  ...(job.body === undefined ? {} : { body: job.body }),
  connections: job.connections,
  pipelining: 1,
  duration: job.seconds,
  ...(job.amount === undefined ? {} : { amount: job.amount }),
});
const statuses: Record<string, number> = {};
for (const [k, v] of Object.entries(r.statusCodeStats)) statuses[k] = v.count;
const out: LoadResult = {
  rps: r.requests.total / (r.duration || job.seconds),
  p50: r.latency.p50,
  p99: r.latency.p99,
  requests: r.requests.total,
  non2xx: r.non2xx,
  errors: r.errors + r.timeouts,
  statuses,
};
process.send?.(out);
