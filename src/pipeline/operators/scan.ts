import type { Label } from '../../labels.js';
import { immutable } from '../immutable.js';
import { compareKeys, KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

/** One key's accumulator and the label its instance runs at (one map lookup per value). */
interface Slot<S> {
  readonly label: Label;
  acc: S;
}

export class ScanOp<A, S> extends OperatorBase {
  readonly #f: (acc: S, v: A) => S;
  readonly #seed: S;
  readonly #emitEach: boolean;
  /** Outside keyed sections. */
  /** Outside keyed sections the accumulator lives in a KeyedState: kept in a field of ScanOp
   * itself, V8 re-generalised the field's representation run after run and reduce fell to a
   * third of its speed (see BENCHMARKS.md, `operators`). */
  readonly #one = new KeyedState<S>();
  /** In keyed sections. */
  readonly #slots = new Map<Key, Slot<S>>();
  /** Set when the pipeline keeps its state in a store. */
  readonly #kept = this.keep({
    save: (key) => {
      if (key !== NO_KEY) {
        const s = this.#slots.get(key);
        return s === undefined ? undefined : { value: s.acc };
      }
      return this.#one.has(NO_KEY) ? { value: this.#one.get(NO_KEY) } : undefined;
    },
    // Restored values are deeply frozen, like the seed: accumulators return new values.
    load: (key, value) => {
      if (key === NO_KEY) this.#one.set(NO_KEY, value as S);
      else this.#slots.set(key, { label: this.labels.of(key), acc: value as S });
    },
    fail: (key, err) => {
      if (key === NO_KEY) {
        this.#one.delete(NO_KEY);
        this.failed(err, this.label, NO_KEY);
        return;
      }
      const s = this.#slots.get(key);
      this.#slots.delete(key);
      this.failed(err, s?.label ?? this.labels.of(key), key);
    },
  });

  constructor(ctx: InstanceContext, f: (acc: S, v: A) => S, seed: S, emitEach: boolean) {
    super(ctx);
    this.#f = f;
    // One seed serves every key: frozen, so one key's instance cannot change another's start.
    this.#seed = immutable(seed);
    this.#emitEach = emitEach;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    if (key === NO_KEY) {
      const at = this.gate.admit(l, key);
      if (at === undefined) return;
      let r: S;
      try {
        r = this.#f(this.#one.has(NO_KEY) ? (this.#one.get(NO_KEY) as S) : this.#seed, v as A);
      } catch (e) {
        this.failed(e, at, key);
        return;
      }
      this.#one.set(NO_KEY, r);
      this.#kept?.touch(NO_KEY);
      if (this.#emitEach) this.down.next(r, at, key);
      return;
    }
    let s = this.#slots.get(key);
    if (s === undefined) {
      const at = this.gate.admit(l, key);
      if (at === undefined) return;
      s = { label: at, acc: this.#seed };
      this.#slots.set(key, s);
    } else if (l !== s.label && this.gate.admit(l, key) === undefined) return;
    let r: S;
    try {
      r = this.#f(s.acc, v as A);
    } catch (e) {
      this.#slots.delete(key);
      this.#kept?.touch(key);
      this.failed(e, s.label, key);
      return;
    }
    s.acc = r;
    this.#kept?.touch(key);
    if (this.#emitEach) this.down.next(r, s.label, key);
  }

  /** An error from upstream ends that key's instance: its accumulator is dropped with it (it
   * is not emitted at the end, and is kept as failed). */
  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    if (key !== NO_KEY && this.gate.admit(l, key) !== undefined) this.#slots.delete(key);
    super.error(err, l, key);
  }

  override complete(label: Label): void {
    if (this.done) return;
    if (this.gate.admit(label, NO_KEY) === undefined) return;
    if (!this.#emitEach) {
      if (this.#one.has(NO_KEY)) this.down.next(this.#one.get(NO_KEY), this.label, NO_KEY);
      else if (!this.keyed) this.down.next(this.#seed, this.label, NO_KEY);
      for (const k of [...this.#slots.keys()].sort(compareKeys)) {
        const s = this.#slots.get(k) as Slot<S>;
        this.down.next(s.acc, s.label, k);
      }
    }
    this.done = true;
    this.down.complete(this.label);
  }
}

/**
 * Accumulate with `f` from `seed`, emitting every intermediate result. In a keyed section each
 * key has its own accumulator, at its key's label.
 */
export function scan<A, S>(
  f: (acc: S, value: A) => S,
  seed: S,
  options?: OperatorOptions,
): OperatorFunction<A, S> {
  const g = fn<(acc: S, v: A) => S>(f, 'scan: the accumulator');
  return (source) => unary('scan', source, options, (ctx) => new ScanOp(ctx, g, seed, true));
}
