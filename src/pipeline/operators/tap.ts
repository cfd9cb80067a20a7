import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import type { Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

class TapOp<A> extends OperatorBase {
  readonly #f: (v: A) => void;

  constructor(ctx: InstanceContext, f: (v: A) => void) {
    super(ctx);
    this.#f = f;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    try {
      this.#f(v as A);
    } catch (e) {
      this.failed(e, at, key);
      return;
    }
    this.down.next(v, at, key);
  }
}

/**
 * Run `f` for each value and pass the value on. `f` runs at the operator's label; it gets no
 * sink, so anything it sends to the world must go through a pipeline sink instead.
 */
export function tap<A>(f: (value: A) => void, options?: OperatorOptions): OperatorFunction<A, A> {
  const g = fn<(v: A) => void>(f, 'tap: the function');
  return (source) => unary('tap', source, options, (ctx) => new TapOp(ctx, g));
}
