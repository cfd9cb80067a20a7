/**
 * The probes of a guest in tier 1 or 2: times each event of a batch, counts its outputs and
 * not-found reads into probe windows, and reports the windows completed (and its heap) after
 * each batch. Measured inside the guest, so the host's hot path pays nothing for them.
 */
import { getHeapStatistics } from 'node:v8';
import type { Guest } from './guest.js';
import { ProbeWindow } from './probe-window.js';
import type { GuestMessage, InRecord, WindowStats } from './protocol.js';

export class GuestProbe {
  readonly #guest: Guest;
  readonly #outputs: () => number;
  #windows: WindowStats[] = [];
  readonly #window = new ProbeWindow((w) => this.#windows.push(w));

  /** `outputs()`: outputs made so far in this batch. */
  constructor(guest: Guest, outputs: () => number) {
    this.#guest = guest;
    this.#outputs = outputs;
  }

  /** Deliver a batch; returns how many handlers threw. */
  deliverAll(events: readonly InRecord[]): number {
    const g = this.#guest;
    let errors = 0;
    for (const e of events) {
      const misses = g.misses?.count ?? 0;
      const outs = this.#outputs();
      const t0 = performance.now();
      const ok = g.deliver(e);
      const ms = performance.now() - t0;
      if (!ok) errors++;
      this.#window.record(t0, ms, this.#outputs() - outs, !ok, (g.misses?.count ?? 0) - misses);
    }
    return errors;
  }

  /** The windows completed since the last message, and the heap in use. */
  message(): GuestMessage {
    const windows = this.#windows;
    this.#windows = [];
    return { k: 'probe', windows, heapBytes: getHeapStatistics().used_heap_size };
  }
}
