import { ConfigError } from '../errors.js';
import { Label } from '../labels.js';
import { KeyFamily } from './key-family.js';
import { LabelBound } from './label-bound.js';
import type { InstanceContext, Node } from './node.js';
import { OperatorBase } from './operator-base.js';
import { NO_KEY, type Key } from './receiver.js';
import { asStream, opInit, type Stream } from './stream.js';

export interface SinkOptions {
  /** The sink's clearance: only data whose label flows to it arrives (default public). */
  readonly label?: Label;
  /** Per-key sink: key k's data is cleared at `label` ⊔ the key's tags in these families. */
  readonly perKey?: KeyFamily | readonly KeyFamily[];
  readonly name?: string;
}

/** What a sink's writer is told about each value it may see. */
export interface SinkInfo {
  readonly label: Label;
  /** The key, in a per-key sink. */
  readonly key?: string | number;
}

/** A sink: how a pipeline's output reaches the world. `Pipeline.output(stream, sink)`. */
export type SinkDef<T> = (source: Stream<T>) => Node;

/**
 * The boundary between a pipeline and the world (DESIGN.md §1 "Output"): the runtime monitor
 * admits a notification only if its label (payload ⊔ presence) flows to the sink's clearance,
 * and a refused one looks exactly like nothing to send. Subclasses write what is admitted.
 */
export abstract class SinkBase extends OperatorBase {
  #ended = false;

  constructor(ctx: InstanceContext) {
    super(ctx);
    ctx.rt.sinkOpened();
  }

  protected abstract write(value: unknown, info: SinkInfo): void;
  protected writeError(_err: unknown, _info: SinkInfo): void {
    /* default: the host learns of errors from the run's report */
  }
  /** Finish writing (flush a file), then call `ended()`. */
  protected close(): void {
    this.ended();
  }

  protected ended(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.rt.sinkEnded();
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(l, key);
    if (at === undefined) return;
    try {
      this.write(v, key === NO_KEY ? { label: at } : { label: at, key });
    } catch (e) {
      this.rt.audit.record({ kind: 'sink-error', unit: this.node.name, op: 'sink write threw' });
      this.rt.fail(this.node, e, at, NO_KEY);
      this.done = true;
      this.close();
    }
  }

  override error(err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (key === NO_KEY) this.done = true;
    if (at !== undefined) {
      this.#guard('sink error handler threw', at, () => {
        this.writeError(err, key === NO_KEY ? { label: at } : { label: at, key });
      });
    }
    if (key === NO_KEY) this.close();
  }

  /** The world's handlers must not unwind into the pipeline (and stop a fan-out loop). */
  #guard(what: string, at: Label, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.rt.audit.record({ kind: 'sink-error', unit: this.node.name, op: what });
      this.rt.fail(this.node, e, at, NO_KEY);
    }
  }

  override complete(l: Label): void {
    if (this.done) return;
    this.done = true;
    // A refused end is not told to the sink; the run still knows the sink is finished.
    const at = this.admit(l, NO_KEY);
    if (at !== undefined) {
      this.#guard('sink completion handler threw', at, () => {
        this.onComplete();
      });
    }
    this.close();
  }

  protected onComplete(): void {
    /* default: nothing */
  }
}

/** Make a sink node with clearance from `options`, instances made by `make`; `extra.publishes`
 * names the engine topic it publishes to (the check finds cycles through it). */
export function sinkNode<T>(
  kind: string,
  options: SinkOptions | undefined,
  make: (ctx: InstanceContext) => SinkBase,
  extra: { readonly publishes?: string } = {},
): SinkDef<T> {
  const o = (options ?? {}) as Partial<SinkOptions>;
  if (typeof o !== 'object') throw new ConfigError(`${kind}: options must be an object`);
  const label = o.label ?? Label.public;
  if (!Label.isLabel(label)) throw new ConfigError(`${kind}: label must be a Label`);
  const given: unknown = o.perKey ?? [];
  const fams: unknown[] = Array.isArray(given) ? [...(given as unknown[])] : [given];
  if (!fams.every((f): f is KeyFamily => KeyFamily.isKeyFamily(f))) {
    throw new ConfigError(`${kind}: perKey must be a KeyFamily or an array of them`);
  }
  const clearance = new LabelBound(label, fams);
  return (source) =>
    opInit(
      kind,
      { ...(o.name === undefined ? {} : { name: o.name }) },
      {
        inputs: [
          { node: asStream(source, `${kind}: the source`).node, role: 'source', control: false },
        ],
        clearance,
        ...extra,
        make: (ctx) => [make(ctx)],
      },
    );
}
