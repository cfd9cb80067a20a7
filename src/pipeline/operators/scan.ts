import type { Label } from '../../labels.js';
import { immutable } from '../immutable.js';
import { KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import type { Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

export class ScanOp<A, S> extends OperatorBase {
  readonly #f: (acc: S, v: A) => S;
  readonly #seed: S;
  protected readonly state = new KeyedState<S>();
  readonly #emitEach: boolean;

  constructor(ctx: InstanceContext, f: (acc: S, v: A) => S, seed: S, emitEach: boolean) {
    super(ctx);
    this.#f = f;
    this.#seed = immutable(seed);
    this.#emitEach = emitEach;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(l, key);
    if (at === undefined) return;
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

  override complete(label: Label): void {
    if (this.done) return;
    if (this.gate.admit(label, this.noKey) === undefined) return;
    if (!this.#emitEach) {
      const keys = this.state.keys();
      if (keys.length === 0 && !this.keyed) this.down.next(this.#seed, this.label, this.noKey);
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
