/**
 * The host's end of a guest in a worker thread (tier 1) or a child process (tier 2): hands it
 * inbound events, keeps count of what is in flight (pipelined: the next events go before the
 * last are answered; answers come back in order), bounds the backlog, and keeps the watchdog
 * (watchdog.ts) fed. Tier 1 moves events through rings in shared memory (ring-link.ts): each
 * commit of staged events is one flight, answered in pieces by the guest's DONE counts. Tiers
 * 2 and 3 send encoded batches (batch-codec.ts) as messages, up to `maxInFlight` at once, each
 * answered by one `out`. Only the endpoint (how messages move, how the guest is killed, where
 * its CPU time is read) and that data path differ.
 *
 * Backlog: at `highWater` events queued or in flight the `full` hook fires (isolated-unit.ts
 * closes an engine valve: sources are told to wait); at `hardLimit` `enqueue` refuses.
 */
import type { EventView } from '../index.js';
import { readBatch } from './batch-codec.js';
import { BatchLink } from './batch-link.js';
import { transportEndpoint, workerEndpoint, type Endpoint } from './guest-endpoint.js';
import { isGuestMessage, type GuestInit, type GuestMessage, type HostMessage } from './protocol.js';
import type { EndReason, RemoteHooks, RemoteLimits } from './remote-limits.js';
import { newRing, RingFault } from './ring.js';
import { RingLink } from './ring-link.js';
import { childProcessTransport, type TransportFactory } from './tier3-transport.js';
import { Watchdog } from './watchdog.js';
import type { Wire } from './wire.js';

export type { EndReason, RemoteHooks, RemoteLimits } from './remote-limits.js';

interface Flight {
  readonly id: number;
  /** Events in the flight (its CPU budget), and not yet answered. */
  readonly n: number;
  left: number;
}

/** Bytes of a pipe's ring. */
const PIPE_RING = 1 << 20;

export class RemoteGuest {
  readonly #limits: RemoteLimits;
  readonly #hooks: RemoteHooks;
  #ep: Endpoint | undefined;
  /** Tier 1: the rings (else batches as messages). */
  #link: RingLink | undefined;
  readonly #batch: BatchLink;
  readonly #flights: Flight[] = [];
  #queued = 0;
  #full = false;
  #nextId = 1;
  /** Tier 1: `import` messages sent (each held in order by a barrier in the ring). */
  #imports = 0;
  readonly #dog: Watchdog;
  #flushScheduled = false;
  #ended: EndReason | undefined;
  #waiters: (() => void)[] = [];
  #onReady: ((subs: readonly string[] | null) => void) | undefined;
  /** Pipes this guest writes to (with their consumer), and pipes it reads from. */
  readonly #outWires = new Map<number, { wire: Wire; to: RemoteGuest }>();
  readonly #inWires = new Map<number, { wire: Wire; from: RemoteGuest }>();
  /** Events sent to this guest through pipes and not yet handled (sum of the wires' backlogs). */
  #piped = 0;

