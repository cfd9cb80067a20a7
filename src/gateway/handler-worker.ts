/**
 * Tier 1 of isolated gateway handlers, the host's side: one worker thread holding one instance
 * of a handler module (handler-worker-entry.ts), with a heap limit, no environment, and a CPU
 * watchdog. Invocations are sent to it as messages; their store and publish calls come back as
 * `call` messages and are run by the host (`HostCall`, through the invocation's revocable
 * handles) and answered.
 *
 * Watchdog: while an invocation is in flight the host pings the worker every 25 ms; a pong
 * comes back only when the worker's thread is free. When the worker has used more than `cpuMs`
 * of CPU (its thread's CPU time, from /proc on Linux; the wall clock elsewhere) since its last
 * pong, it is stuck (a synchronous loop, an endless chain of promise jobs) and is terminated:
 * its invocations end as timed out (504), and the next invocation at that label starts a fresh
 * worker. The gateway's own thread keeps serving meanwhile. A wall-clock backstop at ten times
 * `cpuMs` covers a machine too loaded to run the worker at all.
 */
import type { Worker } from 'node:worker_threads';
import { sandboxWorker } from '../isolation/sandbox-worker.js';
import { cpuClock } from '../isolation/cpu-clock.js';
import type { HostCall, InvocationInfo, WireResult } from './handler-guest.js';
import type { FromWorker, ToWorker } from './handler-worker-entry.js';

export interface WorkerLimits {
  /** CPU (ms) the worker may use without its thread coming free. */
  readonly cpuMs: number;
  /** Old-generation heap (MB). */
  readonly memoryMb: number;
  /** Time to start the thread and load the module (ms). */
  readonly startMs: number;
}

/** Ended by the watchdog or a deadline: its invocations are answered as timed out. */
export const TIMED_OUT = 'timeout';

const TICK_MS = 25;
const WALL_FACTOR = 10;

interface Flight {
  readonly call: HostCall;
  readonly done: (r: WireResult | typeof TIMED_OUT) => void;
  readonly fail: () => void;
}

export class HandlerWorker {
  readonly #w: Worker;
  readonly #limits: WorkerLimits;
  readonly #flights = new Map<number, Flight>();
  readonly #ready: Promise<boolean>;
  #cpu: (() => number | undefined) | undefined;
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #pinging = false;
  #sinceCpu = 0;
  #sinceWall = 0;
  #ended: string | undefined;
  #retiring = false;

  constructor(source: string, limits: WorkerLimits) {
    this.#limits = limits;
    this.#w = sandboxWorker(new URL('./handler-worker-entry.js', import.meta.url), limits.memoryMb);
    this.#w.on('error', () => undefined);
    this.#w.on('exit', () => {
      this.#end('exit');
    });
    this.#ready = new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#end('start');
        resolve(false);
      }, limits.startMs);
      const first = (m: FromWorker): void => {
        clearTimeout(timer);
        this.#w.off('message', first);
        if (m.k !== 'ready') {
          this.#end('start');
          resolve(false);
          return;
        }
        this.#cpu =
          m.tid === undefined || m.tid === process.pid ? undefined : cpuClock({ tid: m.tid });
        this.#w.on('message', (x: FromWorker) => {
          this.#message(x);
        });
        resolve(this.#ended === undefined);
      };
      this.#w.on('message', first);
    });
    this.#send({ k: 'init', source });
  }

  /** Whether the worker has ended (a new one is needed for its label). */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Invocations in flight. */
  get busy(): number {
    return this.#flights.size;
  }

  /**
   * Run one invocation. Resolves with the handler's result, or `timeout` when the worker was
   * stopped by the watchdog or `stop('timeout')`; rejects when the handler threw or the worker
   * died otherwise (heap limit, failed start).
   */
  async run(
    req: unknown,
    info: InvocationInfo,
    call: HostCall,
  ): Promise<WireResult | typeof TIMED_OUT> {
    if (!(await this.#ready) || this.#ended !== undefined) throw new Error('worker ended');
    const id = this.#nextId++;
    return new Promise((done, reject) => {
      const fail = (): void => {
        reject(new Error('handler failed'));
      };
      this.#flights.set(id, { call, done, fail });
      if (this.#flights.size === 1) this.#watch(true);
      this.#send({ k: 'invoke', id, req, info });
    });
  }

  /** End the worker now; its invocations end as `timeout` or fail. */
  stop(why: 'timeout' | 'stopped' = 'stopped'): void {
    this.#end(why);
  }

  /** Stop once no invocation is in flight (evicted from its handler's instances). */
  retire(): void {
    this.#retiring = true;
    if (this.#flights.size === 0) this.#end('stopped');
  }

  #send(m: ToWorker): void {
    if (this.#ended === undefined) this.#w.postMessage(m);
  }

  #message(m: FromWorker): void {
    if (this.#ended !== undefined) return;
    switch (m.k) {
      case 'pong':
        this.#pinging = false;
        this.#watch(true);
        return;
      case 'call': {
        const f = this.#flights.get(m.id);
        const reply = (ok: boolean, value: unknown): void => {
          try {
            this.#send({ k: 'reply', seq: m.seq, ok, value });
          } catch {
            this.#send({ k: 'reply', seq: m.seq, ok: false, value: 'failed' });
          }
        };
        if (f === undefined) {
          reply(false, 'this invocation has ended');
          return;
        }
        f.call(m.op, m.args).then(
          (v) => {
            reply(true, v);
          },
          (e: unknown) => {
            reply(false, e instanceof Error ? e.message : 'failed');
          },
        );
        return;
      }
      case 'done':
      case 'fail': {
        const f = this.#flights.get(m.id);
        this.#flights.delete(m.id);
        if (m.k === 'done') f?.done(m.result as WireResult);
        else f?.fail();
        if (this.#flights.size === 0) {
          if (this.#timer !== undefined) clearTimeout(this.#timer);
          this.#timer = undefined;
          if (this.#retiring) this.#end('stopped');
        }
        return;
      }
      default:
        this.#end('protocol');
    }
  }

  /** Arm the next watchdog tick; `reset`: the worker just showed it is free. */
  #watch(reset: boolean): void {
    if (reset) {
      this.#sinceWall = performance.now();
      this.#sinceCpu = this.#cpu?.() ?? 0;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, TICK_MS);
    this.#timer.unref();
  }

  #tick(): void {
    if (this.#ended !== undefined || this.#flights.size === 0) return;
    const { cpuMs } = this.#limits;
    const wall = performance.now() - this.#sinceWall;
    const cpu = this.#cpu?.();
    const used = cpu === undefined ? wall : cpu - this.#sinceCpu;
    if (used > cpuMs || wall > cpuMs * WALL_FACTOR) {
      this.#end(TIMED_OUT);
      return;
    }
    if (!this.#pinging) {
      this.#pinging = true;
      this.#send({ k: 'ping', id: 0 });
    }
    this.#watch(false);
  }

  #end(why: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = why;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    void this.#w.terminate();
    const flights = [...this.#flights.values()];
    this.#flights.clear();
    for (const f of flights) {
      if (why === TIMED_OUT) f.done(TIMED_OUT);
      else f.fail();
    }
  }
}
