/**
 * The guest's ends of its pipes (tier 1; the host wires them, pipe.ts). Out: the publishes on
 * a piped topic are written, as inbound records, to a batch of their own and sent through the
 * pipe's port when the batch being handled is done (one message per batch, the tape
 * transferred). In: each batch arriving on a pipe's port is handed to the guest loop, which
 * delivers it to the subscriptions the host named.
 *
 * A piped topic carries parts at the unit's label only: a publish on it that asks for other
 * part labels throws (the handler's error, counted), since only the host can check those.
 */
import type { MessagePort } from 'node:worker_threads';
import { BatchWriter, type EncodedBatch } from './batch-codec.js';

interface PipeOut {
  readonly wire: number;
  readonly port: MessagePort;
  readonly writer: BatchWriter;
}

/** What flushing the pipes produced: counts per wire ([wire, n, …]) and batches that failed. */
export interface Flushed {
  readonly fwd: number[] | undefined;
  readonly errors: number;
}

const NOTHING: Flushed = { fwd: undefined, errors: 0 };

export class GuestPipes {
  readonly #out = new Map<string, PipeOut>();
  readonly #in = new Map<number, MessagePort>();

  /** Is any topic piped out? (The publish path's only cost when none is.) */
  get piping(): boolean {
    return this.#out.size > 0;
  }

  open(wire: number, topic: string, port: MessagePort): void {
    this.#out.get(topic)?.port.close();
    this.#out.set(topic, { wire, port, writer: new BatchWriter() });
  }

  /** The pipe's consumer is gone: the topic goes back to the host. */
  close(wire: number): void {
    for (const [topic, p] of this.#out) {
      if (p.wire === wire) {
        p.port.close();
        this.#out.delete(topic);
      }
    }
  }

  /** Deliver each batch arriving on `port` with `handle`. */
  listen(wire: number, port: MessagePort, handle: (batch: unknown) => void): void {
    this.#in.get(wire)?.close();
    this.#in.set(wire, port);
    port.on('message', handle);
  }

  /** Write one publish to the pipe of `topic` (BatchWriter.record); false if the topic is not piped. */
  write(topic: string, parts: Readonly<Record<string, unknown>>, labels: unknown): boolean {
    const p = this.#out.get(topic);
    if (p === undefined) return false;
    if (labels !== undefined) throw new TypeError('a piped topic carries no part labels');
    p.writer.record(0, parts);
    return true;
  }

  /** Send what each pipe holds; a batch that cannot be sent (a value that cannot be cloned) is dropped and counted. */
  flush(): Flushed {
    if (this.#out.size === 0) return NOTHING;
    let fwd: number[] | undefined;
    let errors = 0;
    for (const p of this.#out.values()) {
      if (p.writer.count === 0) continue;
      const b: EncodedBatch = p.writer.finish();
      try {
        p.port.postMessage(b, [b.nums.buffer as ArrayBuffer]);
        (fwd ??= []).push(p.wire, b.n);
      } catch {
        errors++;
      }
    }
    return fwd === undefined && errors === 0 ? NOTHING : { fwd, errors };
  }
}
