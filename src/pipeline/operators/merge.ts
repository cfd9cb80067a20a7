import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { nary, NaryOperator } from '../nary.js';
import type { Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';

class MergeOp extends NaryOperator {
  #open: number;

  constructor(ctx: InstanceContext, n: number) {
    super(ctx);
    this.#open = n;
  }

  nextAt(_port: number, v: unknown, at: Label, key: Key): void {
    this.down.next(v, at, key);
  }

  completeAt(): void {
    if (--this.#open === 0) this.finish();
  }
}

/**
 * Interleave the source with `others` as they emit. The interleaving order is decided by every
 * input, so each is a control input: the output's label is the join of all of them.
 */
export function merge<A>(
  ...others: [...Stream<A>[], OperatorOptions] | Stream<A>[]
): OperatorFunction<A, A> {
  const last = others[others.length - 1];
  const hasOptions = last !== undefined && !(typeof last === 'object' && 'node' in last);
  const options = hasOptions ? last : undefined;
  const streams = (hasOptions ? others.slice(0, -1) : others).map((s, i) =>
    asStream(s, `merge: input ${String(i + 1)}`),
  );
  return (source) =>
    nary(
      'merge',
      [source, ...streams].map((stream, i) => ({
        stream,
        role: i === 0 ? 'source' : `merged input ${String(i)}`,
        control: true,
      })),
      options,
      (ctx) => new MergeOp(ctx, streams.length + 1),
    );
}
