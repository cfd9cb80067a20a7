import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import type { OperatorFunction, OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

interface Pending {
  readonly v: unknown;
  readonly at: Label;
  cancel: () => void;
}

class DebounceOp extends OperatorBase {
  readonly #ms: number;
  readonly #pending = new KeyedState<Pending>();

  constructor(ctx: InstanceContext, ms: number) {
    super(ctx);
    this.#ms = ms;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    this.#pending.get(key)?.cancel();
    const p: Pending = { v, at, cancel: () => undefined };
    // The timer is started by this event, in this instance: what it emits carries `at`.
    p.cancel = this.rt.timer(this.#ms, () => {
      this.#pending.delete(key);
      this.down.next(p.v, p.at, key);
    });
    this.#pending.set(key, p);
  }

  #drop(key: Key): void {
    for (const k of key === NO_KEY ? this.#pending.keys() : [key]) {
      this.#pending.get(k)?.cancel();
      this.#pending.delete(k);
    }
  }

  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    this.#drop(key);
    super.error(err, at, key);
  }

  override complete(l: Label): void {
    if (this.done) return;
    if (this.admit(l, NO_KEY) === undefined) return;
    // A stopped run's timers are cleared: its pending values are dropped, not flushed.
    for (const k of this.rt.stopped ? [] : this.#pending.keys()) {
      const p = this.#pending.get(k) as Pending;
      p.cancel();
      this.down.next(p.v, p.at, k);
    }
    this.#drop(NO_KEY);
    this.done = true;
    this.down.complete(this.label);
  }
}

/**
 * Emit a value only after `ms` milliseconds pass without another value (RxJS `debounceTime`);
 * on completion the pending value is emitted first; an error drops it. The timer is the run's
 * (cleared when it stops) and is started by an event in this operator's instance, so what it
 * emits carries the instance's label. In a keyed section each key debounces on its own, and on
 * completion the pending values are emitted in key order.
 */
export function debounce<A>(ms: number, options?: OperatorOptions): OperatorFunction<A, A> {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new ConfigError('debounce: ms must be a finite number ≥ 0');
  }
  return (source) => unary('debounce', source, options, (ctx) => new DebounceOp(ctx, ms));
}
