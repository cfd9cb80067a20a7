/**
 * The probes around each delivery of a probed unit, in every tier: the outputs it made and its
 * not-found reads (every event), and its service time (the events the window chooses to time,
 * probe-window.ts), into probe windows. Tier 0 runs it on the host's thread; tiers 1–3 inside
 * the guest (guest-loop.ts), which reports the windows completed, and its heap, after each batch.
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

  #before = 0;
  /** Start of the delivery, or -1 if this one is not timed. */
  #t0 = -1;

  /**
   * Around one delivery: `begin()`, the delivery, `end(ok)` (no closure per event). Nested
   * deliveries (tier 0) use their own probe, and the miss counter is swapped per unit.
   */
  begin(): number {
    const outer = swapMisses(0);
    this.#before = this.#outputs();
    this.#t0 = this.#window.timeNext() ? performance.now() : -1;
    return outer;
  }

  /** `outer`: what begin() returned; `ok`: the handler did not throw. */
  end(outer: number, ok: boolean): boolean {
    const t0 = this.#t0;
    const outputs = this.#outputs() - this.#before;
    if (t0 < 0) this.#window.record(outputs, !ok, swapMisses(outer));
    else this.#window.recordTimed(t0, performance.now() - t0, outputs, !ok, swapMisses(outer));
    return ok;
  }

  /** Run one delivery (true: its handler did not throw) and record it. */
  run(deliver: () => boolean): boolean {
    const outer = this.begin();
    return this.end(outer, deliver());
  }
}
