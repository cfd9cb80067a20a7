import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { nary, NaryOperator } from '../nary.js';
import type { Key } from '../receiver.js';
import type { OperatorFunction, OperatorOptions, Stream } from '../stream.js';
import { Fifo } from './fifo.js';
import { requireUnkeyed, splitStreams } from './inputs.js';

/** The streams of `others`, one per element type. */
export type StreamsOf<O extends readonly unknown[]> = { [K in keyof O]: Stream<O[K]> };

class ZipOp extends NaryOperator {
  readonly #queues: Fifo[];
  readonly #completed: boolean[];
  /** How many inputs have nothing waiting. */
  #empty: number;

  constructor(ctx: InstanceContext, n: number) {
    super(ctx);
    this.#queues = Array.from({ length: n }, () => new Fifo());
    this.#completed = new Array<boolean>(n).fill(false);
    this.#empty = n;
  }

  nextAt(port: number, v: unknown, at: Label, key: Key): void {
    const q = this.#queues[port] as Fifo;
    if (q.size === 0) this.#empty--;
    q.push(v);
    if (this.#empty > 0) return;
    const qs = this.#queues;
    const out = new Array<unknown>(qs.length);
    let ended = false;
    for (let i = 0; i < qs.length; i++) {
      const qi = qs[i] as Fifo;
      out[i] = qi.take();
      if (qi.size === 0) {
        this.#empty++;
        // An input that has ended and has nothing left can never be paired again.
        if (this.#completed[i] === true) ended = true;
      }
    }
    this.down.next(Object.freeze(out), at, key);
    if (ended) this.finish();
  }

  completeAt(port: number): void {
    this.#completed[port] = true;
    if ((this.#queues[port] as Fifo).size === 0) this.finish();
  }
}

/**
 * Pair the n-th value of the source with the n-th value of each of `others` (RxJS `zipWith`):
 * emits frozen arrays `[source, ...others]`; completes when an input has completed and none of
 * its values wait to be paired; any input's error ends the output.
 *
 * Every input decides when a pair is emitted and when the output ends, so each is a control
 * input (roles `source`, `partner 1`, …): the output's label is the join of all of them.
 * Keyed inputs are refused with a ConfigError when the pipeline is built (pairing across keys
 * would let one key's values decide another's output).
 */
export function zip<A, O extends readonly unknown[]>(
  ...others: [...StreamsOf<O>]
): OperatorFunction<A, readonly [A, ...O]>;
export function zip<A, O extends readonly unknown[]>(
  ...others: [...StreamsOf<O>, OperatorOptions]
): OperatorFunction<A, readonly [A, ...O]>;
export function zip(...args: unknown[]): OperatorFunction<unknown, readonly unknown[]> {
  const { streams, options } = splitStreams('zip', args);
  return (source) => {
    const inputs = [source, ...streams].map((stream, i) => ({
      stream,
      role: i === 0 ? 'source' : `partner ${String(i)}`,
      control: true,
    }));
    requireUnkeyed('zip', inputs);
    return nary('zip', inputs, options, (ctx) => new ZipOp(ctx, inputs.length));
  };
}
