import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { KeyFamily } from '../key-family.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import type { StateSlot } from '../state/checkpointer.js';
import {
  asStream,
  fn,
  opInit,
  Stream,
  type OperatorFunction,
  type OperatorOptions,
} from '../stream.js';

class KeyByOp<A> extends OperatorBase {
  readonly #keyOf: (v: A) => unknown;
  readonly #element: ((v: A) => unknown) | undefined;
  /** With state: the keys routed, kept at the router's label (where they are decided). */
  readonly #routed: StateSlot | undefined;

  constructor(ctx: InstanceContext, keyOf: (v: A) => unknown, element?: (v: A) => unknown) {
    super(ctx);
    this.#keyOf = keyOf;
    this.#element = element;
    this.#routed = ctx.rt.state?.router(ctx.node, ctx.label);
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    let k: unknown;
    let to: Label;
    let out = v;
    try {
      k = this.#keyOf(v as A);
      if (this.#element !== undefined) out = this.#element(v as A);
      if (typeof k !== 'string' && typeof k !== 'number') {
        throw new ConfigError('keyBy: a key must be a string or a number');
      }
      // The key's instance runs at the router's label ⊔ the key's tag: a raise, always allowed.
      // (Minting the tag is inside the try: nothing thrown here may unwind into the producer.)
      to = this.labels.of(k);
    } catch (e) {
      this.failed(e, at, key);
      return;
    }
    this.#routed?.touch(k);
    this.down.next(out, to, k);
  }
}

export interface KeyByOptions<A, E> extends OperatorOptions {
  /** What each key's instance receives (as RxJS `groupBy`'s element selector); default the
   * value itself. A primitive element crosses into the key's label without being frozen. */
  readonly element?: (value: A) => E;
}

/**
 * Route each value to the instance of its key: every operator after `keyBy` (scan, reduce,
 * windows, map, filter, sinks with `perKey`) keeps one logical instance per key, running at the
 * stream's label ⊔ `family.label(key)`, so one key's aggregate never sees another key's data.
 * The key is computed from data at the router's label; the instances' labels are ⊒ it.
 */
export function keyBy<A, E = A>(
  keyOf: (value: A) => string | number,
  family: KeyFamily,
  options?: KeyByOptions<A, E>,
): OperatorFunction<A, E> {
  const k = fn<(v: A) => unknown>(keyOf, 'keyBy: the key function');
  const element = options?.element;
  if (element !== undefined && typeof element !== 'function') {
    throw new ConfigError('keyBy: element must be a function');
  }
  if (!KeyFamily.isKeyFamily(family)) throw new ConfigError('keyBy: family must be a KeyFamily');
  return (source) =>
    new Stream<E>(
      opInit('keyBy', options, {
        inputs: [
          { node: asStream(source, 'keyBy: the source').node, role: 'source', control: false },
        ],
        effect: { kind: 'key-by', family },
        make: (ctx) => [new KeyByOp(ctx, k, element)],
      }),
    );
}

export { NO_KEY };
