import type { Label } from '../../labels.js';
import { KeyedState } from '../keyed-state.js';
import { nary, NaryOperator } from '../nary.js';
import { NO_KEY, type Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';
import { requireUnkeyed } from './inputs.js';

class SampleOp extends NaryOperator {
  /** Per key: the latest value not yet sampled. */
  readonly #latest = new KeyedState<unknown>();

  nextAt(port: number, v: unknown, _at: Label, key: Key): void {
    if (port === 0) {
      this.#latest.set(key, v);
      return;
    }
    for (const k of this.#latest.keys()) {
      const x = this.#latest.get(k);
      this.#latest.delete(k);
      this.down.next(x, this.labels.of(k), k);
    }
  }

  override errorAt(port: number, err: unknown, at: Label, key: Key): void {
    if (key !== NO_KEY) this.#latest.delete(key);
    super.errorAt(port, err, at, key);
  }

  completeAt(port: number): void {
    if (port === 0) this.finish();
  }
}

/**
 * When `notifier` emits, emit the source's latest value if one arrived since the last sample
 * (RxJS `sample`). Completes with the source; the notifier's end is ignored, its error ends the
 * output. The notifier decides when values are emitted, so it is a control input (role
 * `notifier`). In a keyed section each key keeps its own latest value and the notifier samples
 * every key, in key order; a keyed notifier is refused with a ConfigError when built.
 */
export function sample<A>(
  notifier: Stream<unknown>,
  options?: OperatorOptions,
): OperatorFunction<A, A> {
  const n = asStream(notifier, 'sample: the notifier');
  return (source) => {
    const control = { stream: n, role: 'notifier', control: true };
    requireUnkeyed('sample', [control]);
    return nary(
      'sample',
      [{ stream: source, role: 'source', control: false }, control],
      options,
      (ctx) => new SampleOp(ctx),
    );
  };
}
