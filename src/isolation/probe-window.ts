/**
 * Probe windows: the hot path records, per event, the outputs it made, whether it threw and
 * its not-found reads into preallocated arrays (cheap counters), and, for the events that are
 * timed, their service time; every WINDOW events the window is summed up off the hot path
 * (DESIGN §4: the spread of service time over 64 events caught a timing channel in its first
 * window, with no false alarm on benign units). The spread is the interquartile range, so a
 * rare GC pause in a benign unit does not count.
 *
 * Which events are timed: a clock read is not free (≈ 0.4 µs on a VM without a vDSO clock,
 * where two per event halved a trivial unit's throughput), so not every event pays for one.
 * - The first window of a probe (a unit's start in a tier, or its arrival after a move) times
 *   every event.
 * - After that, a window times every event if the one before it took FULL_TIMING_MS per event
 *   or more (a slow stream, or a unit with slow events: there the clock costs little), and
 *   otherwise one event in SAMPLE, chosen at random by a generator the unit cannot see (it has
 *   no clock and shares no state with the probe, so it cannot tell which events are timed).
 *   A unit that busy-waits, loops or stalls makes its window slow, so the next one is timed in
 *   full: it is measured again within one window.
 * The window's wall-clock span costs one clock read per window. Timing statistics are over the
 * timed events of the window (all zero if none was timed).
 */
import { randomBytes } from 'node:crypto';
import type { WindowStats } from './protocol.js';

export const WINDOW = 64;
/** A window at least this slow (ms per event, span ÷ events) is followed by a fully timed one. */
export const FULL_TIMING_MS = 0.05;
/** Otherwise one event in SAMPLE (a power of two) is timed, at random. */
export const SAMPLE = 8;

export class ProbeWindow {
  readonly #service = new Float64Array(WINDOW);
  readonly #outputs = new Float64Array(WINDOW);
  #n = 0;
  #timed = 0;
  #errors = 0;
  #notFound = 0;
  /** Start of the window: the first event's (first window), else the end of the one before. */
  #start = -1;
  #full = true;
  /** xorshift32 state, seeded from the OS (a unit cannot reach it). */
  #rand: number;
  readonly #done: (w: WindowStats) => void;
  readonly #now: () => number;

  /** `now` and `seed` (of the sampling): tests give their own. */
  constructor(
    done: (w: WindowStats) => void,
    now: () => number = () => performance.now(),
    seed: number = randomBytes(4).readUInt32LE(0),
  ) {
    this.#done = done;
    this.#now = now;
    this.#rand = seed | 1;
  }

  /** Whether the next event is to be timed (call once per event, before it runs). */
  timeNext(): boolean {
    if (this.#full) return true;
    let x = this.#rand;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rand = x;
    return (x & (SAMPLE - 1)) === 0;
  }

  /** One event that was not timed: its outputs, whether it threw, its not-found reads. */
  record(outputs: number, threw: boolean, notFound: number): void {
    const i = this.#n;
    this.#outputs[i] = outputs;
    if (threw) this.#errors++;
    this.#notFound += notFound;
    this.#n = i + 1;
    if (this.#n === WINDOW) this.#close(this.#now());
  }

  /** One timed event: started at `t0`, took `ms`; the rest as `record`. */
  recordTimed(t0: number, ms: number, outputs: number, threw: boolean, notFound: number): void {
    if (this.#start < 0) this.#start = t0;
    this.#service[this.#timed++] = ms;
    const i = this.#n;
    this.#outputs[i] = outputs;
    if (threw) this.#errors++;
    this.#notFound += notFound;
    this.#n = i + 1;
    if (this.#n === WINDOW) this.#close(t0 + ms);
  }

  #close(end: number): void {
    const n = this.#n;
    const k = this.#timed;
    const sorted = this.#service.slice(0, k).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    let outs = 0;
    for (let i = 0; i < n; i++) outs += this.#outputs[i] ?? 0;
    const mean = outs / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += ((this.#outputs[i] ?? 0) - mean) ** 2;
    const q = (p: number): number => sorted[Math.min(k - 1, Math.floor(p * k))] ?? 0;
    // The first window times every event, so its start is known; a later one starts where the
    // one before it ended.
    const span = this.#start < 0 ? 0 : end - this.#start;
    const w: WindowStats = {
      events: n,
      spanMs: span,
      serviceMeanMs: k === 0 ? 0 : sum / k,
      serviceSpreadMs: q(0.75) - q(0.25),
      serviceMaxMs: sorted[k - 1] ?? 0,
      outputs: outs,
      outputSpread: Math.sqrt(sq / n),
      errors: this.#errors,
      notFound: this.#notFound,
    };
    this.#full = span >= FULL_TIMING_MS * n;
    this.#start = end;
    this.#n = 0;
    this.#timed = 0;
    this.#errors = 0;
    this.#notFound = 0;
    this.#done(w);
  }
}
