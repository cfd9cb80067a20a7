import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import type { Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

class FilterOp<A> extends OperatorBase {
  readonly #p: (v: A) => boolean;

  constructor(ctx: InstanceContext, p: (v: A) => boolean) {
    super(ctx);
    this.#p = p;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(l, key);
    if (at === undefined) return;
    let keep: boolean;
    try {
      keep = this.#p(v as A);
    } catch (e) {
      this.failed(e, at, key);
      return;
    }
    if (keep) this.down.next(v, at, key);
  }
}

/**
 * Keep the values for which `predicate` is true. Whether a value passes depends on the value, so
 * the output's presence carries the filter's label, which is ⊒ its input (an implicit flow).
 */
export function filter<A>(
  predicate: (value: A) => boolean,
  options?: OperatorOptions,
): OperatorFunction<A, A> {
  const p = fn<(v: A) => boolean>(predicate, 'filter: the predicate');
  return (source) => unary('filter', source, options, (ctx) => new FilterOp(ctx, p));
}
