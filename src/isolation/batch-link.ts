/**
 * The host's data path to a guest of tier 2 or 3 (remote-guest.ts keeps the flights): inbound
 * events are encoded into batches (batch-codec.ts) that go as messages, up to `maxInFlight`
 * at once, each answered by one `out`. A batch still filling goes out when it holds
 * `batchSize` events, or when nothing else is in flight, so under load batches leave full and
 * the guest is never idle; while every flight is taken a batch keeps growing (fewer, larger
 * messages when the guest falls behind), up to GROW batches' worth.
 */
import type { EventView } from '../index.js';
import { BatchWriter, type EncodedBatch } from './batch-codec.js';
import type { RemoteLimits } from './remote-guest.js';

/** A batch grows up to this many times `batchSize` while every flight is taken. */
const GROW = 8;

export class BatchLink {
  readonly #limits: RemoteLimits;
  readonly #writer = new BatchWriter();
  /** Encoded batches waiting for a free flight slot. */
  #batches: EncodedBatch[] = [];

  constructor(limits: RemoteLimits) {
    this.#limits = limits;
  }

  /** Encode one inbound event for subscription `sub`: its visible parts, now. */
  event(sub: number, view: EventView): void {
    const names = view.names();
    this.#writer.inbound(sub, names.length);
    for (const name of names) this.#writer.part(name, view.get(name));
  }

  /** After an event, with `inFlight` flights out: send now, or later (once the burst is over)? */
  due(inFlight: number): 'now' | 'later' | 'no' {
    const w = this.#writer;
    const size = this.#limits.batchSize;
    if (w.count < size) return 'later';
    if (inFlight < this.#limits.maxInFlight) return 'now';
    if (w.count >= GROW * size) this.#batches.push(w.finish());
    return 'no';
  }

  /** The next batch that may go with `inFlight` flights out, if any. */
  next(inFlight: number): EncodedBatch | undefined {
    if (inFlight >= this.#limits.maxInFlight) return undefined;
    const batch = this.#batches.shift();
    if (batch !== undefined) return batch;
    const n = this.#writer.count;
    if (n === 0 || (n < this.#limits.batchSize && inFlight > 0)) return undefined;
    return this.#writer.finish();
  }

  /** Drop what is queued. */
  clear(): void {
    this.#batches = [];
    this.#writer.finish();
  }
}
