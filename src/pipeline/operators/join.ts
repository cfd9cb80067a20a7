import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { showLabel } from '../check.js';
import { immutable } from '../immutable.js';
import type { InstanceContext } from '../node.js';
import { nary, NaryOperator } from '../nary.js';
import type { Key } from '../receiver.js';
import {
  asStream,
  fn,
  type OperatorFunction,
  type OperatorOptions,
  type Stream,
} from '../stream.js';
import { requireUnkeyed } from './inputs.js';

export interface JoinOptions<A, B, C> extends OperatorOptions {
  /** The join key of a source value (a string or a number). */
  readonly keyOf: (value: A) => string | number;
  /** The join key of a partner value. */
  readonly otherKeyOf: (value: B) => string | number;
  /** Values join when their event times differ by at most `within`. */
  readonly within: number;
  /** The event time of a source value (a finite number; no wall clock is read). */
  readonly timeOf: (value: A) => number;
  /** The event time of a partner value. */
  readonly otherTimeOf: (value: B) => number;
  /** The joined value (default: the frozen pair `[a, b]`). */
  readonly combine?: (a: A, b: B) => C;
}

interface Entry {
  readonly v: unknown;
  readonly t: number;
  readonly k: string | number;
}

/** One key's entries, in time order; evicted from the front. */
interface KeyList {
  readonly items: Entry[];
  head: number;
}

/** One input's buffered values: per key in time order, and all of them in time order (to evict). */
class Side {
  readonly #byKey = new Map<string | number, KeyList>();
  #fifo: Entry[] = [];
  #head = 0;
  watermark = -Infinity;
  completed = false;

  add(e: Entry): void {
    const l = this.#byKey.get(e.k);
    if (l === undefined) this.#byKey.set(e.k, { items: [e], head: 0 });
    else l.items.push(e);
    this.#fifo.push(e);
  }

