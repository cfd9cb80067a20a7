/**
 * The host's end of a tier-1 guest's rings (ring.ts, ring-codec.ts; the guest's end is
 * guest-rings.ts): inbound events are encoded into a staging buffer as the engine delivers
 * them and moved into the guest's ring on `commit`; what the guest writes back (publishes,
 * counts, pongs, `state`) is read on the host's event loop, never blocking it: with nothing
 * to read the host sleeps on its bell with `Atomics.waitAsync`, and a turn reads at most
 * TURN records before it lets other work run. Anything malformed (a record, a count, a ring
 * position) ends the guest with 'protocol' (`fault`).
 */
import type { EventView } from '../index.js';
import { RecordReader } from './record-reader.js';
import { RecordWriter } from './record-writer.js';
import { PING, type RecordSink } from './ring-codec.js';
import {
  newBell,
  newRing,
  ring,
  RingFault,
  SLEEP,
  WANTS_COUNTS,
  RingReader,
  RingWriter,
  sleep,
} from './ring.js';
import type { RingInit } from './protocol.js';

/** Bytes per ring (each way). */
const CAPACITY = 1 << 20;
/** Records read per turn of the host's event loop. */
const TURN = 8192;

export class RingLink {
  readonly init: RingInit;
  readonly #bell: Int32Array;
  readonly #guestBell: Int32Array;
  readonly #in: RingWriter;
  readonly #out: RingReader;
  readonly #stage = new RecordWriter();
  readonly #read = new RecordReader();
  readonly #sink: RecordSink;
  readonly #fault: () => void;
  #staged = 0;
  #closed = false;
  #scheduled = false;

  /** `sink` takes what the guest sends (its methods throw RingFault on a bad count); `fault` ends the guest. */
  constructor(sink: RecordSink, fault: () => void) {
    this.#sink = sink;
    this.#fault = fault;
    this.#bell = newBell();
    this.#guestBell = newBell();
    const inRing = newRing(CAPACITY);
    const outRing = newRing(CAPACITY);
    this.init = {
      in: inRing,
      out: outRing,
      hostBell: this.#bell.buffer as SharedArrayBuffer,
      bell: this.#guestBell.buffer as SharedArrayBuffer,
    };
    this.#in = new RingWriter(inRing, this.#guestBell, this.#bell);
    this.#out = new RingReader(outRing, this.#guestBell);
  }

  /** Events staged since the last commit. */
  get staged(): number {
    return this.#staged;
  }

  /** Stage one inbound event for subscription `sub`: its visible parts, encoded now. */
  event(sub: number, view: EventView): void {
    const names = view.names();
    const w = this.#stage;
    w.event(sub, names.length);
    for (const name of names) w.part(name, view.get(name));
    w.close();
    this.#staged++;
  }

  /** Move what is staged into the ring (what does not fit follows when the guest makes room). */
  commit(): void {
    this.#staged = 0;
    this.#guard(() => {
      this.#stage.flush(this.#in);
    });
  }

  /** A ping or control message, after every event staged (commit them first). */
  ping(id: number): void {
    this.#stage.id(PING, id);
    this.commit();
  }

  ctrl(m: unknown): void {
    this.#stage.ctrl(m);
    this.commit();
  }

  /** The host waits for the guest's counts (backpressure, `idle()`): the guest sends them at once. */
  want(on: boolean): void {
    Atomics.store(this.#bell, WANTS_COUNTS, on ? 1 : 0);
  }

  /** Wake the guest (after a message it must read: it may sleep on its bell). */
  wakeGuest(): void {
    Atomics.store(this.#guestBell, 0, SLEEP);
    ring(this.#guestBell);
  }

  /** Start reading what the guest writes. */
  start(): void {
    this.#schedule();
  }

  /** Read what the guest wrote before it ended (its last outputs, counts, state). */
  drain(): void {
    if (this.#closed) return;
    this.#guard(() => {
      while (this.#read.pull(this.#out) || this.#read.ready) this.#read.parse(this.#sink, TURN);
    });
  }

  /** Stop reading; release the host's wait on its bell. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stage.clear();
    Atomics.store(this.#bell, 0, 0);
    Atomics.notify(this.#bell, 0);
    ring(this.#guestBell);
  }

  /** Run `f`; a RingFault in it ends the guest (and gives undefined). */
  #guard<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof RingFault)) throw e;
      this.#fault();
      return undefined;
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    if (this.#closed) return;
    const more = this.#guard(() => {
      const r = this.#read;
      r.pull(this.#out);
      const left = r.parse(this.#sink, TURN) >= TURN || r.ready;
      if (this.#stage.pending > 0) this.#stage.flush(this.#in);
      return left;
    });
    if (this.#closed as boolean) return; // (the sink may have ended the guest)
    if (more === true) this.#schedule();
    else {
      this.#scheduled = true;
      sleep(this.#bell, this.#work, this.#wake);
    }
  };

  readonly #wake = (): void => {
    this.#scheduled = false;
    this.#schedule();
  };

  readonly #work = (): boolean => {
    if (this.#closed) return true;
    try {
      return (
        this.#out.available() > 0 ||
        this.#read.ready ||
        (this.#stage.pending > 0 && this.#in.hasRoom())
      );
    } catch {
      return true; // the next turn meets the fault
    }
  };
}
