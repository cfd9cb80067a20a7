/**
 * The watchdog of a guest in tiers 1–3 (remote-guest.ts keeps the flights it watches):
 * whatever is in flight (events or a heartbeat ping) must be answered before the guest has
 * used `heartbeatMs + eventBudgetMs × events` ms of CPU since it became the oldest in flight;
 * when idle, a ping goes out every `heartbeatMs`. A guest past its budget (an infinite loop, a
 * handler past its budget, an endless chain of promise jobs) is killed. CPU time is the guest
 * thread's (tier 1) or process's (tier 2), read from /proc on Linux, so a guest starved of CPU
 * by a loaded machine is not killed for it; the wall clock is a backstop at ten times the
 * budget, and the only clock where /proc cannot be read. One timer also keeps the deadline of
 * the start.
 */
import type { RemoteLimits } from './remote-guest.js';

/** The wall-clock backstop of a CPU-timed deadline: this many times the CPU budget. */
const WALL_FACTOR = 10;
/** Resolution of the CPU clock (cpu-clock.ts). */
const CPU_TICK_MS = 10;
/** How often the watchdog looks at the guest's CPU time while something is in flight (ms). */
const TICK_MS = 25;

export interface WatchdogHooks {
  /** The guest is still starting. */
  starting(): boolean;
  /** Something is in flight. */
  busy(): boolean;
  /** CPU budget of the oldest flight (ms). */
  budget(): number;
  /** The start deadline passed. */
  late(): void;
  /** The oldest flight is past its budget. */
  expired(): void;
  /** A heartbeat is due (nothing in flight): send a ping. */
  beat(): void;
}

export class Watchdog {
  readonly #limits: RemoteLimits;
  readonly #hooks: WatchdogHooks;
  #timer: NodeJS.Timeout | undefined;
  /** The guest's CPU clock (ms), once it reported its thread or process. */
  cpu: (() => number | undefined) | undefined;
  /** When the oldest flight became the oldest: CPU (ms, if there is a CPU clock) and wall time. */
  #sinceCpu = 0;
  #sinceWall = 0;
  /** The last reading of the CPU clock, and when (wall). */
  #readCpu = 0;
  #readWall = -Infinity;

  constructor(limits: RemoteLimits, hooks: WatchdogHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
  }

  /** The oldest flight changed: its budget starts now. */
  oldest(): void {
    const now = performance.now();
    // The clock counts 10 ms ticks: read it (a file in /proc) at most once per tick. A reading
    // up to a tick old only makes the budget stricter by that much (≪ heartbeatMs).
    if (now - this.#readWall >= CPU_TICK_MS || this.cpu === undefined) {
      const cpu = this.cpu?.();
      if (cpu === undefined) this.cpu = undefined;
      else {
        this.#readCpu = cpu;
        this.#readWall = now;
      }
    }
    this.#sinceWall = now;
    this.#sinceCpu = this.#readCpu;
    const budget = this.#hooks.budget();
    this.arm(this.cpu === undefined ? budget : Math.min(TICK_MS, budget));
  }

  /** Nothing in flight: the next heartbeat is due in `heartbeatMs`. */
  idle(): void {
    this.arm(this.#limits.heartbeatMs);
  }

  /**
   * One timer: the start deadline; while something is in flight, the watchdog (CPU time used
   * by the guest since the oldest flight became the oldest, against its budget; the wall clock
   * only as a backstop, or where there is no CPU clock); when idle, the next heartbeat.
   */
  arm(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const h = this.#hooks;
      if (h.starting()) h.late();
      else if (h.busy()) this.#watch();
      else h.beat();
    }, ms);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    const budget = this.#hooks.budget();
    const wall = performance.now() - this.#sinceWall;
    const cpu = this.cpu?.();
    if (cpu === undefined ? wall >= budget : cpu - this.#sinceCpu > budget) this.#hooks.expired();
    else if (wall >= budget * WALL_FACTOR) this.#hooks.expired();
    else this.arm(TICK_MS);
  }
}
