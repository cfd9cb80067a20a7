/**
 * A tier-1 guest's ends of its rings (ring.ts, ring-codec.ts): events in from the host, its
 * publishes, acknowledgements and control answers out to the host, and its pipes (pipe.ts):
 * rings straight to and from other guests. The loop: copy out what the inputs hold, run
 * their events in order (at most CHUNK per turn, then the event loop gets a turn: control
 * messages, promise jobs), write DONE / PIPED counts after each input's events and FWD counts
 * for what went into pipes, move the staged records into the rings; with nothing to do, sleep
 * on the guest's bell until a writer rings it. The guest's thread has nothing else to do, so
 * it sleeps with `Atomics.wait` (a futex: far cheaper to wake than a task on its event loop),
 * up to IDLE_MS at a time, and after each wake-up goes back through its event loop (promise
 * jobs, the host's pipe wiring: the host rings the bell after it posts). The host is woken
 * at once for what it must act on (publishes, pongs, state); counts alone (DONE, FWD, PIPED)
 * wake it only when the host says it waits for them (backpressure, `idle()`), or when the
 * guest has had nothing to do for LINGER_MS: otherwise the next burst comes sooner and the
 * counts go with it.
 *
 * A piped topic carries parts at the unit's label only: a publish on it that asks for other
 * part labels throws (the handler's error, counted), since only the host can check those. A
 * malformed record on a pipe (its producer broke the format) ends this guest: it reports a
 * fault and the host ends it with 'protocol' (never the producer, on the word of a consumer).
 */
import { RecordReader } from './record-reader.js';
import { RecordWriter } from './record-writer.js';
import { DONE, FWD, PIPED, PONG, type RecordSink } from './ring-codec.js';
import { RingReader, RingWriter, RingFault, SLEEP, WANTS_COUNTS, ring } from './ring.js';
import type { HostMessage, RingInit } from './protocol.js';

/** Events run per turn of the event loop. */
const CHUNK = 4096;
/** Events whose outputs and count go out together, within a turn: the first slice, and the largest. */
const FIRST_SLICE = 32;
const SLICE = 512;
/** Idle this long (ms) before the host is woken for counts alone. */
const LINGER_MS = 1;
/** Longest sleep (ms) before the event loop gets a turn anyway. */
const IDLE_MS = 200;

/** Runs one event for subscription `sub`; false if its handler threw. */
export type Run = (sub: number, names: string[], values: unknown[]) => boolean;

interface In {
  readonly wire: number;
  readonly subs: readonly number[];
  readonly ring: RingReader;
  readonly rec: RecordReader;
}

interface Out {
  readonly wire: number;
  readonly ring: RingWriter;
  readonly rec: RecordWriter;
  /** Events staged since the last FWD. */
  n: number;
}

export class GuestRings {
  readonly #bell: Int32Array;
  readonly #bellSab: SharedArrayBuffer;
  readonly #in: RingReader;
  readonly #out: RingWriter;
  readonly #recIn: RecordReader;
  readonly #recOut = new RecordWriter();
  readonly #pipesIn = new Map<number, In>();
  readonly #pipesOut = new Map<string, Out>();
  readonly #run: Run;
  readonly #control: (m: HostMessage) => void;
  readonly #fault: () => void;
  readonly #fix: (v: unknown) => unknown;
  #scheduled = false;
  #dead = false;
  /** The barrier the host's ring waits at (0: none), and the last `import` applied. */
  #held = 0;
  #imported = 0;
  /** Records the host must act on are staged (OUT, PONG, CTRL): wake it with them. */
  #urgent = false;
  /** Records went to the host without waking it. */
  #owed = false;
  readonly #hostBell: Int32Array;
  /** Events run and handlers that threw since the last DONE / PIPED. */
  #n = 0;
  #errors = 0;

  constructor(
    r: RingInit,
    run: Run,
    control: (m: HostMessage) => void,
    fault: () => void,
    fix: (v: unknown) => unknown,
  ) {
    const hostBell = new Int32Array(r.hostBell);
    this.#hostBell = hostBell;
    this.#bellSab = r.bell;
    this.#bell = new Int32Array(r.bell);
    this.#in = new RingReader(r.in, hostBell);
    this.#out = new RingWriter(r.out, hostBell, this.#bell);
    this.#recIn = new RecordReader(fix);
    this.#fix = fix;
    this.#run = run;
    this.#control = control;
    this.#fault = fault;
  }

  /** The bell of this guest (a pipe's other end rings it). */
  get bell(): SharedArrayBuffer {
    return this.#bellSab;
  }

  /** Is any topic piped out? */
  get piping(): boolean {
    return this.#pipesOut.size > 0;
  }

  start(): void {
    this.#schedule();
  }

  /** One publish of the code, encoded now (to a pipe if its topic is piped). */
  emit(topic: string, parts: Readonly<Record<string, unknown>>, labels: unknown): void {
    const p = this.#pipesOut.size === 0 ? undefined : this.#pipesOut.get(topic);
    if (p === undefined) {
      this.#recOut.record(topic, parts, labels);
      this.#urgent = true;
      return;
    }
    if (labels !== undefined) throw new TypeError('a piped topic carries no part labels');
    p.rec.record(undefined, parts);
    p.n++;
  }

  /**
   * A barrier in the host's ring: nothing after it runs until `import` number `seq` (a
   * message) has been applied. Meanwhile the guest does not block in Atomics.wait (the
   * message could not come in).
   */
  barrier(seq: number): void {
    if (seq > this.#imported) {
      this.#held = seq;
      this.#recIn.halt();
    }
  }

  /** `import` number `seq` has been applied: a barrier waiting for it lets the ring go on. */
  imported(seq: number): void {
    this.#imported = Math.max(this.#imported, seq);
    if (this.#held !== 0 && this.#held <= this.#imported) {
      this.#held = 0;
      this.#schedule();
    }
  }

