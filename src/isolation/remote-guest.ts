/**
 * The host's end of a guest in a worker thread (tier 1) or a child process (tier 2): encodes
 * inbound events into batches (batch-codec.ts), keeps up to `maxInFlight` batches in flight
 * (pipelined: the next goes out before the last is answered; answers come back in order),
 * bounds the backlog, and runs the watchdog. One protocol for both tiers; only the endpoint
 * (how messages move, how the guest is killed, where its CPU time is read) differs.
 *
 * Backlog: at `highWater` events queued or in flight the `full` hook fires (isolated-unit.ts
 * closes an engine valve: sources are told to wait); at `hardLimit` `enqueue` refuses.
 *
 * Watchdog: whatever is in flight (a batch or a heartbeat ping) must be answered before the
 * guest has used `heartbeatMs + eventBudgetMs × events` ms of CPU since it became the oldest in
 * flight; when idle, a ping goes out every `heartbeatMs`. A guest past its budget (an infinite
 * loop, a handler past its budget, an endless chain of promise jobs) is killed. CPU time is
 * the guest thread's (tier 1) or process's (tier 2), read from /proc on Linux, so a guest
 * starved of CPU by a loaded machine is not killed for it; the wall clock is a backstop at
 * ten times the budget, and the only clock where /proc cannot be read.
 */
import type { EventView } from '../index.js';
import { MessageChannel } from 'node:worker_threads';
import { BatchWriter, readBatch, type EncodedBatch } from './batch-codec.js';
import { transportEndpoint, workerEndpoint, type Endpoint } from './guest-endpoint.js';
import { isGuestMessage, type GuestInit, type GuestMessage, type HostMessage } from './protocol.js';
import { childProcessTransport, type TransportFactory } from './tier3-transport.js';

/** Why a guest ended. */
export type EndReason =
  | 'stopped'
  | 'cpu'
  | 'memory'
  | 'exit'
  | 'protocol'
  | 'start'
  /** A managed unit's quarantine kept more input than it may. */
  | 'overflow';

export interface RemoteLimits {
  /** Old-generation heap of the guest (MB). Default 64. */
  readonly memoryMb: number;
  /** CPU budget per event (ms), on top of `heartbeatMs` per batch. Default 5. */
  readonly eventBudgetMs: number;
  /** Heartbeat period and the slack added to every deadline (ms). Default 1000. */
  readonly heartbeatMs: number;
  /** Time allowed to start and load the code (ms). Default 10000. */
  readonly startMs: number;
  /** Events per batch. Default 512. */
  readonly batchSize: number;
  /** Batches in flight at once. Default 4. */
  readonly maxInFlight: number;
}

interface Flight {
  readonly id: number;
  readonly n: number;
}

export interface RemoteHooks {
  /** One publish of the guest, in order, once its batch is answered. */
  output(
    topic: string,
    names: readonly string[],
    values: readonly unknown[],
    labels: unknown,
  ): void;
  /** Handlers that threw in a batch (the errors themselves stay in the guest). */
  errors(n: number): void;
  /** The backlog rose to its high-water mark (true), or fell back to its low-water mark (false). */
  full(on: boolean): void;
  /** The guest ended for a reason other than `stop()`. */
  ended(why: EndReason): void;
  /** A `state` or `probe` message (managed units). */
  extra?(m: Extract<GuestMessage, { k: 'state' | 'probe' }>): void;
}

/**
 * A pipe between two tier-1 guests (pipe.ts): the events go straight from the producer's
 * guest to the consumer's; the host only counts them, from both sides' reports, to bound the
 * consumer's backlog, budget its watchdog and wait for it to drain.
 */
export class Wire {
  /** Events the producer reported sent, and the consumer reported handled. */
  sent = 0;
  done = 0;
  /** Counted in the consumer's backlog (until either end is gone). */
  open = true;

  constructor(
    readonly id: number,
    readonly topic: string,
  ) {}

  get backlog(): number {
    return this.open && this.sent > this.done ? this.sent - this.done : 0;
  }
}

/** A batch grows up to this many times `batchSize` while every flight is taken. */
const GROW = 8;

/** The wall-clock backstop of a CPU-timed deadline: this many times the CPU budget. */
const WALL_FACTOR = 10;
/** Resolution of the CPU clock (cpu-clock.ts). */
const CPU_TICK_MS = 10;
/** How often the watchdog looks at the guest's CPU time while something is in flight (ms). */
const TICK_MS = 25;

