import type { Label } from '../../labels.js';
import { KeyedState } from '../keyed-state.js';
import { nary, NaryOperator } from '../nary.js';
import { NO_KEY, type Key } from '../receiver.js';
import { asStream, type OperatorFunction, type OperatorOptions, type Stream } from '../stream.js';
import { requireUnkeyed } from './inputs.js';

class BufferOp extends NaryOperator {
  readonly #buffers = new KeyedState<unknown[]>();

  nextAt(port: number, v: unknown, _at: Label, key: Key): void {
    if (port === 0) {
      const b = this.#buffers.get(key);
      if (b === undefined) this.#buffers.set(key, [v]);
      else b.push(v);
      return;
    }
    this.#flush();
  }

  /** Emit every buffer (even empty ones), in key order, and start new ones. */
  #flush(): void {
    if (!this.keyed && !this.#buffers.has(NO_KEY)) this.#buffers.set(NO_KEY, []);
    for (const k of this.#buffers.keys()) {
      const b = this.#buffers.get(k) as unknown[];
      this.#buffers.set(k, []);
      this.down.next(Object.freeze(b), this.labels.of(k), k);
    }
  }

  override errorAt(port: number, err: unknown, at: Label, key: Key): void {
    if (key !== NO_KEY) this.#buffers.delete(key);
    super.errorAt(port, err, at, key);
  }

  completeAt(port: number): void {
    if (port !== 0) return;
    this.#flush();
    this.finish();
  }
}

/**
 * Collect the source's values and emit them as a frozen array each time `notifier` emits (an
 * empty array if none arrived), and the last buffer when the source completes (RxJS `buffer`).
 * The notifier's end is ignored; its error ends the output. The notifier decides when buffers
 * are emitted, so it is a control input (role `notifier`). In a keyed section each key has its
 * own buffer, emitted at its key's label, in key order, for every key seen so far; a keyed
 * notifier is refused with a ConfigError when the pipeline is built.
 */
export function buffer<A>(
  notifier: Stream<unknown>,
  options?: OperatorOptions,
): OperatorFunction<A, readonly A[]> {
  const n = asStream(notifier, 'buffer: the notifier');
  return (source) => {
    const control = { stream: n, role: 'notifier', control: true };
    requireUnkeyed('buffer', [control]);
    return nary(
      'buffer',
      [{ stream: source, role: 'source', control: false }, control],
      options,
      (ctx) => new BufferOp(ctx),
    );
  };
}
