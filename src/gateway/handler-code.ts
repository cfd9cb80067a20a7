/**
 * Handlers given as code (`{ code: { source, tier } }` on a route, or `module` in the serve
 * configuration): an ES module whose `export default` is the handler, `(req, ctx) => response`,
 * run isolated (handler-guest.ts) rather than as a function of the gateway's own code.
 *
 * Module state is per invocation label: the gateway keeps one instance of the module (one SES
 * compartment in tier 0, one worker thread in tier 1) per label that invocations run at, made
 * on the first invocation at that label. What an invocation leaves in module variables is seen
 * only by later invocations at exactly the same label, whose data it is at; an invocation at
 * any other label runs in another instance. (`instances: 'invocation'` makes a fresh instance
 * for every invocation instead: no state at all, at the cost of a compartment, ≈ 0.2 ms, or a
 * worker, ≈ 200 ms, per request.) At most `maxInstances` labels are kept per route, the least
 * recently invoked dropped first: which is dropped depends only on the order of invocations,
 * never on what a handler did.
 *
 * The handler reaches nothing but its `(req, ctx)`: `ctx.store.<method>(…)` and
 * `ctx.publish(…)` run through the invocation's own context (store view and publish at the
 * invocation label, revoked when it ends), every argument copied as plain data, every result
 * and error given back hardened (errors carry a message, never a host object).
 */
import { z } from 'zod';
import type { TagGrant } from '../engine/engine.js';
import { ConfigError, SluiceError } from '../errors.js';
import { handlerOptionsSchema } from './config.js';
import { ensureLockdown } from '../isolation/guest.js';
import { Label, type PartValue } from '../labels.js';
import {
  TIMED_OUT_RESPONSE,
  type GatewayResponse,
  type Handler,
  type HandlerContext,
  type PublishPartsOptions,
} from './handler.js';
import {
  freezeData,
  HandlerGuest,
  handlerScript,
  STORE_METHODS,
  type HostCall,
  type InvocationInfo,
  type WireResult,
} from './handler-guest.js';
import { deadlinesOf } from './deadlines.js';
import { HandlerWorker, TIMED_OUT } from './handler-worker.js';

export const handlerCodeSchema = handlerOptionsSchema.extend({
  /** The handler's ES module: `export default async (req, ctx) => ({ body })`. */
  source: z.string().min(1),
});

export type HandlerCode = z.input<typeof handlerCodeSchema>;
type Code = z.output<typeof handlerCodeSchema>;

interface Instance {
  run(req: unknown, info: InvocationInfo, call: HostCall): Promise<WireResult | typeof TIMED_OUT>;
  readonly ended: boolean;
  stop(why?: 'timeout' | 'stopped'): void;
  retire(): void;
}

const isMethod = new Set<string>(STORE_METHODS);

function failure(e: unknown): Error {
  // A SluiceError's message names no labelled value (DESIGN.md); anything else says nothing.
  return new Error(e instanceof SluiceError ? e.message : 'failed');
}

/** Tier 0: a compartment in this thread. Arguments are copied; results and errors hardened. */
async function compartment(script: string): Promise<Instance> {
  const s = await ensureLockdown();
  const g = new HandlerGuest(s, script);
  return {
    ended: false,
    run: (req, info, call) =>
      g.run(structuredClone(req), info, (op, args) => {
        let copy: unknown[];
        try {
          copy = structuredClone(args);
        } catch {
          return Promise.reject(s.harden(new TypeError('arguments must be plain data')));
        }
        return call(op, copy).then(
          (v) => freezeData(v),
          (e: unknown) => {
            throw s.harden(failure(e));
          },
        );
      }),
    stop: () => undefined,
    retire: () => undefined,
  };
}

export class IsolatedHandler<S> {
  readonly #code: Code;
  readonly #script: string;
  readonly #tags: ReadonlyMap<string, TagGrant>;
  readonly #timeoutMs: number;
  /** Instances by invocation label, least recently invoked first. */
  readonly #byLabel = new Map<Label, Promise<Instance>>();
  /** Tier 1: every worker started and not yet retired (stopped when the gateway closes). */
  readonly #workers = new Set<HandlerWorker>();

  /** Checks the options (ConfigError) and the module (ModuleRefusedError) now. */
  constructor(
    code: HandlerCode,
    host: { readonly tags: ReadonlyMap<string, TagGrant>; readonly timeoutMs: number },
    where = 'handler code',
  ) {
    const r = handlerCodeSchema.safeParse(code);
    if (!r.success) throw ConfigError.fromIssues(where, r.error.issues);
    this.#code = r.data;
    this.#script = handlerScript(r.data.source);
    this.#tags = host.tags;
    this.#timeoutMs = host.timeoutMs;
  }

