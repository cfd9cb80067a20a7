import { ConfigError } from '../../errors.js';
import { CHUNK, source, type Emitter, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';

const ARRAY_ITERATOR: unknown = Array.prototype[Symbol.iterator];

/** Push a[i], …, a[end - 1]. A plain function of its arguments, not a closure: V8 compiles it
 * once for every source (code compiled on stack replacement inside a source's closure is
 * specialised to that closure's variables and is thrown away when a run ends). */
function pushChunk<T>(e: Emitter<T>, a: readonly T[], i: number, end: number): void {
  for (; i < end; i++) e.emit(a[i] as T);
}

/** Between chunks: false once the run is stopped (checked again after waiting for a sink). */
async function between<T>(e: Emitter<T>): Promise<boolean> {
  if (e.stopped) return false;
  await e.pause();
  return !e.stopped;
}

/** A stream of the values of an array or any iterable, pushed synchronously in chunks (between
 * chunks the source stops if the run was stopped, and waits while a sink is full). */
export function from<T>(values: Iterable<T>, options?: SourceOptions<T>): Stream<T> {
  if (typeof (values as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
    throw new ConfigError('from: values must be an array or an iterable');
  }
  if (Array.isArray(values) && values[Symbol.iterator] === ARRAY_ITERATOR) {
    const a = values as readonly T[];
    // An array by index: what its iterator does (reading the length each time), without the
    // iterator. The hot loop of `from`.
    return source<T>(
      'from',
      options,
      async (e) => {
        let i = 0;
        while (i < a.length) {
          const end = Math.min(i + CHUNK, a.length);
          pushChunk(e, a, i, end);
          i = end;
          if (i < a.length && !(await between(e))) return;
        }
      },
      true,
    );
  }
  return source<T>(
    'from',
    options,
    async (e) => {
      let n = 0;
      for (const v of values) {
        e.emit(v);
        if (++n === CHUNK) {
          n = 0;
          if (!(await between(e))) return;
        }
      }
    },
    true,
  );
}
