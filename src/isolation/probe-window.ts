/**
 * Probe windows: the hot path records, per event, its service time, the outputs it made,
 * whether it threw and its not-found reads into preallocated arrays; every WINDOW events the
 * window is summed up off the hot path (DESIGN §4: the spread of service time over 64 events
 * caught a timing channel in its first window, with no false alarm on benign units).
 * The spread is the interquartile range, so a rare GC pause in a benign unit does not count.
 */
import type { WindowStats } from './protocol.js';

export const WINDOW = 64;

export class ProbeWindow {
  readonly #service = new Float64Array(WINDOW);
  readonly #outputs = new Float64Array(WINDOW);
  #n = 0;
  #errors = 0;
  #notFound = 0;
  #start = 0;
  readonly #done: (w: WindowStats) => void;

  constructor(done: (w: WindowStats) => void) {
    this.#done = done;
  }

  /** One event: started at `t0`, took `ms`, made `outputs`, threw or not, `notFound` misses. */
  record(t0: number, ms: number, outputs: number, threw: boolean, notFound: number): void {
    const i = this.#n;
    if (i === 0) this.#start = t0;
    this.#service[i] = ms;
    this.#outputs[i] = outputs;
    if (threw) this.#errors++;
    this.#notFound += notFound;
    this.#n = i + 1;
    if (this.#n === WINDOW) this.#close(t0 + ms);
  }

  #close(end: number): void {
    const n = this.#n;
    const sorted = this.#service.slice(0, n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    let outs = 0;
    for (let i = 0; i < n; i++) outs += this.#outputs[i] ?? 0;
    const mean = outs / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += ((this.#outputs[i] ?? 0) - mean) ** 2;
    const q = (p: number): number => sorted[Math.min(n - 1, Math.floor(p * n))] ?? 0;
    const w: WindowStats = {
      events: n,
      spanMs: end - this.#start,
      serviceMeanMs: sum / n,
      serviceSpreadMs: q(0.75) - q(0.25),
      serviceMaxMs: sorted[n - 1] ?? 0,
      outputs: outs,
      outputSpread: Math.sqrt(sq / n),
      errors: this.#errors,
      notFound: this.#notFound,
    };
    this.#n = 0;
    this.#errors = 0;
    this.#notFound = 0;
    this.#done(w);
  }
}