export class RemoteGuest {
  readonly #limits: RemoteLimits;
  readonly #hooks: RemoteHooks;
  #ep: Endpoint | undefined;
  readonly #writer = new BatchWriter();
  /** Encoded batches waiting for a free flight slot. */
  #batches: EncodedBatch[] = [];
  readonly #flights: Flight[] = [];
  #queued = 0;
  #full = false;
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #ended: EndReason | undefined;
  #waiters: (() => void)[] = [];
  #onReady: ((subs: readonly string[] | null) => void) | undefined;
  #cpu: (() => number | undefined) | undefined;
  /** When the oldest flight became the oldest: CPU (ms, if there is a CPU clock) and wall time. */
  #sinceCpu = 0;
  #sinceWall = 0;
  /** The last reading of the CPU clock, and when (wall). */
  #readCpu = 0;
  #readWall = -Infinity;
  /** Pipes this guest writes to (with their consumer), and pipes it reads from. */
  readonly #outWires = new Map<number, { wire: Wire; to: RemoteGuest }>();
  readonly #inWires = new Map<number, { wire: Wire; from: RemoteGuest }>();
  /** Events sent to this guest through pipes and not yet handled (sum of the wires' backlogs). */
  #piped = 0;

  constructor(limits: RemoteLimits, hooks: RemoteHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
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
   */
  start(
    tier: 1 | 2,
    init: GuestInit,
    transport?: TransportFactory,
  ): Promise<readonly string[] | null> {
    const onMessage = (m: unknown): void => {
      this.#message(m);
    };
    const onDead = (why: EndReason): void => {
      this.#end(why, false);
    };
    this.#ep =
      tier === 1 && transport === undefined
        ? workerEndpoint(this.#limits, onMessage, onDead)
        : transportEndpoint((transport ?? childProcessTransport)(this.#limits), onMessage, onDead);
    return new Promise((resolve) => {
      this.#onReady = resolve;
      this.#arm(this.#limits.startMs);
      this.#ep?.send({ k: 'init', init });
    });
  }

  /**
   * Queue one inbound event for subscription `sub`: its visible parts, encoded now. False when
   * refused: the guest has ended, or its backlog is at the hard limit.
   */
  enqueue(sub: number, view: EventView): boolean {
    if (this.#ended !== undefined || this.#queued >= this.hardLimit) return false;
    const names = view.names();
    const w = this.#writer;
    w.inbound(sub, names.length);
    for (const name of names) w.part(name, view.get(name));
    if (++this.#queued + this.#piped >= this.highWater && !this.#full) {
      this.#full = true;
      this.#hooks.full(true);
    }
    if (w.count >= this.#limits.batchSize) {
      // Adaptive: while every flight is taken the batch keeps growing (fewer, larger messages
      // when the guest falls behind), up to GROW batches' worth.
      if (this.#flights.length < this.#limits.maxInFlight) this.#flush();
      else if (w.count >= GROW * this.#limits.batchSize) this.#batches.push(w.finish());
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
    return true;
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
    });
  }

  /**
   * Send a message outside the batch flow (`export`, `import`), now: it may overtake events
   * queued but not yet sent, so a caller that needs an order waits for a backlog of 0.
   */
  post(m: HostMessage): void {
    if (this.#ended === undefined && this.#onReady === undefined) this.#ep?.send(m);
  }

  /**
   * Wire this guest's publishes on `wire.topic` to `to`'s subscriptions `subs`, through a
   * MessageChannel between the two guests (pipe.ts has checked that it may: tier 1 both, the
   * labels). False if either has ended.
   */
  pipeTo(to: RemoteGuest, wire: Wire, subs: readonly number[]): boolean {
    if (this.#ended !== undefined || to.#ended !== undefined) return false;
    if (this.#ep === undefined || to.#ep === undefined) return false;
    const { port1, port2 } = new MessageChannel();
    to.#inWires.set(wire.id, { wire, from: this });
    this.#outWires.set(wire.id, { wire, to });
    to.#ep.send({ k: 'pipe-in', wire: wire.id, subs, port: port2 }, [port2]);
    this.#ep.send({ k: 'pipe-out', wire: wire.id, topic: wire.topic, port: port1 }, [port1]);
    return true;
  }

  /** Kill the guest now (its backlog is dropped). */
  stop(): void {
    this.#end('stopped', true);
  }

  /**
   * Send batches while flights are free: the next goes out before the last is answered. A
   * batch still filling goes out when it holds `batchSize` events, or when nothing else is in
   * flight, so under load batches leave full (or fuller: see enqueue) and the guest is never
   * idle.
   */
  #flush(): void {
    const ep = this.#ep;
    if (ep === undefined || this.#ended !== undefined || this.#onReady !== undefined) return;
    while (this.#flights.length < this.#limits.maxInFlight) {
      let batch = this.#batches.shift();
      if (batch === undefined) {
        const n = this.#writer.count;
        if (n === 0 || (n < this.#limits.batchSize && this.#flights.length > 0)) return;
        batch = this.#writer.finish();
      }
      const id = this.#nextId++;
      this.#flights.push({ id, n: batch.n });
      if (this.#flights.length === 1) this.#oldest();
      ep.send({ k: 'batch', id, batch }, [batch.nums.buffer as ArrayBuffer]);
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
      this.#cpu = this.#ep?.cpu(m.tid);
      ready(m.subs);
      this.#arm(this.#limits.heartbeatMs);
      this.#flush();
      return;
    }
    if (m.k === 'piped') {
      const w = this.#inWires.get(m.wire);
      if (w === undefined || !this.#answer(m)) {
        this.#end('protocol', true);
        return;
      }
      w.wire.done += m.n;
      this.#load();
      return;
    }
    const head = this.#flights[0];
    if (head === undefined || (m.k === 'pong' ? head.n !== 0 : head.n === 0) || head.id !== m.id) {
      this.#end('protocol', true);
      return;
    }
    this.#flights.shift();
    if (m.k === 'out') {
      if (!this.#answer(m)) {
        this.#end('protocol', true);
        return;
      }
      this.#queued -= head.n;
      this.#load();
    }
    if (this.#flights.length > 0) this.#oldest();
    else this.#arm(this.#limits.heartbeatMs);
    this.#flush();
    this.#wake();
  }

  /** The outputs, errors and pipe counts of an answered batch; false if malformed. */
  #answer(m: Extract<GuestMessage, { k: 'out' | 'piped' }>): boolean {
    if (!readBatch(m.batch, true, this.#output)) return false;
    if (m.errors > 0) this.#hooks.errors(m.errors);
    const fwd = m.fwd;
    if (fwd === undefined) return true;
    for (let i = 0; i < fwd.length; i += 2) {
      const o = this.#outWires.get(fwd[i] as number);
      if (o === undefined) return false;
      o.wire.sent += fwd[i + 1] as number;
      o.to.#load();
    }
    return true;
  }

  /** The backlog changed: recount the pipes' part, raise or lower `full`, wake waiters. */
  #load(): void {
    let piped = 0;
    for (const { wire } of this.#inWires.values()) piped += wire.backlog;
    this.#piped = piped;
    const load = this.#queued + piped;
    if (!this.#full && load >= this.highWater && this.#ended === undefined) {
      this.#full = true;
      this.#hooks.full(true);
    } else if (this.#full && load <= this.highWater >> 1) {
      this.#full = false;
      this.#hooks.full(false);
    }
    this.#wake();
  }

  readonly #output = (
    topic: number | string,
    names: readonly string[],
    values: readonly unknown[],
    labels: unknown,
  ): void => {
    this.#hooks.output(topic as string, names, values, labels);
  };

  /**
   * CPU budget of the oldest flight: the heartbeat's slack plus the budget of its events and of
   * those piped to the guest (it may handle them first).
   */
  #budget(): number {
    const n = (this.#flights[0]?.n ?? 0) + this.#piped;
    return this.#limits.heartbeatMs + this.#limits.eventBudgetMs * n;
  }

  /** The oldest flight changed: its budget starts now. */
  #oldest(): void {
    const now = performance.now();
    // The clock counts 10 ms ticks: read it (a file in /proc) at most once per tick. A reading
    // up to a tick old only makes the budget stricter by that much (≪ heartbeatMs).
    if (now - this.#readWall >= CPU_TICK_MS || this.#cpu === undefined) {
      const cpu = this.#cpu?.();
      if (cpu === undefined) this.#cpu = undefined;
      else {
        this.#readCpu = cpu;
        this.#readWall = now;
      }
    }
    this.#sinceWall = now;
    this.#sinceCpu = this.#readCpu;
    this.#arm(this.#cpu === undefined ? this.#budget() : Math.min(TICK_MS, this.#budget()));
  }

  /**
   * One timer: the start deadline; while something is in flight, the watchdog (CPU time used
   * by the guest since the oldest flight became the oldest, against its budget; the wall clock
   * only as a backstop, or where there is no CPU clock); when idle, the next heartbeat.
   */
  #arm(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#ended !== undefined) return;
      if (this.#onReady !== undefined) {
        const ready = this.#onReady;
        this.#onReady = undefined;
        this.#end('start', true);
        ready(null);
      } else if (this.#flights.length > 0) this.#watch();
      else {
        const id = this.#nextId++;
        this.#flights.push({ id, n: 0 });
        this.#oldest();
        this.#ep?.send({ k: 'ping', id });
      }
    }, ms);
    this.#timer.unref();
  }

  #watch(): void {
    const budget = this.#budget();
    const wall = performance.now() - this.#sinceWall;
    const cpu = this.#cpu?.();
    if (cpu === undefined ? wall >= budget : cpu - this.#sinceCpu > budget) {
      this.#end('cpu', true);
    } else if (wall >= budget * WALL_FACTOR) this.#end('cpu', true);
    else this.#arm(TICK_MS);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #end(why: EndReason, kill: boolean): void {
    if (this.#ended !== undefined) return;
    this.#ended = why;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#batches = [];
    this.#writer.finish();
    this.#queued = 0;
    if (kill) this.#ep?.kill();
    // Pipes: a consumer gone sends its producers' publishes back to the host; a producer gone
    // is no longer waited for.
    for (const { wire, from } of this.#inWires.values()) {
      wire.open = false;
      if (from.#ended === undefined) from.#ep?.send({ k: 'unpipe', wire: wire.id });
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