  constructor(limits: RemoteLimits, hooks: RemoteHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
    this.#batch = new BatchLink(limits);
    this.#dog = new Watchdog(limits, {
      starting: () => this.#onReady !== undefined,
      busy: () => this.#flights.length > 0,
      budget: () => this.#budget(),
      late: () => {
        const ready = this.#onReady;
        this.#onReady = undefined;
        this.#end('start', true);
        ready?.(null);
      },
      expired: () => {
        this.#end('cpu', true);
      },
      beat: () => {
        const id = this.#nextId++;
        this.#flights.push({ id, n: 0, left: 0 });
        this.#dog.oldest();
        if (this.#link === undefined) this.#ep?.send({ k: 'ping', id });
        else this.#link.ping(id);
      },
    });
  }

  get ended(): EndReason | undefined {
    return this.#ended;
  }

  /** Events queued or in flight above which the guest's producers are slowed. */
  get highWater(): number {
    return 2 * this.#limits.batchSize * this.#limits.maxInFlight;
  }

  /** Events queued or in flight at which `enqueue` refuses more (memory stays bounded). */
  get hardLimit(): number {
    return 8 * this.highWater;
  }

  /**
   * Start the guest; resolves with its subscriptions, or null if it did not start. Tier 2 (and
   * any tier given a `transport`) speaks the protocol over a RemoteTransport (tier3-transport.ts).
   * `entry`: the module a tier-1 worker runs (tests start hostile guests with it).
   */
  start(
    tier: 1 | 2,
    init: GuestInit,
    transport?: TransportFactory,
    entry?: URL,
  ): Promise<readonly string[] | null> {
    const onMessage = (m: unknown): void => {
      this.#message(m);
    };
    const onDead = (why: EndReason): void => {
      this.#link?.drain();
      this.#end(why, false);
    };
    const rings = tier === 1 && transport === undefined;
    if (rings) this.#link = new RingLink(this.#sink, this.#fault);
    this.#ep = rings
      ? workerEndpoint(this.#limits, onMessage, onDead, entry)
      : transportEndpoint((transport ?? childProcessTransport)(this.#limits), onMessage, onDead);
    return new Promise((resolve) => {
      this.#onReady = resolve;
      this.#dog.arm(this.#limits.startMs);
      this.#ep?.send(
        this.#link === undefined
          ? { k: 'init', init }
          : { k: 'init', init, rings: this.#link.init },
      );
    });
  }

  /**
   * Queue one inbound event for subscription `sub`: its visible parts, encoded now. False when
   * refused: the guest has ended, or its backlog is at the hard limit.
   */
  enqueue(sub: number, view: EventView): boolean {
    if (this.#ended !== undefined || this.#queued >= this.hardLimit) return false;
    const link = this.#link;
    if (link === undefined) this.#batch.event(sub, view);
    else link.event(sub, view);
    if (++this.#queued + this.#piped >= this.highWater && !this.#full) {
      this.#full = true;
      this.#hooks.full(true);
      link?.want(true);
    }
    const due =
      link === undefined
        ? this.#batch.due(this.#flights.length)
        : link.staged >= this.#limits.batchSize
          ? 'now'
          : 'later';
    if (due === 'now') this.#flush();
    else if (due === 'later') this.#later();
    return true;
  }

  /** Flush once the current burst of deliveries is over. */
  #later(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Events queued or in flight, or sent through pipes, not yet answered. */
  get backlog(): number {
    return this.#queued + this.#piped;
  }

  /** Resolves when the backlog is at or below `n` (or the guest has ended). */
  below(n: number): Promise<void> {
    if (this.backlog <= n || this.#ended !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.backlog <= n || this.#ended !== undefined) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
      this.#link?.want(true);
    });
  }

  /**
   * Send a message outside the batch flow (`export`, `import`), now: it may overtake events
   * queued but not yet sent, so a caller that needs an order waits for a backlog of 0.
   */
  post(m: HostMessage): void {
    if (this.#ended !== undefined || this.#onReady !== undefined) return;
    if (this.#link === undefined) this.#ep?.send(m);
    else {
      this.#flush(); // (tier 1: after the events staged so far, in the ring)
      if (m.k === 'import') {
        const seq = ++this.#imports;
        this.#ep?.send({ ...m, seq });
        this.#link.ctrl({ k: 'barrier', seq });
        this.#link.wakeGuest();
      } else this.#link.ctrl(m);
    }
  }

  /**
   * Wire this guest's publishes on `wire.topic` to `to`'s subscriptions `subs`, through a ring
   * between the two guests (pipe.ts has checked that it may: tier 1 both, the labels). False
   * if either has ended.
   */
  pipeTo(to: RemoteGuest, wire: Wire, subs: readonly number[]): boolean {
    if (this.#ended !== undefined || to.#ended !== undefined) return false;
    if (this.#ep === undefined || to.#ep === undefined) return false;
    if (this.#link === undefined || to.#link === undefined) return false;
    const r = newRing(PIPE_RING);
    to.#inWires.set(wire.id, { wire, from: this });
    this.#outWires.set(wire.id, { wire, to });
    to.#ep.send({ k: 'pipe-in', wire: wire.id, subs, ring: r, bell: this.#link.init.bell });
    this.#ep.send({
      k: 'pipe-out',
      wire: wire.id,
      topic: wire.topic,
      ring: r,
      bell: to.#link.init.bell,
    });
    // A guest may be asleep on its bell: wake both, so that they read the messages.
    to.#link.wakeGuest();
    this.#link.wakeGuest();
    return true;
  }

  /** Kill the guest now (its backlog is dropped). */
  stop(): void {
    this.#end('stopped', true);
  }

  /**
   * Hand over what may go: tier 1, what is staged, into the ring (one flight); tiers 2 and 3,
   * batches while flights are free (batch-link.ts): the next goes out before the last is
   * answered.
   */
  #flush(): void {
    const ep = this.#ep;
    if (ep === undefined || this.#ended !== undefined || this.#onReady !== undefined) return;
    const link = this.#link;
    if (link !== undefined) {
      const n = link.staged;
      if (n === 0) return;
      this.#flights.push({ id: this.#nextId++, n, left: n });
      if (this.#flights.length === 1) this.#dog.oldest();
      link.commit();
      return;
    }
    for (;;) {
      const b = this.#batch.next(this.#flights.length);
      if (b === undefined) return;
      const id = this.#nextId++;
      this.#flights.push({ id, n: b.n, left: b.n });
      if (this.#flights.length === 1) this.#dog.oldest();
      ep.send({ k: 'batch', id, batch: b }, [b.nums.buffer as ArrayBuffer]);
    }
  }

  #message(raw: unknown): void {
    if (this.#ended !== undefined) return;
    if (!isGuestMessage(raw)) {
      this.#end('protocol', true);
      return;
    }
    const m: GuestMessage = raw;
    if (m.k === 'state' || m.k === 'probe') {
      this.#hooks.extra?.(m);
      return;
    }
    if (m.k === 'ready' || m.k === 'init-failed') {
      const ready = this.#onReady;
      if (ready === undefined) {
        this.#end('protocol', true);
        return;
      }
      this.#onReady = undefined;
      if (m.k === 'init-failed') {
        this.#end('start', true);
        ready(null);
        return;
      }
      this.#dog.cpu = this.#ep?.cpu(m.tid);
      ready(m.subs);
      this.#dog.idle();
      this.#link?.start();
      this.#flush();
      return;
    }
    // Tier 1 answers in its ring, never by message; a `fault` ends the guest.
    if (m.k === 'fault' || this.#link !== undefined) {
      this.#end('protocol', true);
      return;
    }
    const head = this.#flights[0];
    if (head === undefined || (m.k === 'pong' ? head.n !== 0 : head.n === 0) || head.id !== m.id) {
      this.#end('protocol', true);
      return;
    }
    if (m.k === 'out') {
      if (!readBatch(m.batch, true, this.#sink.output)) {
        this.#end('protocol', true);
        return;
      }
      if (m.errors > 0) this.#hooks.errors(m.errors);
      this.#ack(head.n);
    } else this.#pong(m.id);
  }

  /** `n` more events answered (in order, across flights); throws RingFault if that is more than in flight. */
  #ack(n: number): void {
    let changed = false;
    while (n > 0) {
      const head = this.#flights[0];
      if (head === undefined || head.n === 0) throw new RingFault('more events answered than sent');
      const k = Math.min(n, head.left);
      head.left -= k;
      this.#queued -= k;
      n -= k;
      if (head.left === 0) {
        this.#flights.shift();
        changed = true;
      }
    }
    if (changed) this.#next();
    this.#load();
  }

  /** The oldest flight, a ping, is answered. */
  #pong(id: number): void {
    const head = this.#flights[0];
    if (head === undefined || head.n !== 0 || head.id !== id) throw new RingFault('pong');
    this.#flights.shift();
    this.#next();
    this.#wake();
  }

  /** The oldest flight was answered: the next one's budget starts, or the heartbeat's; more may go. */
  #next(): void {
    if (this.#flights.length > 0) this.#dog.oldest();
    else this.#dog.idle();
    if (this.#link === undefined) this.#flush();
  }

  /** A malformed record or count in the rings (tier 1). */
  readonly #fault = (): void => {
    this.#end('protocol', true);
  };

  /** What the guest sends back (tier 1: its ring's records; tiers 2, 3: decoded `out` batches). */
  readonly #sink = {
    output: (topic: number | string, names: string[], values: unknown[], labels: unknown): void => {
      this.#hooks.output(topic as string, names, values, labels);
    },
    done: (n: number, errors: number): void => {
      if (errors > n) throw new RingFault('errors');
      if (errors > 0) this.#hooks.errors(errors);
      this.#ack(n);
    },
    pong: (id: number): void => {
      this.#pong(id);
    },
    fwd: (wire: number, n: number): void => {
      const o = this.#outWires.get(wire);
      if (o === undefined) throw new RingFault('wire');
      o.wire.sent += n;
      o.to.#load();
    },
    piped: (wire: number, n: number, errors: number): void => {
      const w = this.#inWires.get(wire);
      if (w === undefined) throw new RingFault('wire');
      if (errors > 0) this.#hooks.errors(errors);
      w.wire.done += n;
      this.#load();
    },
  };

  /** The backlog changed: recount the pipes' part, raise or lower `full`, wake waiters. */
  #load(): void {
    let piped = 0;
    for (const { wire } of this.#inWires.values()) piped += wire.backlog;
    this.#piped = piped;
    const load = this.#queued + piped;
    if (!this.#full && load >= this.highWater && this.#ended === undefined) {
      this.#full = true;
      this.#hooks.full(true);
      this.#link?.want(true);
    } else if (this.#full && load <= this.highWater >> 1) {
      this.#full = false;
      this.#hooks.full(false);
    }
    this.#wake();
  }

  /**
   * CPU budget of the oldest flight: the heartbeat's slack plus the budget of its events and of
   * those piped to the guest (it may handle them first).
   */
  #budget(): number {
    const n = (this.#flights[0]?.n ?? 0) + this.#piped;
    return this.#limits.heartbeatMs + this.#limits.eventBudgetMs * n;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
    this.#link?.want(this.#full || this.#waiters.length > 0);
  }

  #end(why: EndReason, kill: boolean): void {
    if (this.#ended !== undefined) return;
    this.#ended = why;
    this.#dog.stop();
    this.#link?.close();
    this.#batch.clear();
    this.#queued = 0;
    if (kill) this.#ep?.kill();
    // Pipes: a consumer gone sends its producers' publishes back to the host; a producer gone
    // is no longer waited for.
    for (const { wire, from } of this.#inWires.values()) {
      wire.open = false;
      from.post({ k: 'unpipe', wire: wire.id });
    }
    for (const { wire, to } of this.#outWires.values()) {
      wire.open = false;
      to.#load();
    }
    this.#piped = 0;
    const ready = this.#onReady;
    this.#onReady = undefined;
    ready?.(null);
    if (this.#full) {
      this.#full = false;
      this.#hooks.full(false);
    }
    if (why !== 'stopped') this.#hooks.ended(why);
    this.#wake();
  }
}
