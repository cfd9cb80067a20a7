/**
 * Handler deadlines without a Node timer per invocation. Every invocation with the same time
 * limit joins one queue; since they all get the same limit, their deadlines come in the order
 * they joined, so the queue is first in, first out and one timer, armed for the oldest deadline,
 * serves all of them. An invocation that ends leaves the queue once every older one has (until
 * then it is only marked ended); the timer is re-armed only when it fires, and holds the process
 * open only while some invocation is waiting.
 *
 * An entry expires no earlier than `ms` after it joined (`performance.now()`, monotonic): a
 * timer that fires early (Node measures from the event loop's cached time) re-arms for the rest.
 */
import { performance } from 'node:perf_hooks';

/** What waits for a deadline: told `expire()` once, unless it has `ended` before. */
export interface Expiring {
  /** Set by `Deadlines.add`: when the entry expires (`performance.now()` milliseconds). */
  deadline: number;
  /** Set by its owner when it ends (before calling `release()`); it is then never expired. */
  readonly ended: boolean;
  expire(): void;
}

export class Deadlines {
  readonly ms: number;
  readonly #queue: Expiring[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** How many entries the queue holds (those ended behind an older running one included). */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Start `e`'s clock: `e.expire()` runs `ms` after `from` (a `performance.now()` reading,
   * default now) unless `e` has ended by then. The queue is in the order of `add`: an entry whose
   * `from` is earlier than that of one added before it expires with that one, late by the
   * difference (the gateway's `from` is when the handler was called: microseconds).
   */
  add(e: Expiring, from = performance.now()): void {
    e.deadline = from + this.ms;
    const q = this.#queue;
    q.push(e);
    if (this.#timer === undefined) this.#arm(this.ms);
    else if (q.length === 1) this.#timer.ref();
  }

  /** Call after an entry has ended: ended entries at the front leave the queue. */
  release(): void {
    const q = this.#queue;
    while (q.length > 0 && (q[0] as Expiring).ended) q.shift();
    if (q.length === 0) this.#timer?.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const q = this.#queue;
    const now = performance.now();
    for (let e = q[0]; e !== undefined && (e.ended || e.deadline <= now); e = q[0]) {
      q.shift();
      if (!e.ended) e.expire();
    }
    const next = q[0];
    if (next !== undefined) this.#arm(Math.max(1, Math.ceil(next.deadline - now)));
  };

  #arm(ms: number): void {
    this.#timer ??= setTimeout(this.#fire, ms);
  }
}

/** One queue per time limit, shared by every route with that limit. */
const queues = new Map<number, Deadlines>();

export function deadlinesOf(ms: number): Deadlines {
  let d = queues.get(ms);
  if (d === undefined) queues.set(ms, (d = new Deadlines(ms)));
  return d;
}
