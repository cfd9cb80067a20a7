import type { InstanceContext } from './node.js';
import type { Receiver } from './receiver.js';
import { asStream, opInit, Stream, type OperatorOptions } from './stream.js';

/** A one-input operator node whose instance is made by `make`. */
export function unary<A, B>(
  kind: string,
  source: Stream<A>,
  options: OperatorOptions | undefined,
  make: (ctx: InstanceContext) => Receiver,
): Stream<B> {
  return new Stream<B>(
    opInit(kind, options, {
      inputs: [
        { node: asStream(source, `${kind}: the source`).node, role: 'source', control: false },
      ],
      make: (ctx) => [make(ctx)],
    }),
  );
}
