import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { showLabel } from '../check.js';
import { KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

/** An event-time window [start, end) and the values whose time falls in it, in arrival order. */
export interface TimeWindow<A> {
  readonly start: number;
  readonly end: number;
  readonly values: readonly A[];
}

export interface WindowTimeOptions<A> extends OperatorOptions {
  /** Window length, in the unit of `timeOf` (e.g. milliseconds). */
  readonly size: number;
  /** Distance between window starts (default `size`: tumbling windows). */
  readonly slide?: number;
  /** The event time of a value: a finite number read from the value, never the wall clock. */
  readonly timeOf: (value: A) => number;
}

interface KeyWindows {
  /** The watermark: the latest event time this key's instance has seen. */
  watermark: number;
  /** The end of the last window emitted: an event older than this is late. */
  emittedUpTo: number;
  /** Open windows by start. */
  readonly open: Map<number, unknown[]>;
}

/** A key's windows as kept (JSON: -∞ as null, open windows as [start, values] by start). */
function keptOf(w: KeyWindows): unknown {
  const finite = (n: number) => (n === -Infinity ? null : n);
  return {
    watermark: finite(w.watermark),
    emittedUpTo: finite(w.emittedUpTo),
    open: [...w.open.entries()].sort((a, b) => a[0] - b[0]),
  };
}

/** Stored windows, checked; the restored (frozen) arrays are copied, as windows still fill. */
function windowsOf(v: unknown): KeyWindows {
  const w = v as { watermark?: unknown; emittedUpTo?: unknown; open?: unknown } | null;
  const time = (n: unknown): number => {
    if (n === null) return -Infinity;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error('a time');
    return n;
  };
  if (typeof w !== 'object' || w === null || !Array.isArray(w.open)) {
    throw new ConfigError('windowTime: stored windows have the wrong shape');
  }
  const open = new Map<number, unknown[]>();
  for (const e of w.open as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !Array.isArray(e[1])) {
      throw new ConfigError('windowTime: stored windows have the wrong shape');
    }
    open.set(time(e[0]), [...(e[1] as unknown[])]);
  }
  return { watermark: time(w.watermark), emittedUpTo: time(w.emittedUpTo), open };
}

class WindowTimeOp<A> extends OperatorBase {
  readonly #size: number;
  readonly #slide: number;
  readonly #timeOf: (v: A) => number;
  readonly #state = new KeyedState<KeyWindows>();
  /** Set when the pipeline keeps its state in a store. */
  readonly #kept = this.keep({
    save: (key) => {
      const w = this.#state.get(key);
      return w === undefined ? undefined : { value: keptOf(w) };
    },
    load: (key, value) => {
      this.#state.set(key, windowsOf(value));
    },
    fail: (key, err) => {
      this.#state.delete(key);
      this.failed(err, key === NO_KEY ? this.label : this.labels.of(key), key);
    },
  });

  constructor(ctx: InstanceContext, size: number, slide: number, timeOf: (v: A) => number) {
    super(ctx);
    this.#size = size;
    this.#slide = slide;
    this.#timeOf = timeOf;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    let t: number;
    try {
      t = this.#timeOf(v as A);
      if (typeof t !== 'number' || !Number.isFinite(t)) {
        throw new ConfigError('windowTime: timeOf must return a finite number');
      }
    } catch (e) {
      this.#state.delete(key);
      this.failed(e, at, key);
      return;
    }
    let w = this.#state.get(key);
    if (w === undefined) {
      w = { watermark: -Infinity, emittedUpTo: -Infinity, open: new Map() };
      this.#state.set(key, w);
    }
    if (t < w.emittedUpTo) {
      // Nothing changed: the kept windows stay as they are.
      this.rt.audit.record({
        kind: 'refused-flow',
        unit: this.node.name,
        op: 'late event dropped by windowTime (older than the end of a window already emitted)',
        from: showLabel(at),
      });
      return;
    }
    const size = this.#size;
    const slide = this.#slide;
    for (let k = Math.floor(t / slide); k * slide + size > t; k--) {
      const start = k * slide;
      const values = w.open.get(start);
      if (values === undefined) w.open.set(start, [v]);
      else values.push(v);
    }
    if (t > w.watermark) {
      w.watermark = t;
      this.#emit(w, at, key, t);
    }
    this.#kept?.touch(key);
  }

  /** Emit, in start order, the windows whose end is ≤ `upTo`. */
  #emit(w: KeyWindows, at: Label, key: Key, upTo: number): void {
    const size = this.#size;
    const ready = [...w.open.keys()].filter((s) => s + size <= upTo).sort((a, b) => a - b);
    for (const start of ready) {
      const values = w.open.get(start) as unknown[];
      w.open.delete(start);
      w.emittedUpTo = start + size;
      this.down.next(
        Object.freeze({ start, end: start + size, values: Object.freeze(values) }),
        at,
        key,
      );
    }
  }

  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    if (key !== NO_KEY) this.#state.delete(key);
    super.error(err, at, key);
  }

  override complete(l: Label): void {
    if (this.done) return;
    if (this.admit(l, NO_KEY) === undefined) return;
    for (const k of this.#state.keys()) {
      this.#emit(this.#state.get(k) as KeyWindows, this.labels.of(k), k, Infinity);
    }
    this.done = true;
    this.down.complete(this.label);
  }
}

function positive(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`windowTime: ${what} must be a finite number > 0`);
  }
  return n;
}

/**
 * Event-time windows: window starts are the multiples of `slide`, each window [start,
 * start + size) collects the values whose `timeOf` falls in it (`slide = size`: tumbling;
 * `slide < size`: sliding, a value is in several windows; `slide > size`: values between
 * windows belong to none). The watermark is the latest event time seen; a window is emitted as
 * a frozen `{ start, end, values }` once the watermark reaches its end, and the windows still
 * open are emitted in start order when the source completes. No wall clock is read.
 *
 * Late events: a value older than the end of a window already emitted is dropped and recorded
 * in the audit log (kind `refused-flow`, no value); it is not counted in the run report's
 * `refused`, which counts the runtime monitor's refusals only. An out-of-order value whose
 * windows are all still open is kept.
 *
 * In a keyed section each key has its own windows and watermark (another key's events never
 * close a key's window) and its windows carry its key's label; on completion keys are flushed in
 * key order.
 */
export function windowTime<A>(options: WindowTimeOptions<A>): OperatorFunction<A, TimeWindow<A>> {
  const o = options as Partial<WindowTimeOptions<A>> | null | undefined;
  if (typeof o !== 'object' || o === null) {
    throw new ConfigError('windowTime: options { size, slide?, timeOf } are required');
  }
  const size = positive(o.size, 'size');
  const slide = positive(o.slide ?? size, 'slide');
  const timeOf = fn(o.timeOf as (v: A) => number, 'windowTime: timeOf');
  const opts: OperatorOptions = {
    ...(o.label === undefined ? {} : { label: o.label }),
    ...(o.name === undefined ? {} : { name: o.name }),
  };
  return (source) =>
    unary('windowTime', source, opts, (ctx) => new WindowTimeOp(ctx, size, slide, timeOf));
}