  /** The entries of key `k` whose time is in [lo, hi], in arrival order. */
  *between(k: string | number, lo: number, hi: number): Generator<Entry> {
    const l = this.#byKey.get(k);
    if (l === undefined) return;
    const xs = l.items;
    // Times are non-decreasing: binary search the first entry at or after `lo`.
    let a = l.head;
    let b = xs.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if ((xs[m] as Entry).t < lo) a = m + 1;
      else b = m;
    }
    for (let i = a; i < xs.length && (xs[i] as Entry).t <= hi; i++) yield xs[i] as Entry;
  }

  /** Drop the entries older than `t` (they can match no later value of the other input). */
  evictBefore(t: number): void {
    const q = this.#fifo;
    while (this.#head < q.length && (q[this.#head] as Entry).t < t) {
      const e = q[this.#head++] as Entry;
      const l = this.#byKey.get(e.k) as KeyList;
      // Both lists are in arrival order: e is at the front of its key's list.
      if (++l.head === l.items.length) this.#byKey.delete(e.k);
      else if (l.head >= 1024 && l.head * 2 >= l.items.length) {
        l.items.splice(0, l.head);
        l.head = 0;
      }
    }
    if (this.#head >= 1024 && this.#head * 2 >= q.length) {
      this.#fifo = q.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#byKey.clear();
    this.#fifo = [];
    this.#head = 0;
  }
}

class JoinOp extends NaryOperator {
  readonly #o: JoinOptions<unknown, unknown, unknown>;
  readonly #sides: readonly [Side, Side] = [new Side(), new Side()];

  constructor(ctx: InstanceContext, o: JoinOptions<unknown, unknown, unknown>) {
    super(ctx);
    this.#o = o;
  }

  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    const o = this.#o;
    const mine = this.#sides[port] as Side;
    const other = this.#sides[1 - port] as Side;
    let k: string | number;
    let t: number;
    const out: unknown[] = [];
    try {
      k = port === 0 ? o.keyOf(v) : o.otherKeyOf(v);
      if (typeof k !== 'string' && typeof k !== 'number') {
        throw new ConfigError('join: a key must be a string or a number');
      }
      t = port === 0 ? o.timeOf(v) : o.otherTimeOf(v);
      if (typeof t !== 'number' || !Number.isFinite(t)) {
        throw new ConfigError('join: an event time must be a finite number');
      }
      if (t < mine.watermark) {
        this.rt.audit.record({
          kind: 'refused-flow',
          unit: this.node.name,
          op: `late event dropped by join (older than the latest on its input)`,
          from: showLabel(at),
        });
        return;
      }
      for (const e of other.between(k, t - o.within, t + o.within)) {
        out.push(port === 0 ? this.#combine(v, e.v) : this.#combine(e.v, v));
      }
    } catch (e) {
      this.failed(e, at, key);
      return;
    }
    mine.watermark = t;
    // A later value of the other input is no older than `t`: entries of the other input
    // older than t - within can match nothing more.
    other.evictBefore(t - o.within);
    if (!other.completed) mine.add({ v, t, k });
    for (const r of out) this.down.next(r, at, key);
  }

  #combine(a: unknown, b: unknown): unknown {
    const c = this.#o.combine;
    return c === undefined ? Object.freeze([a, b]) : immutable(c(a, b));
  }

  completeAt(port: number): void {
    (this.#sides[port] as Side).completed = true;
    // Nothing can match the other input's buffered values any more.
    (this.#sides[1 - port] as Side).clear();
    if (this.#sides[0].completed && this.#sides[1].completed) this.finish();
  }
}

/**
 * Inner join of the source with `other` on a key, within an event-time window: a source value
 * a and a partner value b join when `keyOf(a) === otherKeyOf(b)` and |timeOf(a) −
 * otherTimeOf(b)| ≤ `within`; the output is `combine(a, b)` (default `[a, b]`), emitted when
 * the later of the two arrives, in the order the earlier ones arrived.
 *
 * Each input must arrive in event-time order (ties allowed): its watermark is the latest time
 * it has shown, and a value older than it is late, dropped and recorded in the audit log (kind
 * `refused-flow`, no value). Buffers are bounded by the watermarks: a buffered value is evicted
 * once the other input's watermark passes its time + `within`, and all of an input's values are
 * dropped when the other input completes. The output completes when both inputs have; an error
 * of either (or of a function) ends it.
 *
 * Both inputs decide when a joined value is emitted, so both are control inputs (roles `source`
 * and `join partner`). Keyed inputs are refused with a ConfigError when the pipeline is built:
 * use `keyOf` for the join key and key the joined stream afterwards.
 */
export function join<A, B, C = readonly [A, B]>(
  other: Stream<B>,
  options: JoinOptions<A, B, C>,
): OperatorFunction<A, C> {
  const partner = asStream(other, 'join: the partner');
  const o = options as Partial<JoinOptions<A, B, C>> | null | undefined;
  if (typeof o !== 'object' || o === null) {
    throw new ConfigError(
      'join: options { keyOf, otherKeyOf, within, timeOf, otherTimeOf } are required',
    );
  }
  fn(o.keyOf, 'join: keyOf');
  fn(o.otherKeyOf, 'join: otherKeyOf');
  fn(o.timeOf, 'join: timeOf');
  fn(o.otherTimeOf, 'join: otherTimeOf');
  if (o.combine !== undefined) fn(o.combine, 'join: combine');
  if (typeof o.within !== 'number' || !(o.within >= 0) || !Number.isFinite(o.within)) {
    throw new ConfigError('join: within must be a finite number ≥ 0');
  }
  const spec = { ...o } as unknown as JoinOptions<unknown, unknown, unknown>;
  const opts: OperatorOptions = {
    ...(o.label === undefined ? {} : { label: o.label }),
    ...(o.name === undefined ? {} : { name: o.name }),
  };
  return (source) => {
    const inputs = [
      { stream: source as Stream<unknown>, role: 'source', control: true },
      { stream: partner, role: 'join partner', control: true },
    ];
    requireUnkeyed('join', inputs);
    return nary<C>('join', inputs, opts, (ctx) => new JoinOp(ctx, spec));
  };
}
