import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import type { Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

class MapOp<A, B> extends OperatorBase {
  readonly #f: (v: A) => B;

  constructor(ctx: InstanceContext, f: (v: A) => B) {
    super(ctx);
    this.#f = f;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(l, key);
    if (at === undefined) return;
    let r: B;
    try {
      r = this.#f(v as A);
    } catch (e) {
      this.failed(e, at, key);
      return;
    }
    this.down.next(r, at, key);
  }
}

/** Apply `f` to each value. Outputs carry the operator's fixed label. */
export function map<A, B>(f: (value: A) => B, options?: OperatorOptions): OperatorFunction<A, B> {
  const g = fn<(v: A) => B>(f, 'map: the function');
  return (source) => unary('map', source, options, (ctx) => new MapOp(ctx, g));
}
