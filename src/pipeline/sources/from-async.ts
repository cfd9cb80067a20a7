import { ConfigError } from '../../errors.js';
import { source, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';

/** A stream of the values of an async iterable (a Node stream, a generator, a paginated API). */
export function fromAsync<T>(values: AsyncIterable<T>, options?: SourceOptions<T>): Stream<T> {
  const it = (values as Partial<AsyncIterable<T>> | null)?.[Symbol.asyncIterator];
  if (typeof it !== 'function')
    throw new ConfigError('fromAsync: values must be an async iterable');
  return source<T>('fromAsync', options, async (e) => {
    for await (const v of values) {
      if (e.stopped) return;
      e.emit(v);
      await e.pause();
    }
  });
}
