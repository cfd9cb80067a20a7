import { ConfigError } from '../../errors.js';
import type { Run } from '../pipeline.js';
import type { Stream } from '../stream.js';
import {
  prepareOutput,
  type OutputHandlers,
  type OutputItem,
  type OutputOptions,
} from './output.js';

export interface AsyncIterableOptions extends OutputOptions {
  /** Items queued before the run's sources are made to wait for the consumer (default 1024). */
  readonly highWater?: number;
}

class OutputIterator<T> implements AsyncIterator<OutputItem<T>> {
  readonly #start: (h: OutputHandlers<T>) => Run;
  readonly #highWater: number;
  #run: Run | undefined;
  #items: OutputItem<T>[] = [];
  #head = 0;
  #ended = false;
  #failed: { readonly err: unknown } | undefined;
  #waiter:
    | { resolve: (r: IteratorResult<OutputItem<T>>) => void; reject: (e: unknown) => void }
    | undefined;
  #flow: { busy(): void; idle(): void } | undefined;
  #busy = false;

  constructor(start: (h: OutputHandlers<T>) => Run, highWater: number) {
    this.#start = start;
    this.#highWater = highWater;
  }

  next(): Promise<IteratorResult<OutputItem<T>>> {
    // The run starts on the first pull.
    if (this.#run === undefined && !this.#ended) {
      this.#run = this.#start({
        next: (item) => {
          this.#push(item);
        },
        error: (err) => {
          this.#error(err);
        },
        end: () => {
          this.#end();
        },
        attach: (flow) => (this.#flow = flow),
      });
    }
    if (this.#head < this.#items.length) return Promise.resolve(this.#take());
    if (this.#failed !== undefined) {
      const { err } = this.#failed;
      this.#failed = undefined;
      return Promise.reject(err instanceof Error ? err : new Error('the pipeline failed'));
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** `break` out of `for await`: the run is stopped. */
  return(): Promise<IteratorResult<OutputItem<T>>> {
    this.#ended = true;
    this.#items = [];
    this.#head = 0;
    this.#failed = undefined;
    this.#run?.stop();
    return Promise.resolve({ done: true, value: undefined });
  }

  #take(): IteratorResult<OutputItem<T>> {
    const value = this.#items[this.#head] as OutputItem<T>;
    this.#items[this.#head++] = undefined as never;
    const left = this.#items.length - this.#head;
    if (left === 0) {
      this.#items = [];
      this.#head = 0;
    }
    if (this.#busy && left <= this.#highWater >> 1) {
      this.#busy = false;
      this.#flow?.idle();
    }
    return { done: false, value };
  }

  #push(item: OutputItem<T>): void {
    if (this.#ended) return;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    if (!this.#busy && this.#items.length - this.#head >= this.#highWater) {
      this.#busy = true;
      this.#flow?.busy();
    }
  }

  #error(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const w = this.#waiter;
    if (w === undefined) {
      this.#failed = { err };
      return;
    }
    this.#waiter = undefined;
    w.reject(err instanceof Error ? err : new Error('the pipeline failed'));
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve({ done: true, value: undefined });
  }
}

/**
 * A pipeline's output as an AsyncIterable of `{ value, label, key? }` items, for `for await`.
 * Only items whose label flows to `options.clearance` (default public) are yielded; the rest is
 * nothing, as at any sink. The stream is checked now (a flow violation throws here); each
 * iteration runs the stream's graph in its own run, which starts on the first `next()` and is
 * stopped by `break` (`return()`). A slow consumer slows the sources: after `highWater` queued
 * items they wait. An error that ends the stream (and may reach the clearance) is thrown by
 * `next()`; the run's full report goes to `options.onReport`.
 */
export function toAsyncIterable<T>(
  stream: Stream<T>,
  options: AsyncIterableOptions = {},
): AsyncIterable<OutputItem<T>> {
  const o = options as Partial<AsyncIterableOptions> | null;
  if (typeof o !== 'object' || o === null) {
    throw new ConfigError('toAsyncIterable: options must be an object');
  }
  const highWater = o.highWater ?? 1024;
  if (!Number.isInteger(highWater) || highWater < 1) {
    throw new ConfigError('toAsyncIterable: highWater must be a positive integer');
  }
  const start = prepareOutput('toAsyncIterable', stream, options);
  return {
    [Symbol.asyncIterator]: () => new OutputIterator<T>(start, highWater),
  };
}
