import type { Label } from '../../labels.js';
import { nary, NaryOperator } from '../nary.js';
import type { Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';
import { requireUnkeyed } from './inputs.js';

class SkipUntilOp extends NaryOperator {
  #open = false;

  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    if (port === 0) {
      if (this.#open) this.down.next(v, at, key);
    } else this.#open = true;
  }

  override errorAt(port: number, err: unknown, at: Label, key: Key): void {
    // Once the notifier has emitted, it is no longer listened to (RxJS unsubscribes it).
    if (port === 1 && this.#open) return;
    super.errorAt(port, err, at, key);
  }

  completeAt(port: number): void {
    if (port === 0) this.finish();
  }
}

/**
 * Drop the source's values until `notifier` emits, then pass them all (RxJS `skipUntil`). A
 * notifier that completes without emitting lets nothing through; its error before it emitted
 * ends the output. The notifier decides whether a value is seen (the suspension leak), so it is
 * a control input (role `notifier`). In a keyed section it opens every key's instance at once;
 * a keyed notifier is refused with a ConfigError when the pipeline is built.
 */
export function skipUntil<A>(
  notifier: Stream<unknown>,
  options?: OperatorOptions,
): OperatorFunction<A, A> {
  const n = asStream(notifier, 'skipUntil: the notifier');
  return (source) => {
    const control = { stream: n, role: 'notifier', control: true };
    requireUnkeyed('skipUntil', [control]);
    return nary(
      'skipUntil',
      [{ stream: source, role: 'source', control: false }, control],
      options,
      (ctx) => new SkipUntilOp(ctx),
    );
  };
}
