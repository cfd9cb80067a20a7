/**
 * The probes around each delivery of a probed unit, in every tier: its service time, the
 * outputs it made and its not-found reads, into probe windows (probe-window.ts). Tier 0 runs
 * it on the host's thread; tiers 1–3 inside the guest (guest-loop.ts), which reports the
 * windows completed, and its heap, after each batch.
 */
import { swapMisses } from './miss-trap.js';
import { ProbeWindow } from './probe-window.js';
import type { WindowStats } from './protocol.js';

export class EventProbe {
  readonly #outputs: () => number;
  readonly #window: ProbeWindow;

  /** `outputs()`: outputs made so far (any count that grows by one per output). */
  constructor(outputs: () => number, done: (w: WindowStats) => void) {
    this.#outputs = outputs;
    this.#window = new ProbeWindow(done);
  }

  /** Run one delivery (true: its handler did not throw) and record it. */
  run(deliver: () => boolean): boolean {
    const outer = swapMisses(0);
    const before = this.#outputs();
    const t0 = performance.now();
    const ok = deliver();
    const ms = performance.now() - t0;
    this.#window.record(t0, ms, this.#outputs() - before, !ok, swapMisses(outer));
    return ok;
  }
}
