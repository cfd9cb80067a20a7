import { ScanOp } from './scan.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

/**
 * Accumulate with `f` from `seed` and emit the result when the input completes. In a keyed
 * section each key's result is emitted at that key's label, in key order (never arrival order).
 */
export function reduce<A, S>(
  f: (acc: S, value: A) => S,
  seed: S,
  options?: OperatorOptions,
): OperatorFunction<A, S> {
  const g = fn<(acc: S, v: A) => S>(f, 'reduce: the accumulator');
  return (source) => unary('reduce', source, options, (ctx) => new ScanOp(ctx, g, seed, false));
}
