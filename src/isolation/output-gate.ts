/**
 * What stands between a managed unit's outputs and the engine: passes them on at once
 * (`open`: the caller publishes directly, nothing is allocated), or keeps them and releases
 * them at a fixed rate (throttle: evenly spaced, so the rate an observer sees no longer
 * follows the rate the unit emits at), or holds them (quarantine). Order is kept in every
 * mode. A kept output is a copy made when it is kept; a backlog past MAX_KEPT drops what
 * comes next (the caller audits it).
 */
const MAX_KEPT = 100_000;
const TICK_MS = 10;

export class OutputGate {
  #queue: (() => void)[] = [];
  #head = 0;
  #rate: number | undefined;
  #held = false;
  #closed = false;
  #credit = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  get rate(): number | undefined {
    return this.#rate;
  }

  /** Outputs pass straight through (not throttled, not held, nothing kept). */
  get open(): boolean {
    return this.#rate === undefined && !this.#held && this.#queue.length === this.#head;
  }

  get #kept(): number {
    return this.#queue.length - this.#head;
  }

  /** Keep one output (`publish` publishes the copy); false if dropped (closed, or full). */
  keep(publish: () => void): boolean {
    if (this.#closed || this.#kept >= MAX_KEPT) return false;
    this.#queue.push(publish);
    this.#schedule();
    return true;
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
    for (let i = 0; i < n; i++) this.#queue[this.#head++]?.();
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
