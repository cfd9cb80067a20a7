/**
 * `sluice/rxjs`: a pipeline's output as an RxJS Observable. The only module of Sluice that
 * imports `rxjs` (an optional peer dependency): import it only where rxjs is installed.
 */
import { Observable } from 'rxjs';
import { prepareOutput, type OutputItem, type OutputOptions } from './pipeline/interop/output.js';
import type { Stream } from './pipeline/stream.js';

export type { OutputItem, OutputOptions } from './pipeline/interop/output.js';

/**
 * A pipeline's output as a cold RxJS Observable of `{ value, label, key? }` items: each
 * subscription runs the stream's graph in its own run, and unsubscribing stops it. Only items
 * whose label flows to `options.clearance` (default public) are emitted; the rest is nothing,
 * as at any sink. The stream is checked now (a flow violation throws here). An error that ends
 * the stream (and may reach the clearance) is an error notification; the end of the stream
 * completes the observable. Observables are push-based: there is no backpressure.
 */
export function toObservable<T>(
  stream: Stream<T>,
  options: OutputOptions = {},
): Observable<OutputItem<T>> {
  const start = prepareOutput('toObservable', stream, options);
  return new Observable<OutputItem<T>>((subscriber) => {
    const run = start({
      next: (item) => {
        subscriber.next(item);
      },
      error: (err) => {
        subscriber.error(err);
      },
      end: () => {
        subscriber.complete();
      },
    });
    return () => {
      run.stop();
    };
  });
}
