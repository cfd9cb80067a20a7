import type { Label } from '../../labels.js';
import { nary, NaryOperator } from '../nary.js';
import { requireUnkeyed } from './inputs.js';
import type { Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';

class TakeUntilOp extends NaryOperator {
  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    if (port === 0) this.down.next(v, at, key);
    else this.finish();
  }

  completeAt(port: number): void {
    if (port === 0) this.finish();
  }
}

/**
 * Pass values until `notifier` emits, then complete. The notifier decides where the output is
 * cut off (the preemption leak), so it is a control input: the output's label is ⊒ its label.
 */
export function takeUntil<A>(
  notifier: Stream<unknown>,
  options?: OperatorOptions,
): OperatorFunction<A, A> {
  const n = asStream(notifier, 'takeUntil: the notifier');
  return (source) => {
    const control = { stream: n, role: 'notifier', control: true };
    // A keyed notifier would let one key's data end every key's output.
    requireUnkeyed('takeUntil', [control]);
    return nary(
      'takeUntil',
      [{ stream: source, role: 'source', control: false }, control],
      options,
      (ctx) => new TakeUntilOp(ctx),
    );
  };
}
