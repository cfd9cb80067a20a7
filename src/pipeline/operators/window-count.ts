import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { KeyedState } from '../keyed-state.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import type { OperatorFunction, OperatorOptions } from '../stream.js';
import { unary } from '../unary.js';

interface Windows {
  /** Values seen so far (by this key's instance). */
  seen: number;
  /** Open windows, oldest first. */
  readonly open: unknown[][];
}

/** Stored windows, checked; the restored (frozen) arrays are copied, as windows still fill. */
function windowsOf(v: unknown): Windows {
  const w = v as Partial<Windows> | null;
  if (
    typeof w !== 'object' ||
    w === null ||
    !Number.isSafeInteger(w.seen) ||
    (w.seen as number) < 0 ||
    !Array.isArray(w.open) ||
    !w.open.every((b) => Array.isArray(b))
  ) {
    throw new ConfigError('windowCount: stored windows have the wrong shape');
  }
  return { seen: w.seen as number, open: w.open.map((b: unknown[]) => [...b]) };
}

class WindowCountOp extends OperatorBase {
  readonly #size: number;
  readonly #slide: number;
  readonly #state = new KeyedState<Windows>();
  /** Set when the pipeline keeps its state in a store. */
  readonly #kept = this.keep({
    save: (key) => {
      const w = this.#state.get(key);
      return w === undefined ? undefined : { value: w };
    },
    load: (key, value) => {
      this.#state.set(key, windowsOf(value));
    },
    fail: (key, err) => {
      this.#state.delete(key);
      this.failed(err, key === NO_KEY ? this.label : this.labels.of(key), key);
    },
  });

  constructor(ctx: InstanceContext, size: number, slide: number) {
    super(ctx);
    this.#size = size;
    this.#slide = slide;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    let w = this.#state.get(key);
    if (w === undefined) {
      w = { seen: 0, open: [] };
      this.#state.set(key, w);
    }
    if (w.seen++ % this.#slide === 0) w.open.push([]);
    for (const b of w.open) b.push(v);
    const first = w.open[0];
    if (first !== undefined && first.length === this.#size) {
      w.open.shift();
      this.down.next(Object.freeze(first), at, key);
    }
    this.#kept?.touch(key);
  }

  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    // That key's instance ends (kept as failed): its open windows are dropped with it.
    if (key !== NO_KEY) this.#state.delete(key);
    super.error(err, at, key);
  }

  override complete(l: Label): void {
    if (this.done) return;
    if (this.admit(l, NO_KEY) === undefined) return;
    for (const k of this.#state.keys()) {
      const at = this.labels.of(k);
      for (const b of (this.#state.get(k) as Windows).open) this.down.next(Object.freeze(b), at, k);
    }
    this.done = true;
    this.down.complete(this.label);
  }
}

function positiveInt(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`windowCount: ${what} must be an integer ≥ 1`);
  }
  return n;
}

/**
 * Count windows (RxJS `bufferCount`): a window opens every `slide` values and holds `size`
 * values; each is emitted as a frozen array when full, and the windows still open are emitted,
 * oldest first, when the source completes. `slide = size` (the default) gives tumbling
 * windows, `slide < size` sliding ones, `slide > size` skips values between windows. In a keyed
 * section each key counts its own values and its windows carry its key's label; on completion
 * the keys are flushed in key order.
 */
export function windowCount<A>(
  size: number,
  slide: number = size,
  options?: OperatorOptions,
): OperatorFunction<A, readonly A[]> {
  const n = positiveInt(size, 'size');
  const s = positiveInt(slide, 'slide');
  return (source) => unary('windowCount', source, options, (ctx) => new WindowCountOp(ctx, n, s));
}
