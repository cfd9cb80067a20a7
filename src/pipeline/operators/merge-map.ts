import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { immutable } from '../immutable.js';
import { KeyedState } from '../keyed-state.js';
import { Fifo } from './fifo.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import { fn, type OperatorFunction, type OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

/** What `mergeMap`'s function may return for one value. */
export type Inner<B> = Iterable<B> | PromiseLike<B> | AsyncIterable<B>;

export interface MergeMapOptions extends OperatorOptions {
  /** How many asynchronous inners run at once (per key in a keyed section); default unlimited.
   * Further values wait, in arrival order. */
  readonly concurrency?: number;
}

/** One instance's inners (one per key in a keyed section). */
interface Slot {
  active: number;
  readonly waiting: Fifo;
}

class MergeMapOp<A, B> extends OperatorBase {
  readonly #f: (v: A) => Inner<B>;
  readonly #concurrency: number;
  readonly #slots = new KeyedState<Slot>();
  /** Inners running or waiting, over every key: the output ends when none is left. */
  #pending = 0;
  #sourceDone = false;
  /** Keys whose instance failed: their inners are abandoned. */
  readonly #failed = new Set<Key>();
  /** Async iterators running, closed when the run stops. */
  readonly #iterators = new Set<AsyncIterator<unknown>>();
  #stopHook = false;

  constructor(ctx: InstanceContext, f: (v: A) => Inner<B>, concurrency: number) {
    super(ctx);
    this.#f = f;
    this.#concurrency = concurrency;
  }

  #alive(key: Key): boolean {
    return !this.done && !this.rt.stopped && !this.#failed.has(key);
  }

  #slot(key: Key): Slot {
    let s = this.#slots.get(key);
    if (s === undefined) {
      s = { active: 0, waiting: new Fifo() };
      this.#slots.set(key, s);
    }
    return s;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    const slot = this.#slot(key);
    if (slot.active >= this.#concurrency) {
      slot.waiting.push(v);
      this.#pending++;
      return;
    }
    this.#start(v, at, key, slot);
  }

  #start(v: unknown, at: Label, key: Key, slot: Slot): void {
    let inner: unknown;
    try {
      inner = this.#f(v as A);
    } catch (e) {
      this.#fail(e, at, key);
      return;
    }
    if (isThenable(inner)) {
      this.#began(slot);
      inner.then(
        (x) => {
          if (this.#alive(key)) this.down.next(immutable(x), at, key);
          this.#ended(at, key, slot);
        },
        (e: unknown) => {
          if (this.#alive(key)) this.#fail(e, at, key);
          this.#ended(at, key, slot);
        },
      );
    } else if (isAsyncIterable(inner)) {
      this.#began(slot);
      void this.#drain(inner, at, key, slot);
    } else if (isIterable(inner)) {
      try {
        for (const x of inner) {
          if (!this.#alive(key)) break;
          this.down.next(immutable(x), at, key);
        }
      } catch (e) {
        if (this.#alive(key)) this.#fail(e, at, key);
      }
    } else {
      this.#fail(
        new ConfigError(
          'mergeMap: the function must return an array, an iterable, a promise or an async iterable',
        ),
        at,
        key,
      );
    }
  }

  async #drain(inner: AsyncIterable<unknown>, at: Label, key: Key, slot: Slot): Promise<void> {
    let it: AsyncIterator<unknown> | undefined;
    try {
      it = inner[Symbol.asyncIterator]();
      this.#track(it);
      for (;;) {
        const r = await it.next();
        if (r.done === true || !this.#alive(key)) break;
        this.down.next(immutable(r.value), at, key);
        const d = this.rt.drained();
        if (d !== undefined) await d;
      }
    } catch (e) {
      if (this.#alive(key)) this.#fail(e, at, key);
    }
    if (it !== undefined) {
      this.#iterators.delete(it);
      if (!this.#alive(key)) await close(it);
    }
    this.#ended(at, key, slot);
  }

  /** When the run stops, close every running async iterator (abandon the inners). */
  #track(it: AsyncIterator<unknown>): void {
    this.#iterators.add(it);
    if (this.#stopHook) return;
    this.#stopHook = true;
    void this.rt.whenStopped().then(() => {
      const its = [...this.#iterators];
      this.#iterators.clear();
      return Promise.all(its.map(close));
    });
  }

  #began(slot: Slot): void {
    slot.active++;
    this.#pending++;
  }

  /** An asynchronous inner ended: start the values waiting for a place, or end the output. */
  #ended(at: Label, key: Key, slot: Slot): void {
    slot.active--;
    this.#pending--;
    while (this.#alive(key) && slot.active < this.#concurrency && slot.waiting.size > 0) {
      const v = slot.waiting.take();
      this.#pending--;
      this.#start(v, at, key, slot);
    }
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#sourceDone && this.#pending === 0 && !this.done && !this.rt.stopped) {
      this.done = true;
      this.down.complete(this.label);
    }
  }

  #fail(e: unknown, at: Label, key: Key): void {
    if (key !== NO_KEY) {
      this.#failed.add(key);
      const slot = this.#slots.get(key);
      if (slot !== undefined) this.#pending -= slot.waiting.clear();
    }
    this.failed(e, at, key);
    this.#maybeEnd();
  }

  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    if (key !== NO_KEY) {
      this.#failed.add(key);
      const slot = this.#slots.get(key);
      if (slot !== undefined) this.#pending -= slot.waiting.clear();
    }
    super.error(err, at, key);
  }

  override complete(l: Label): void {
    if (this.done) return;
    if (this.admit(l, NO_KEY) === undefined) return;
    this.#sourceDone = true;
    this.#maybeEnd();
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'string') &&
    x !== null &&
    typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

async function close(it: AsyncIterator<unknown>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    /* an inner that fails to close is abandoned all the same */
  }
}

/**
 * Map each value to an inner (an array or iterable, emitted at once; a promise; or an async
 * iterable) and emit the inners' values as they come (RxJS `mergeMap`). Inners run in this
 * operator's instance (per key in a keyed section) and their values carry its label. The output
 * completes when the source has completed and every inner has ended; an error of the source,
 * the function or an inner ends the output (in a keyed section: that key; its other inners are
 * abandoned). When the run stops, running inners are abandoned and async iterators closed.
 *
 * In a keyed section, the time the whole output completes depends on every key's inners: a
 * per-key sink learns when the slowest key's last inner ended (not what it produced).
 */
export function mergeMap<A, B>(
  f: (value: A) => Inner<B>,
  options?: MergeMapOptions,
): OperatorFunction<A, B> {
  const g = fn<(v: A) => Inner<B>>(f, 'mergeMap: the function');
  const o = options as Partial<MergeMapOptions> | null | undefined;
  if (o !== undefined && (typeof o !== 'object' || o === null)) {
    throw new ConfigError('mergeMap: options must be an object');
  }
  const c = o?.concurrency ?? Infinity;
  if (typeof c !== 'number' || !(c === Infinity || (Number.isSafeInteger(c) && c >= 1))) {
    throw new ConfigError('mergeMap: concurrency must be an integer ≥ 1 (or Infinity)');
  }
  const opts: OperatorOptions = {
    ...(o?.label === undefined ? {} : { label: o.label }),
    ...(o?.name === undefined ? {} : { name: o.name }),
  };
  return (source) => unary('mergeMap', source, opts, (ctx) => new MergeMapOp<A, B>(ctx, g, c));
}

/** Alias of `mergeMap`. */
export const flatMap = mergeMap;
