import type { Label } from '../../labels.js';
import { immutable } from '../immutable.js';
import { KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

export class ScanOp<A, S> extends OperatorBase {
  readonly #f: (acc: S, v: A) => S;
  readonly #seed: S;
  /** Per-key accumulators in a keyed section. */
  protected readonly state = new KeyedState<S>();
  /** The accumulator outside keyed sections, in a field of its own (starts at the seed, so a
   * numeric accumulator can live unboxed in the object: no allocation per value). */
  #acc: S;
  #has = false;
  readonly #emitEach: boolean;

  constructor(ctx: InstanceContext, f: (acc: S, v: A) => S, seed: S, emitEach: boolean) {
    super(ctx);
    this.#f = f;
    this.#seed = immutable(seed);
    this.#acc = this.#seed;
    this.#emitEach = emitEach;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(l, key);
    if (at === undefined) return;
    if (key === NO_KEY) {
      this.#nextUnkeyed(v as A, at);
      return;
    }
    const acc = this.state.has(key) ? (this.state.get(key) as S) : this.#seed;
    let r: S;
    try {
      r = immutable(this.#f(acc, v as A));
    } catch (e) {
      this.state.delete(key);
      this.failed(e, at, key);
      return;
    }
    this.state.set(key, r);
    if (this.#emitEach) this.down.next(r, at, key);
  }

  #nextUnkeyed(v: A, at: Label): void {
    let r: S;
    try {
      r = immutable(this.#f(this.#acc, v));
    } catch (e) {
      this.#acc = this.#seed;
      this.#has = false;
      this.failed(e, at, NO_KEY);
      return;
    }
    this.#acc = r;
    this.#has = true;
    if (this.#emitEach) this.down.next(r, at, NO_KEY);
  }

  override complete(label: Label): void {
    if (this.done) return;
    if (this.gate.admit(label, NO_KEY) === undefined) return;
    if (!this.#emitEach) {
      const keys = this.state.keys();
      if (this.#has) this.down.next(this.#acc, this.label, NO_KEY);
      else if (keys.length === 0 && !this.keyed) this.down.next(this.#seed, this.label, NO_KEY);
      for (const k of keys) this.down.next(this.state.get(k), this.labels.of(k), k);
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
