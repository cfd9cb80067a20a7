import { ConfigError } from '../../errors.js';
import { source, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';

/** What `fromObservable` needs of an observable: RxJS's `subscribe` shape (no import of rxjs). */
export interface ObservableLike<T> {
  subscribe(observer: {
    next: (v: T) => void;
    error: (e: unknown) => void;
    complete: () => void;
  }): { unsubscribe(): void };
}

/** A stream of an RxJS Observable's (or any observable's) values. */
export function fromObservable<T>(obs: ObservableLike<T>, options?: SourceOptions<T>): Stream<T> {
  if (typeof (obs as Partial<ObservableLike<T>> | null)?.subscribe !== 'function') {
    throw new ConfigError('fromObservable: not an observable (no subscribe method)');
  }
  return source<T>(
    'fromObservable',
    options,
    (e) =>
      new Promise<void>((resolve, reject) => {
        const state: { sub?: { unsubscribe(): void }; finished: boolean } = { finished: false };
        const finish = () => {
          state.finished = true;
          state.sub?.unsubscribe();
        };
        void e.ctx.rt.whenStopped().then(() => {
          finish();
          resolve();
        });
        const sub = obs.subscribe({
          next: (v) => {
            if (!state.finished) e.emit(v);
          },
          error: (err) => {
            finish();
            reject(err instanceof Error ? err : new Error('observable error'));
          },
          complete: () => {
            finish();
            resolve();
          },
        });
        state.sub = sub;
        if (state.finished) sub.unsubscribe();
      }),
  );
}
