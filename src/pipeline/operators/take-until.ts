import type { Label } from '../../labels.js';
import { nary, NaryOperator } from '../nary.js';
import { NO_KEY, type Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';

class TakeUntilOp extends NaryOperator {
  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    if (port === 0) this.down.next(v, at, key);
    // A keyed notification runs at its key's label: it may cut off that key only. Ending the
    // whole output (at the operator's base label) would tell every key, and the unkeyed values'
    // readers, what one key's data did.
    else if (key === NO_KEY) this.finish();
    else this.endKey(key);
  }

  completeAt(port: number): void {
    if (port === 0) this.finish();
  }
}

/**
 * Pass values until `notifier` emits, then complete. The notifier decides where the output is
 * cut off (the preemption leak), so it is a control input: the output's label is ⊒ its label.
 * In a keyed section, the notifier's value for key k cuts off key k's values only.
 */
export function takeUntil<A>(
  notifier: Stream<unknown>,
  options?: OperatorOptions,
): OperatorFunction<A, A> {
  const n = asStream(notifier, 'takeUntil: the notifier');
  return (source) =>
    nary(
      'takeUntil',
      [
        { stream: source, role: 'source', control: false },
        { stream: n, role: 'notifier', control: true },
      ],
      options,
      (ctx) => new TakeUntilOp(ctx),
    );
}
