import type { InstanceContext } from '../node.js';
import { SinkBase, sinkNode, type SinkDef, type SinkInfo, type SinkOptions } from '../sink.js';

export interface ConsoleSinkOptions<T> extends SinkOptions {
  /** How a value is printed (default: JSON, prefixed by the key in a per-key sink). */
  readonly format?: (value: T, info: SinkInfo) => string;
  /** Where lines go (default process.stdout). */
  readonly out?: { write(s: string): unknown };
}

class ConsoleSink<T> extends SinkBase {
  readonly #format: (v: T, info: SinkInfo) => string;
  readonly #out: { write(s: string): unknown };

  constructor(ctx: InstanceContext, o: ConsoleSinkOptions<T>) {
    super(ctx);
    this.#format =
      o.format ??
      ((v, info) =>
        `${info.key === undefined ? '' : `[${String(info.key)}] `}${JSON.stringify(v)}`);
    this.#out = o.out ?? process.stdout;
  }

  protected write(v: unknown, info: SinkInfo): void {
    this.#out.write(`${this.#format(v as T, info)}\n`);
  }
}

/** Print each value that may reach the clearance `options.label` (default public) as a line. */
export function toConsole<T>(options: ConsoleSinkOptions<T> = {}): SinkDef<T> {
  return sinkNode<T>('toConsole', options, (ctx) => new ConsoleSink<T>(ctx, options));
}
