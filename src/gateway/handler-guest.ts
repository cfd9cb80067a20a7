/**
 * The guest side of an isolated gateway handler, the same in tier 0 (in the gateway's thread)
 * and tier 1 (in a worker thread, handler-worker-entry.ts): the handler's ES module is checked
 * and rewritten by module-source.ts (imports, `import()`, `require`, direct eval, top-level
 * await refused before any of it runs) and evaluated in its own SES Compartment, which has no
 * endowments at all: no `process`, no `require`, no timers, no clock (`Date.now()` and
 * `Math.random()` throw), frozen shared intrinsics, its own global object and evaluators.
 *
 * One HandlerGuest is one instance of the module: its module-level variables live as long as
 * it does, and the gateway keeps one per invocation label (or one per invocation), so what one
 * invocation leaves there is seen only by invocations at exactly the same label.
 *
 * Per invocation the default export gets `(req, ctx)`: the request (a hardened copy) and a
 * hardened context made of plain functions over `call`, the host's door: `ctx.store.get(…)`,
 * `ctx.publish(…)` each become one `call(op, args)` that the host runs through the invocation's
 * revocable handles (store view and publish at the invocation label only). Every method is
 * async. What the handler returns is copied out as plain data (structured clone).
 */
import { moduleToScript } from '../isolation/module-source.js';

/** The SES globals the guest needs (from ensureLockdown, src/isolation/guest.ts). */
export interface GuestSes {
  harden<T>(x: T): T;
  Compartment: new (options: Record<string, unknown>) => {
    evaluate(source: string, options?: Record<string, unknown>): unknown;
  };
}

/** The store methods a handler may call (each one `call('store.<name>', args)`). */
export const STORE_METHODS = [
  'get',
  'put',
  'delete',
  'compareAndSet',
  'batch',
  'scan',
  'keys',
  'count',
] as const;

/** What the handler is told about its invocation: plain data. */
export interface InvocationInfo {
  readonly principal: string;
  /** The invocation label, by tag names. */
  readonly label: { readonly secrecy: readonly string[]; readonly integrity: readonly string[] };
}

/** The host's door: one operation of the invocation, by name, with plain-data arguments. */
export type HostCall = (op: string, args: unknown[]) => Promise<unknown>;

/** A handler's result as plain data: "not found", or the fields of a response. */
export type WireResult =
  | { readonly nf: true }
  | {
      readonly nf: false;
      readonly res: {
        readonly status?: unknown;
        readonly headers?: unknown;
        readonly body?: unknown;
        /** A label above the invocation label, by tag names. */
        readonly label?: unknown;
      };
    };

type GuestFn = (req: unknown, ctx: unknown) => unknown;

/**
 * Deep-freeze plain data made for one guest (a structured clone, a store result): an object
 * already frozen is taken as frozen through (the store freezes its values deeply). Its
 * prototypes are intrinsics, frozen by lockdown, so this is harden() without the walk.
 */
export function freezeData<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) freezeData(x);
  }
  return v;
}

/**
 * Check a handler module's source (throws ModuleRefusedError) and return the script body
 * that evaluates to its default export.
 */
export function handlerScript(source: string): string {
  return moduleToScript(source, 'return');
}

/** One instance of a handler module in its own compartment. */
export class HandlerGuest {
  readonly #fn: GuestFn;
  /** This instance's "not found" marker (compared by identity). */
  readonly #nf: object;

  /** `script` is what handlerScript returned (checked again by whoever made it). */
  constructor(s: GuestSes, script: string) {
    this.#nf = s.harden({});
    const c = new s.Compartment({ __options__: true });
    // The module's direct `eval(` calls were refused by the parse (module-source.ts).
    const load = c.evaluate(`(function (unit) {\n${script}\n})`, {
      __rejectSomeDirectEvalExpressions__: false,
    }) as (u: undefined) => GuestFn;
    this.#fn = load(undefined);
  }

  /** Run one invocation; rejects with whatever the handler threw (the caller never reads it). */
  async run(req: unknown, info: InvocationInfo, call: HostCall): Promise<WireResult> {
    // Made per invocation and given to this instance only: frozen (shallowly: every value is a
    // string, a frozen array of strings, or a function of ours whose prototype is an
    // intrinsic), which is what harden() would do here at a tenth of the cost.
    const door =
      (op: string) =>
      (...args: unknown[]): Promise<unknown> =>
        call(op, args);
    const store: Record<string, unknown> = {};
    for (const m of STORE_METHODS) store[m] = Object.freeze(door(`store.${m}`));
    const nf = this.#nf;
    const ctx = Object.freeze({
      principal: info.principal,
      label: Object.freeze({
        secrecy: Object.freeze([...info.label.secrecy]),
        integrity: Object.freeze([...info.label.integrity]),
      }),
      store: Object.freeze(store),
      publish: Object.freeze(door('publish')),
      notFound: Object.freeze(() => nf),
    });
    const r: unknown = await this.#fn(freezeData(req), ctx);
    if (r === nf) return { nf: true };
    if (typeof r !== 'object' || r === null) throw new TypeError('a handler returns a response');
    const o = r as Record<string, unknown>;
    // Read once each, then copied: what leaves is plain data whatever the object was.
    return {
      nf: false,
      res: structuredClone({ status: o.status, headers: o.headers, body: o.body, label: o.label }),
    };
  }
}
