import type { Label } from '../labels.js';
import type { InstanceContext } from './node.js';
import { OperatorBase } from './operator-base.js';
import { NO_KEY, type Key, type Receiver } from './receiver.js';
import { asStream, opInit, Stream, type OperatorOptions } from './stream.js';

/**
 * An operator with several inputs (merge, zip, combineLatest, join, takeUntil, sample, …). Its
 * fixed label is ⊒ every input, data and control alike, so whatever one input does to the
 * output's timing, order or end is carried by the output's label.
 */
export abstract class NaryOperator extends OperatorBase {
  abstract nextAt(port: number, v: unknown, at: Label, key: Key): void;
  /** Default: any input's error ends the output. */
  errorAt(_port: number, err: unknown, at: Label, key: Key): void {
    super.error(err, at, key);
  }
  abstract completeAt(port: number): void;

  /** Called by the ports only. */
  next(): void {
    throw new Error('an n-ary operator receives through its ports');
  }

  portNext(port: number, v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at !== undefined) this.nextAt(port, v, at, key);
  }

  portError(port: number, err: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at !== undefined) this.errorAt(port, err, at, key);
  }

  portComplete(port: number, l: Label): void {
    if (this.done) return;
    if (this.admit(l, NO_KEY) !== undefined) this.completeAt(port);
  }

  /** End the output (at the operator's label). */
  protected finish(): void {
    if (this.done) return;
    this.done = true;
    this.down.complete(this.label);
  }
}

class Port implements Receiver {
  readonly #op: NaryOperator;
  readonly #i: number;

  constructor(op: NaryOperator, i: number) {
    this.#op = op;
    this.#i = i;
  }

  next(v: unknown, l: Label, key: Key): void {
    this.#op.portNext(this.#i, v, l, key);
  }

  error(err: unknown, l: Label, key: Key): void {
    this.#op.portError(this.#i, err, l, key);
  }

  complete(l: Label): void {
    this.#op.portComplete(this.#i, l);
  }
}

export interface NaryInput {
  readonly stream: Stream<unknown>;
  readonly role: string;
  /** A control input decides when or whether the output happens (a notifier, a partner). */
  readonly control: boolean;
}

export function nary<B>(
  kind: string,
  inputs: readonly NaryInput[],
  options: OperatorOptions | undefined,
  make: (ctx: InstanceContext) => NaryOperator,
): Stream<B> {
  return new Stream<B>(
    opInit(kind, options, {
      inputs: inputs.map((i) => ({
        node: asStream(i.stream, `${kind}: ${i.role}`).node,
        role: i.role,
        control: i.control,
      })),
      make: (ctx) => {
        const op = make(ctx);
        return inputs.map((_, i) => new Port(op, i));
      },
    }),
  );
}
