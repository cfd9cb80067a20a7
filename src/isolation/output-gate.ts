/**
 * What stands between a managed unit's outputs and the engine: passes them on at once, or
 * releases them at a fixed rate (throttle: evenly spaced, so the rate an observer sees no
 * longer follows the rate the unit emits at), or holds them (quarantine). Order is kept in
 * every mode. A throttled or held backlog past MAX_KEPT drops what comes next (audited).
 */
import type { Publisher } from './isolated-unit.js';
import type { OutRecord } from './protocol.js';

const MAX_KEPT = 100_000;
const TICK_MS = 10;

export class OutputGate {
  readonly publisher: Publisher;
  #queue: OutRecord[] = [];
  #head = 0;
  #rate: number | undefined;
  #held = false;
  #closed = false;
  #credit = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  constructor(publisher: Publisher) {
    this.publisher = publisher;
  }

  get rate(): number | undefined {
    return this.#rate;
  }

  get #kept(): number {
    return this.#queue.length - this.#head;
  }

  push(o: OutRecord): void {
    if (this.#closed) return;
    if (this.#rate === undefined && !this.#held && this.#kept === 0) {
      this.publisher.publish(o);
      return;
    }
    if (this.#kept >= MAX_KEPT) {
      this.publisher.handlerErrors(1);
      return;
    }
    this.#queue.push(o);
    this.#schedule();
  }

  throttle(rate: number): void {
    this.#rate = rate;
    this.#credit = 0;
    this.#last = performance.now();
  }

  hold(): void {
    this.#held = true;
  }

  unhold(): void {
    this.#held = false;
    this.#schedule();
  }

  /** Resolves when nothing is kept (never while held with outputs kept). */
  drained(): Promise<void> {
    if (this.#kept === 0 || this.#closed) return Promise.resolve();
    return new Promise((r) => this.#waiters.push(r));
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#held || this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#release();
      },
      this.#rate === undefined ? 0 : TICK_MS,
    );
  }

  #release(): void {
    if (this.#held || this.#closed) return;
    let n = this.#kept;
    if (this.#rate !== undefined) {
      const now = performance.now();
      const cap = Math.max(1, (this.#rate * 2 * TICK_MS) / 1000);
      this.#credit = Math.min(cap, this.#credit + ((now - this.#last) * this.#rate) / 1000);
      this.#last = now;
      n = Math.min(n, Math.floor(this.#credit));
      this.#credit -= n;
    }
    for (let i = 0; i < n; i++) {
      const o = this.#queue[this.#head++];
      if (o !== undefined) this.publisher.publish(o);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#kept > 0) this.#schedule();
    else this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
