import type { Label, PartValue } from '../labels.js';

/** What a sink receives: only parts whose label flows to the sink's label. */
export interface SinkRecord {
  readonly parts: readonly {
    readonly name: string;
    readonly label: Label;
    readonly value: PartValue;
  }[];
}

let write: (s: Sink, record: SinkRecord) => void;

/**
 * A boundary to the world (console, file, socket, metric) with a label: data reaches it only if
 * it may flow there. Created by the host with `engine.sink(...)`; units hold it only to name it
 * in `ctx.output` (it has no public way to write).
 */
export class Sink {
  readonly #write: (record: SinkRecord) => void;
  readonly #name: string;
  readonly #label: Label;

  constructor(name: string, label: Label, writer: (record: SinkRecord) => void) {
    this.#name = name;
    this.#label = label;
    this.#write = writer;
  }

  static {
    write = (s, record) => {
      s.#write(record);
    };
  }

  get name(): string {
    return this.#name;
  }

  get label(): Label {
    return this.#label;
  }
}

/** Engine-internal: hand a checked record to the world. */
export function deliverToSink(s: Sink, record: SinkRecord): void {
  write(s, record);
}

Object.freeze(Sink.prototype);
Object.freeze(Sink);
