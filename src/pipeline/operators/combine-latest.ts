import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { nary, NaryOperator } from '../nary.js';
import type { Key } from '../receiver.js';
import type { OperatorFunction, OperatorOptions } from '../stream.js';
import { requireUnkeyed, splitStreams } from './inputs.js';
import type { StreamsOf } from './zip.js';

class CombineLatestOp extends NaryOperator {
  readonly #latest: unknown[];
  readonly #has: boolean[];
  #missing: number;
  #open: number;

  constructor(ctx: InstanceContext, n: number) {
    super(ctx);
    this.#latest = new Array<unknown>(n).fill(undefined);
    this.#has = new Array<boolean>(n).fill(false);
    this.#missing = n;
    this.#open = n;
  }

  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    this.#latest[port] = v;
    if (this.#has[port] !== true) {
      this.#has[port] = true;
      this.#missing--;
    }
    if (this.#missing === 0) this.down.next(Object.freeze([...this.#latest]), at, key);
  }

  completeAt(port: number): void {
    // An input that ends without a value means no combination can ever be emitted.
    if (this.#has[port] !== true || --this.#open === 0) this.finish();
  }
}

/**
 * Once every input has emitted, emit a frozen array of the latest value of each (`[source,
 * ...others]`) whenever any of them emits (RxJS `combineLatestWith`). Completes when every
 * input has completed (or at once if one completes without a value); any error ends it.
 *
 * Every input decides when the output happens, so each is a control input (roles `source`,
 * `partner 1`, …). Keyed inputs are refused with a ConfigError when the pipeline is built.
 */
export function combineLatest<A, O extends readonly unknown[]>(
  ...others: [...StreamsOf<O>]
): OperatorFunction<A, readonly [A, ...O]>;
export function combineLatest<A, O extends readonly unknown[]>(
  ...others: [...StreamsOf<O>, OperatorOptions]
): OperatorFunction<A, readonly [A, ...O]>;
export function combineLatest(...args: unknown[]): OperatorFunction<unknown, readonly unknown[]> {
  const { streams, options } = splitStreams('combineLatest', args);
  return (source) => {
    const inputs = [source, ...streams].map((stream, i) => ({
      stream,
      role: i === 0 ? 'source' : `partner ${String(i)}`,
      control: true,
    }));
    requireUnkeyed('combineLatest', inputs);
    return nary('combineLatest', inputs, options, (ctx) => new CombineLatestOp(ctx, inputs.length));
  };
}
