import { Engine } from '../../engine/engine.js';
import { ConfigError, FlowViolationError } from '../../errors.js';
import type { Label } from '../../labels.js';
import type { KeyFamily } from '../key-family.js';
import type { InstanceContext } from '../node.js';
import { formatViolations, Pipeline, type Run, type RunReport } from '../pipeline.js';
import { SinkBase, sinkNode, type SinkDef, type SinkInfo } from '../sink.js';
import { asStream, type Stream } from '../stream.js';

/** One output value as it leaves a pipeline: the value, the label it was admitted at, and its
 * key in a per-key output. */
export interface OutputItem<T> {
  readonly value: T;
  readonly label: Label;
  readonly key?: string | number;
}

export interface OutputOptions {
  /** What may reach the consumer (default public): only items whose label (payload ⊔
   * presence) flows to it are delivered; the rest is nothing, exactly as at any sink. */
  readonly clearance?: Label;
  /** Per-key output: key k's items are cleared at `clearance` ⊔ the key's tags. */
  readonly perKey?: KeyFamily | readonly KeyFamily[];
  /** The engine whose audit log records the runs (default: a new engine per call). */
  readonly engine?: Engine;
  /** Name of the output (and of the pipelines it runs) in the audit log. */
  readonly name?: string;
  /** Told each run's report when the run ends (failures, refusals, rows skipped by sources). */
  readonly onReport?: (report: RunReport) => void;
}

/** What an output consumer is told. `end` comes once, last (also after `error`). */
export interface OutputHandlers<T> {
  next(item: OutputItem<T>): void;
  error(err: unknown): void;
  end(): void;
  /** Flow control: `busy()` makes the run's sources wait, `idle()` lets them go on. */
  attach?(flow: { busy(): void; idle(): void }): void;
}

class HandlerSink<T> extends SinkBase {
  readonly #h: OutputHandlers<T>;

  constructor(ctx: InstanceContext, h: OutputHandlers<T>) {
    super(ctx);
    this.#h = h;
    const rt = this.rt;
    h.attach?.({
      busy: () => {
        rt.busy();
      },
      idle: () => {
        rt.idle();
      },
    });
  }

  protected write(value: unknown, info: SinkInfo): void {
    this.#h.next(
      info.key === undefined
        ? { value: value as T, label: info.label }
        : { value: value as T, label: info.label, key: info.key },
    );
  }

  /** An error that ends the stream reaches the consumer; one key's error is in the report. */
  protected override writeError(err: unknown, info: SinkInfo): void {
    if (info.key === undefined) this.#h.error(err);
  }

  protected override close(): void {
    this.#h.end();
    this.ended();
  }
}

/**
 * Check `stream` against the output's clearance now (a violation throws FlowViolationError at
 * build time) and return how to start one run of it: each call builds a pipeline with one sink
 * that calls `handlers`, and starts it. Outputs are cold, like RxJS observables: every
 * consumer gets its own run of the stream's sources.
 */
export function prepareOutput<T>(
  kind: string,
  stream: Stream<T>,
  options: OutputOptions,
): (handlers: OutputHandlers<T>) => Run {
  asStream(stream, `${kind}: the first argument`);
  const o = options as Partial<OutputOptions> | null;
  if (typeof o !== 'object' || o === null)
    throw new ConfigError(`${kind}: options must be an object`);
  if (o.engine !== undefined && !(o.engine instanceof Engine)) {
    throw new ConfigError(`${kind}: engine must be an Engine`);
  }
  if (o.onReport !== undefined && typeof o.onReport !== 'function') {
    throw new ConfigError(`${kind}: onReport must be a function`);
  }
  const sinkOptions = {
    ...(o.clearance === undefined ? {} : { label: o.clearance }),
    ...(o.perKey === undefined ? {} : { perKey: o.perKey }),
    ...(o.name === undefined ? {} : { name: o.name }),
  };
  let handlers: OutputHandlers<T> | undefined;
  const sink: SinkDef<T> = sinkNode<T>(
    kind,
    sinkOptions,
    (ctx) => new HandlerSink<T>(ctx, handlers as OutputHandlers<T>),
  );
  const engine = o.engine ?? new Engine();
  const pipeline = () => new Pipeline({ engine, name: o.name ?? kind }).output(stream, sink);
  const report = pipeline().check();
  if (!report.ok) throw new FlowViolationError(formatViolations(report));
  const onReport = o.onReport;
  return (h) => {
    handlers = h;
    const run = pipeline().start();
    handlers = undefined;
    if (onReport !== undefined) void run.done.then(onReport);
    return run;
  };
}
