/**
 * Test support for pipeline operators: a collecting sink and a deterministic clock that
 * interleaves several async sources step by step (no wall clock, no flakiness).
 */
import { Label } from '../../src/labels.js';
import type { KeyFamily } from '../../src/pipeline/key-family.js';
import type { Pipeline, RunReport } from '../../src/pipeline/pipeline.js';
import type { SinkInfo } from '../../src/pipeline/sink.js';
import { toCallback } from '../../src/pipeline/sinks/to-callback.js';
import type { SourceOptions } from '../../src/pipeline/source.js';
import { fromAsync } from '../../src/pipeline/sources/from-async.js';
import type { Stream } from '../../src/pipeline/stream.js';

export interface Collected<T> {
  readonly values: T[];
  readonly infos: SinkInfo[];
  readonly errors: unknown[];
  /** Every notification in order: `v` value, `e` error, `c` completion. */
  readonly events: (['v', T] | ['e', unknown] | ['c'])[];
  completed: boolean;
}

/** Wire `s` to a collecting sink (clearance `label`, default public). */
export function sinkTo<T>(
  p: Pipeline,
  s: Stream<T>,
  opts: { label?: Label; perKey?: KeyFamily } = {},
): Collected<T> {
  const c: Collected<T> = { values: [], infos: [], errors: [], events: [], completed: false };
  p.output(
    s,
    toCallback<T>(
      (v, info) => {
        c.values.push(v);
        c.infos.push(info);
        c.events.push(['v', v]);
      },
      {
        label: opts.label ?? Label.public,
        ...(opts.perKey === undefined ? {} : { perKey: opts.perKey }),
        onError: (e) => {
          c.errors.push(e);
          c.events.push(['e', e]);
        },
        onComplete: () => {
          c.completed = true;
          c.events.push(['c']);
        },
      },
    ),
  );
  return c;
}

/** Run `p` with `s` as its only output. */
export async function collect<T>(
  p: Pipeline,
  s: Stream<T>,
  opts: { label?: Label; perKey?: KeyFamily; clock?: Clock } = {},
): Promise<Collected<T> & { report: RunReport }> {
  const c = sinkTo(p, s, opts);
  const done = p.run();
  await opts.clock?.run();
  const report = await done;
  return Object.assign(c, { report });
}

/** Discrete time for tests: `at(n)` resolves at step n; `run()` steps until nobody waits. */
export class Clock {
  #now = 0;
  readonly #waiters = new Map<number, (() => void)[]>();

  get now(): number {
    return this.#now;
  }

  at(step: number): Promise<void> {
    if (step <= this.#now) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.set(step, [...(this.#waiters.get(step) ?? []), resolve]);
    });
  }

  async run(): Promise<void> {
    for (;;) {
      // Let everything started so far (microtasks, I/O callbacks) settle and register.
      await new Promise((r) => setImmediate(r));
      if (this.#waiters.size === 0) return;
      this.#now = Math.min(...this.#waiters.keys());
      const ws = this.#waiters.get(this.#now) ?? [];
      this.#waiters.delete(this.#now);
      for (const w of ws) w();
    }
  }
}

/** What a scripted source does after its values: complete or fail, at a step. */
export type Ending = { readonly end: number } | { readonly error: number; readonly err?: Error };

/** A source that emits `value` at `step` for each `[step, value]`, then ends as `ending` says. */
export function scripted<T>(
  clock: Clock,
  events: readonly (readonly [number, T])[],
  ending: Ending = { end: 0 },
  options?: SourceOptions<T>,
): Stream<T> {
  async function* gen(): AsyncGenerator<T> {
    for (const [step, v] of events) {
      await clock.at(step);
      yield v;
    }
    if ('end' in ending) {
      await clock.at(ending.end);
      return;
    }
    await clock.at(ending.error);
    throw ending.err ?? new Error('scripted failure');
  }
  return fromAsync(gen(), options);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
