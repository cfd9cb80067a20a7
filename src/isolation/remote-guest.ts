/**
 * The host's end of a guest in a worker thread (tier 1) or a child process (tier 2): batches
 * inbound events, keeps a few batches in flight, and runs the watchdog. One protocol for both
 * tiers; only the endpoint (how messages move, how the guest is killed) differs.
 *
 * Watchdog: whatever is in flight (a batch or a heartbeat ping) must be answered within
 * `heartbeatMs + eventBudgetMs × events`, measured from when it became the oldest in flight;
 * when idle, a ping goes out every `heartbeatMs`. A guest that misses a deadline (an infinite
 * loop, a handler past its budget) is killed. The clock is the host's wall clock, so a guest
 * starved of CPU by a loaded machine can be killed too: budgets are generous by default.
 */
import { Worker } from 'node:worker_threads';
import {
  isGuestMessage,
  type GuestInit,
  type GuestMessage,
  type HostMessage,
  type InRecord,
  type OutRecord,
} from './protocol.js';
import {
  childProcessTransport,
  type RemoteTransport,
  type TransportFactory,
} from './tier3-transport.js';

/** Why a guest ended. */
export type EndReason = 'stopped' | 'cpu' | 'memory' | 'exit' | 'protocol' | 'start';

export interface RemoteLimits {
  /** Old-generation heap of the guest (MB). Default 64. */
  readonly memoryMb: number;
  /** Wall-clock budget per event (ms). Default 5. */
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

interface Endpoint {
  send(m: HostMessage): void;
  kill(): void;
}

interface Flight {
  readonly id: number;
  readonly n: number;
}

export interface RemoteHooks {
  /** Every publish of a batch, in order, once the batch is answered. */
  outputs(outs: readonly OutRecord[], errors: number): void;
  /** The guest ended for a reason other than `stop()`. */
  ended(why: EndReason): void;
  /** A `state` or `probe` message (managed units). */
  extra?(m: Extract<GuestMessage, { k: 'state' | 'probe' }>): void;
}

export class RemoteGuest {
  readonly #limits: RemoteLimits;
  readonly #hooks: RemoteHooks;
  #ep: Endpoint | undefined;
  #pending: InRecord[] = [];
  readonly #flights: Flight[] = [];
  #queued = 0;
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #ended: EndReason | undefined;
  #waiters: (() => void)[] = [];
  #onReady: ((subs: readonly string[] | null) => void) | undefined;

  constructor(limits: RemoteLimits, hooks: RemoteHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
  }

  get ended(): EndReason | undefined {
    return this.#ended;
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

  /** Queue one inbound event (dropped once the guest has ended). */
  enqueue(rec: InRecord): void {
    if (this.#ended !== undefined) return;
    this.#pending.push(rec);
    this.#queued++;
    if (this.#pending.length >= this.#limits.batchSize) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  /** Events queued or in flight, not yet answered. */
  get backlog(): number {
    return this.#queued;
  }

  /** Resolves when the backlog is at or below `n` (or the guest has ended). */
  below(n: number): Promise<void> {
    if (this.#queued <= n || this.#ended !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#queued <= n || this.#ended !== undefined) resolve();
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

  /** Kill the guest now (its backlog is dropped). */
  stop(): void {
    this.#end('stopped', true);
  }

  #flush(): void {
    const ep = this.#ep;
    if (ep === undefined || this.#ended !== undefined || this.#onReady !== undefined) return;
    while (this.#pending.length > 0 && this.#flights.length < this.#limits.maxInFlight) {
      const size = this.#limits.batchSize;
      const events = this.#pending.length <= size ? this.#pending : this.#pending.slice(0, size);
      this.#pending = this.#pending.length <= size ? [] : this.#pending.slice(size);
      const id = this.#nextId++;
      this.#flights.push({ id, n: events.length });
      if (this.#flights.length === 1) this.#armFor(events.length);
      ep.send({ k: 'batch', id, events });
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
      ready(m.subs);
      this.#arm(this.#limits.heartbeatMs);
      this.#flush();
      return;
    }
    const head = this.#flights[0];
    if (head?.id !== m.id || (m.k === 'pong') !== (head.n === 0)) {
      this.#end('protocol', true);
      return;
    }
    this.#flights.shift();
    if (m.k === 'out') {
      this.#queued -= head.n;
      this.#hooks.outputs(m.outs, m.errors);
    }
    const next = this.#flights[0];
    if (next !== undefined) this.#armFor(next.n);
    else this.#arm(this.#limits.heartbeatMs);
    this.#flush();
    this.#wake();
  }

  #armFor(n: number): void {
    this.#arm(this.#limits.heartbeatMs + this.#limits.eventBudgetMs * n);
  }

  /** One timer: a deadline when something is in flight, the next heartbeat when idle. */
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
      } else if (this.#flights.length > 0) this.#end('cpu', true);
      else {
        const id = this.#nextId++;
        this.#flights.push({ id, n: 0 });
        this.#armFor(0);
        this.#ep?.send({ k: 'ping', id });
      }
    }, ms);
    this.#timer.unref();
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
    this.#pending = [];
    this.#queued = 0;
    if (kill) this.#ep?.kill();
    const ready = this.#onReady;
    this.#onReady = undefined;
    ready?.(null);
    if (why !== 'stopped') this.#hooks.ended(why);
    this.#wake();
  }
}

function workerEndpoint(
  limits: RemoteLimits,
  onMessage: (m: unknown) => void,
  onDead: (why: EndReason) => void,
): Endpoint {
  const w = new Worker(new URL('./worker-entry.js', import.meta.url), {
    resourceLimits: {
      maxOldGenerationSizeMb: limits.memoryMb,
      maxYoungGenerationSizeMb: Math.min(16, limits.memoryMb),
    },
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
  });
  w.stdout.resume();
  w.stderr.resume();
  let oom = false;
  w.on('message', onMessage);
  w.on('error', (e: unknown) => {
    if ((e as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') oom = true;
  });
  w.on('exit', () => {
    onDead(oom ? 'memory' : 'exit');
  });
  return {
    send: (m) => {
      w.postMessage(m);
    },
    kill: () => {
      void w.terminate();
    },
  };
}

function transportEndpoint(
  t: RemoteTransport,
  onMessage: (m: unknown) => void,
  onDead: (why: EndReason) => void,
): Endpoint {
  t.onReceiveBatch((ms) => {
    for (const m of ms) onMessage(m);
  });
  t.onClose(onDead);
  return {
    send: (m) => {
      t.sendBatch([m]);
    },
    kill: () => {
      t.close();
    },
  };
}
