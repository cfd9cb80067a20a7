import { MalformedInputError } from '../errors.js';
import type { Label, PartValue } from '../labels.js';

const SINK_KEY = Symbol('sluice.sink');

/** What a sink receives: only parts whose label flows to the sink's label. */
export interface SinkRecord {
  readonly parts: readonly {
    readonly name: string;
    readonly label: Label;
    readonly value: PartValue;
  }[];
}

let write: (s: Sink, record: SinkRecord) => void;
let isSink: (x: unknown) => x is Sink;

/**
 * A boundary to the world (console, file, socket, metric) with a label: data reaches it only if
 * it may flow there. Created by the host with `engine.sink(...)`; units hold it only to name it
 * in `ctx.output` (it has no public way to write).
 */
export class Sink {
  readonly #write: (record: SinkRecord) => void;
  readonly #name: string;
  readonly #label: Label;

  constructor(key: symbol, name: string, label: Label, writer: (record: SinkRecord) => void) {
    if (key !== SINK_KEY) throw new MalformedInputError('sinks are made by engine.sink()');
    this.#name = name;
    this.#label = label;
    this.#write = writer;
  }

  static {
    write = (s, record) => {
      s.#write(record);
    };
    isSink = (x): x is Sink => typeof x === 'object' && x !== null && #write in x;
  }

  get name(): string {
    return this.#name;
  }

  get label(): Label {
    return this.#label;
  }
}

/** Engine-internal: a genuine sink (units cannot construct one, so it cannot have their writer). */
export function createSink(name: string, label: Label, writer: (record: SinkRecord) => void): Sink {
  return new Sink(SINK_KEY, name, label, writer);
}

/** Engine-internal: brand check (a forged or proxied object fails). */
export function isSinkTCB(x: unknown): x is Sink {
  return isSink(x);
}

/** Engine-internal: hand a checked record to the world. */
export function deliverToSink(s: Sink, record: SinkRecord): void {
  write(s, record);
}

Object.freeze(Sink.prototype);
Object.freeze(Sink);