  pipeOut(wire: number, topic: string, ring: SharedArrayBuffer, bell: SharedArrayBuffer): void {
    this.#pipesOut.set(topic, {
      wire,
      ring: new RingWriter(ring, new Int32Array(bell), this.#bell),
      rec: new RecordWriter(),
      n: 0,
    });
  }

  pipeIn(
    wire: number,
    subs: readonly number[],
    ring: SharedArrayBuffer,
    bell: SharedArrayBuffer,
  ): void {
    this.#pipesIn.set(wire, {
      wire,
      subs,
      ring: new RingReader(ring, new Int32Array(bell)),
      rec: new RecordReader(this.#fix),
    });
    this.#schedule();
  }

  /** The consumer of `wire` is gone: its topic goes back to the host (what is staged is dropped). */
  unpipe(wire: number): void {
    for (const [topic, p] of this.#pipesOut) if (p.wire === wire) this.#pipesOut.delete(topic);
  }

  #schedule(): void {
    if (this.#scheduled || this.#dead) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    if (this.#dead) return;
    try {
      if (this.#pump()) {
        this.#schedule();
        return;
      }
      if (this.#held !== 0) return; // `imported` schedules the next turn
      this.#sleep();
    } catch (e) {
      if (!(e instanceof RingFault)) throw e;
      this.#dead = true;
      this.#fault();
      return;
    }
    this.#schedule();
  };

  /** Block until a writer rings (or IDLE_MS); the host gets the counts owed if this lasts LINGER_MS. */
  #sleep(): void {
    const bell = this.#bell;
    Atomics.store(bell, 0, SLEEP);
    if (this.#work()) {
      Atomics.store(bell, 0, 0);
      return;
    }
    if (this.#owed) {
      if (Atomics.wait(bell, 0, SLEEP, LINGER_MS) !== 'timed-out') return;
      this.#owed = false;
      ring(this.#hostBell);
    }
    Atomics.wait(bell, 0, SLEEP, IDLE_MS);
    Atomics.store(bell, 0, 0);
  }

  /** Anything to do: input waiting, or staged output the rings now have room for? */
  readonly #work = (): boolean => {
    if (this.#in.available() > 0 || this.#recIn.ready) return true;
    for (const p of this.#pipesIn.values()) if (p.ring.available() > 0 || p.rec.ready) return true;
    if (this.#recOut.pending > 0 && this.#out.hasRoom()) return true;
    for (const p of this.#pipesOut.values()) if (p.rec.pending > 0 && p.ring.hasRoom()) return true;
    return false;
  };

  /** One turn; true if input is left for another. */
  #pump(): boolean {
    let budget = CHUNK;
    const rec = this.#recIn;
    if (this.#held === 0) {
      rec.pull(this.#in);
      budget = this.#slices(rec, this.#host, budget, DONE, 0);
    }
    for (const p of this.#pipesIn.values()) {
      if (budget <= 0) break;
      p.rec.pull(p.ring);
      const sink = {
        event: (_: number, names: string[], values: unknown[]): void => {
          for (const s of p.subs) if (!this.#run(s, names, values)) this.#errors++;
          this.#n++;
        },
      };
      budget = this.#slices(p.rec, sink, budget, PIPED, p.wire);
    }
    this.#flush();
    return this.#held === 0 && (budget <= 0 || this.#in.available() > 0 || rec.ready);
  }

  /**
   * Run up to `budget` events of one input in slices of FIRST_SLICE, doubling up to SLICE,
   * each slice's outputs and count sent before the next runs (so the first outputs of a long
   * turn, say after a migration's barrier, are not held back by its later, JIT-cold events);
   * returns the budget left.
   */
  #slices(rec: RecordReader, sink: RecordSink, budget: number, tag: number, wire: number): number {
    for (let slice = FIRST_SLICE; ; slice = Math.min(2 * slice, SLICE)) {
      const n = rec.parse(sink, Math.min(slice, budget));
      budget -= n;
      this.#done(tag, wire);
      if (n < slice || budget <= 0 || this.#held !== 0) return budget;
      this.#flush();
    }
  }

  /** The sink of the host's ring: events, pings, control messages. */
  readonly #host = {
    event: (sub: number, names: string[], values: unknown[]): void => {
      if (!this.#run(sub, names, values)) this.#errors++;
      this.#n++;
    },
    ping: (id: number): void => {
      this.#done(DONE, 0);
      this.#recOut.id(PONG, id);
      this.#urgent = true;
    },
    ctrl: (m: unknown): void => {
      this.#done(DONE, 0);
      this.#control(m as HostMessage);
    },
  };

  /** Count what ran since the last count: DONE (host's ring) or PIPED for `wire`. */
  #done(tag: number, wire: number): void {
    if (this.#n === 0 && this.#errors === 0) return;
    if (tag === DONE) this.#recOut.counts(DONE, this.#n, this.#errors);
    else this.#recOut.counts(PIPED, wire, this.#n, this.#errors);
    this.#n = 0;
    this.#errors = 0;
  }

  /** FWD counts for the pipes, then every staged record into its ring. */
  #flush(): void {
    for (const p of this.#pipesOut.values()) {
      if (p.n > 0) {
        this.#recOut.counts(FWD, p.wire, p.n);
        p.n = 0;
      }
      if (p.rec.pending > 0) p.rec.flush(p.ring);
    }
    if (this.#recOut.pending > 0) {
      const wake = this.#urgent || Atomics.load(this.#hostBell, WANTS_COUNTS) !== 0;
      this.#recOut.flush(this.#out, wake);
      if (wake) this.#urgent = this.#owed = false;
      else this.#owed = true;
    }
  }
}
