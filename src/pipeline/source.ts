import { ConfigError } from '../errors.js';
import { Label } from '../labels.js';
import { immutable } from './immutable.js';
import type { InstanceContext } from './node.js';
import { NO_KEY, type Receiver } from './receiver.js';
import type { SourceCursor } from './state/checkpointer.js';
import { opInit, Stream } from './stream.js';

export interface SourceOptions<T> {
  /** The label of the source's data (default public); with `labelOf`, an upper bound. */
  readonly label?: Label;
  /** A label per value (e.g. per tenant), each checked ⊑ `label` by the runtime monitor. */
  readonly labelOf?: (value: T) => Label;
  readonly name?: string;
}

/** Values pushed synchronously before a source checks for stop and backpressure. */
export const CHUNK = 65536;

/**
 * What a source pushes through: freezes values, applies and checks per-value labels (a value
 * whose label is not ⊑ the source's label is refused and audited), and ends the stream.
 */
export class Emitter<T> {
  readonly ctx: InstanceContext;
  readonly #labelOf: ((v: T) => Label) | undefined;
  readonly #down: Receiver;
  readonly #label: Label;
  /** Set when the pipeline keeps its state: counts, and skips what was processed before. */
  readonly #cursor: SourceCursor | undefined;
  #ended = false;

  constructor(ctx: InstanceContext, labelOf: ((v: T) => Label) | undefined) {
    this.ctx = ctx;
    this.#labelOf = labelOf;
    this.#down = ctx.down;
    this.#label = ctx.label;
    this.#cursor = ctx.rt.state?.cursor(ctx.node);
  }

  get stopped(): boolean {
    return this.#ended || this.ctx.rt.stopped;
  }

  emit(v: T): void {
    if (this.#ended) return;
    if (this.#cursor === undefined) this.#emitNow(v);
    else this.#emitKept(v, this.#cursor);
  }

  #emitKept(v: T, c: SourceCursor): void {
    if (c.skip > 0) {
      // Processed before the restart: its effect is in the restored state.
      c.skip--;
      c.pos++;
      return;
    }
    this.#emitNow(v);
    c.pos++;
    c.cp.tick();
  }

  #emitNow(v: T): void {
    if (this.#labelOf === undefined) this.#down.next(v, this.#label, NO_KEY);
    // Values at their own labels: each crosses a label boundary into the next operator.
    else this.#emitLabelled(immutable(v), this.#labelOf);
  }

  /** A value with a label of its own: checked ⊑ the source's label. Kept out of `emit` so the
   * common path stays small enough to inline. */
  #emitLabelled(value: T, labelOf: (v: T) => Label): void {
    const { label, down, rt, node } = this.ctx;
    let l: Label;
    try {
      l = labelOf(value);
      if (!Label.isLabel(l)) throw new ConfigError(`${node.name}: labelOf must return a Label`);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (l !== label && rt.checks && !l.flowsTo(label)) {
      rt.refuse(node, l, label, 'value');
      return;
    }
    down.next(value, l, NO_KEY);
  }

  fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.ctx.rt.fail(this.ctx.node, err, this.ctx.label, NO_KEY);
    this.ctx.down.error(err, this.ctx.label, NO_KEY);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cursor?.cp.ended();
    this.ctx.down.complete(this.ctx.label);
  }

  /** Between chunks: wait while a sink is full. */
  async pause(): Promise<void> {
    const d = this.ctx.rt.drained();
    if (d !== undefined) await d;
  }
}

/** Make a source node whose `run(emitter)` pushes its values; errors end the stream.
 * `resumable`: run again, it emits the same values in the same order (see NodeInit). */
export function source<T>(
  kind: string,
  options: SourceOptions<T> | undefined,
  run: (e: Emitter<T>) => Promise<void> | void,
  resumable = false,
): Stream<T> {
  const o = (options ?? {}) as Partial<SourceOptions<T>>;
  if (typeof o !== 'object') throw new ConfigError(`${kind}: options must be an object`);
  if (o.labelOf !== undefined && typeof o.labelOf !== 'function') {
    throw new ConfigError(`${kind}: labelOf must be a function`);
  }
  const labelOf = o.labelOf;
  return new Stream<T>(
    opInit(kind, o, {
      inputs: [],
      resumable,
      start: async (ctx) => {
        const e = new Emitter<T>(ctx, labelOf);
        try {
          await run(e);
          e.end();
        } catch (err) {
          e.fail(err);
        }
      },
    }),
  );
}
