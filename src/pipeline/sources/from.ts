import { ConfigError } from '../../errors.js';
import { CHUNK, source, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';

/** A stream of the values of an array or any iterable, pushed synchronously in chunks (between
 * chunks the source stops if the run was stopped, and waits while a sink is full). */
export function from<T>(values: Iterable<T>, options?: SourceOptions<T>): Stream<T> {
  if (typeof (values as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
    throw new ConfigError('from: values must be an array or an iterable');
  }
  return source<T>('from', options, async (e) => {
    let n = 0;
    for (const v of values) {
      e.emit(v);
      if (++n === CHUNK) {
        n = 0;
        if (e.stopped) return;
        await e.pause();
      }
    }
  });
}
