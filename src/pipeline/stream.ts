import { ConfigError } from '../errors.js';
import { Label } from '../labels.js';
import { makeNode, Node, type NodeInit } from './node.js';

/** Options every operator takes. */
export interface OperatorOptions {
  /** Fixed label for the operator (DESIGN.md §1 "Fixed labels"); default: the least label that
   * can read all its inputs, as computed by the static check. */
  readonly label?: Label;
  /** Name shown by `sluice check` and in the audit log. */
  readonly name?: string;
}

export type OperatorFunction<A, B> = (source: Stream<A>) => Stream<B>;

/**
 * A stream of values of type T in a pipeline's graph: a description, not a running thing.
 * Streams are built with sources (`from`, `fromCsv`, …), transformed with `pipe(operators…)`,
 * and run when a `Pipeline` that outputs them runs. A stream may feed several operators.
 */
export class Stream<T> {
  readonly #genuine = true;
  /** @internal the graph node that produces this stream */
  readonly node: Node;
  declare readonly __type?: T;

  constructor(node: Node) {
    if (!Node.isNode(node)) throw new ConfigError('a Stream is made by a source or an operator');
    this.node = node;
    Object.freeze(this);
  }

  /** True for genuine streams only (an object made from Stream.prototype or a proxy fails). */
  static isStream(x: unknown): x is Stream<unknown> {
    return typeof x === 'object' && x !== null && #genuine in x;
  }

  pipe(): Stream<T>;
  pipe<A>(op1: OperatorFunction<T, A>): Stream<A>;
  pipe<A, B>(op1: OperatorFunction<T, A>, op2: OperatorFunction<A, B>): Stream<B>;
  pipe<A, B, C>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
  ): Stream<C>;
  pipe<A, B, C, D>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
  ): Stream<D>;
  pipe<A, B, C, D, E>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
  ): Stream<E>;
  pipe<A, B, C, D, E, F>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
  ): Stream<F>;
  pipe<A, B, C, D, E, F, G>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
  ): Stream<G>;
  pipe(...ops: OperatorFunction<unknown, unknown>[]): Stream<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above type it
  pipe(...ops: OperatorFunction<any, any>[]): Stream<any> {
    return ops.reduce<Stream<unknown>>(
      (s, op) => {
        if (typeof op !== 'function') throw new ConfigError('pipe() takes operator functions');
        const next: unknown = op(s);
        if (!Stream.isStream(next)) throw new ConfigError('an operator must return a Stream');
        return next;
      },
      asStream(this, 'pipe: this'),
    );
  }
}

/** Check an operator's options and a stream argument; used by every operator. */
export function opInit(
  kind: string,
  options: OperatorOptions | undefined,
  rest: Omit<NodeInit, 'kind' | 'label' | 'name'>,
): Node {
  const o = (options ?? {}) as Partial<OperatorOptions>;
  if (typeof o !== 'object') throw new ConfigError(`${kind}: options must be an object`);
  if (o.label !== undefined && !Label.isLabel(o.label)) {
    throw new ConfigError(`${kind}: label must be a Label`);
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
    throw new ConfigError(`${kind}: name must be a non-empty string`);
  }
  return makeNode({ kind, name: o.name, label: o.label, ...rest });
}

export function asStream(x: unknown, what: string): Stream<unknown> {
  if (!Stream.isStream(x)) throw new ConfigError(`${what} must be a Stream`);
  return x;
}

export function fn<F>(f: F, what: string): F {
  if (typeof f !== 'function') throw new ConfigError(`${what} must be a function`);
  return f;
}