  /** The gateway handler that runs this code. */
  readonly handler: Handler<S> = async (req, ctx) => {
    const fresh = this.#code.instances === 'invocation';
    const made = fresh ? this.#start() : this.#instanceAt(ctx.label);
    let inst: Instance | undefined;
    // The invocation's own deadline (the same queue as the gateway's, deadlines.ts).
    const deadlines = deadlinesOf(this.#timeoutMs);
    const deadline = {
      deadline: 0,
      ended: false,
      expire: () => {
        // The invocation has timed out (504): a worker still busy with it is stopped, so
        // nothing it does later can reach an invocation at its label.
        made.then(
          (i) => {
            i.stop('timeout');
          },
          () => undefined,
        );
      },
    };
    deadlines.add(deadline);
    try {
      inst = await made;
      const info: InvocationInfo = {
        principal: ctx.principal,
        label: {
          secrecy: ctx.label.secrecy.map((t) => t.name),
          integrity: ctx.label.integrity.map((t) => t.name),
        },
      };
      const r = await inst.run(req, info, (op, args) => this.#call(ctx, op, args));
      if (r === TIMED_OUT) return TIMED_OUT_RESPONSE;
      if (r.nf) return ctx.notFound();
      const { status, headers, body, label } = r.res;
      if (headers !== undefined && (typeof headers !== 'object' || headers === null))
        throw new TypeError('headers is an object');
      return {
        ...(status === undefined ? {} : { status: status as number }),
        ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
        ...(body === undefined ? {} : { body }),
        ...(label === undefined ? {} : { label: this.#label(label) }),
      } satisfies GatewayResponse;
    } finally {
      deadline.ended = true;
      deadlines.release();
      if (fresh) this.#retire(made);
    }
  };

  /** Tier 0: lock this realm down now (once, ≈ 30 ms) rather than in the first request. */
  async prepare(): Promise<void> {
    if (this.#code.tier === 0) await ensureLockdown();
  }

  /** Stop every instance (the gateway closes). */
  close(): void {
    for (const w of this.#workers) w.stop();
    this.#workers.clear();
    this.#byLabel.clear();
  }

  #start(): Promise<Instance> {
    const c = this.#code;
    if (c.tier === 0) return compartment(this.#script);
    const w = new HandlerWorker(c.source, {
      cpuMs: c.cpuMs,
      memoryMb: c.memoryMb,
      startMs: 10_000,
    });
    this.#workers.add(w);
    return Promise.resolve(w);
  }

  /** Stop `i` once its invocations are done; it is no longer anyone's instance. */
  #retire(p: Promise<Instance>): void {
    p.then(
      (i) => {
        if (i instanceof HandlerWorker) this.#workers.delete(i);
        i.retire();
      },
      () => undefined,
    );
  }

  #instanceAt(label: Label): Promise<Instance> {
    const m = this.#byLabel;
    let p = m.get(label);
    if (p !== undefined) {
      m.delete(label);
      // A tier-1 worker that ended (watchdog, heap limit) is replaced by a fresh one.
      p = p.then(
        (i) => {
          if (!i.ended) return i;
          if (i instanceof HandlerWorker) this.#workers.delete(i);
          return this.#start();
        },
        () => this.#start(),
      );
    } else p = this.#start();
    m.set(label, p);
    if (m.size > this.#code.maxInstances) {
      const [oldest, q] = m.entries().next().value as [Label, Promise<Instance>];
      m.delete(oldest);
      this.#retire(q);
    }
    return p;
  }

  #label(names: unknown): Label {
    const { secrecy = [], integrity = [] } = (names ?? {}) as {
      secrecy?: unknown;
      integrity?: unknown;
    };
    const tag = (n: unknown) => {
      const t = typeof n === 'string' ? this.#tags.get(n) : undefined;
      if (t === undefined) throw new TypeError('unknown tag');
      return t.tag;
    };
    if (!Array.isArray(secrecy) || !Array.isArray(integrity))
      throw new TypeError('a label is { secrecy, integrity } of tag names');
    return Label.of({ secrecy: secrecy.map(tag), integrity: integrity.map(tag) });
  }

  /** One operation of the invocation `ctx`, asked for by its code. */
  async #call(ctx: HandlerContext<S>, op: string, args: unknown[]): Promise<unknown> {
    if (op === 'publish') {
      const [topic, parts, o] = args as [string, Record<string, PartValue>, unknown];
      const { label, presence } = (o ?? {}) as { label?: unknown; presence?: unknown };
      const options: PublishPartsOptions = {
        ...(label === undefined ? {} : { label: this.#label(label) }),
        ...(presence === undefined ? {} : { presence: this.#label(presence) }),
      };
      return ctx.publish(topic, parts, options);
    }
    const m = op.startsWith('store.') ? op.slice(6) : '';
    if (!isMethod.has(m)) throw new TypeError('no such operation');
    const store = ctx.store as unknown as Record<string, (...a: unknown[]) => unknown>;
    const f = store[m];
    if (typeof f !== 'function') throw new TypeError('no such operation');
    return await Reflect.apply(f, store, args);
  }
}
