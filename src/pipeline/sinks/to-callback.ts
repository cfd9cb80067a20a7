import { ConfigError } from '../../errors.js';
import type { InstanceContext } from '../node.js';
import { SinkBase, sinkNode, type SinkDef, type SinkInfo, type SinkOptions } from '../sink.js';

export interface CallbackSinkOptions extends SinkOptions {
  /** Told of errors the sink may see (an error carries the label of the context that threw). */
  readonly onError?: (error: unknown, info: SinkInfo) => void;
  /** Told when the stream ends, if the end may reach the sink. */
  readonly onComplete?: () => void;
}

class CallbackSink<T> extends SinkBase {
  readonly #f: (v: T, info: SinkInfo) => void;
  readonly #onError: ((e: unknown, info: SinkInfo) => void) | undefined;
  readonly #onComplete: (() => void) | undefined;

  constructor(ctx: InstanceContext, f: (v: T, info: SinkInfo) => void, o: CallbackSinkOptions) {
    super(ctx);
    this.#f = f;
    this.#onError = o.onError;
    this.#onComplete = o.onComplete;
  }

  protected write(v: unknown, info: SinkInfo): void {
    this.#f(v as T, info);
  }

  protected override writeError(err: unknown, info: SinkInfo): void {
    this.#onError?.(err, info);
  }

  protected override onComplete(): void {
    this.#onComplete?.();
  }
}

/** Call `f` with each value that may reach the clearance `options.label`. */
export function toCallback<T>(
  f: (value: T, info: SinkInfo) => void,
  options: CallbackSinkOptions = {},
): SinkDef<T> {
  if (typeof f !== 'function') throw new ConfigError('toCallback: f must be a function');
  return sinkNode<T>('toCallback', options, (ctx) => new CallbackSink<T>(ctx, f, options));
}
