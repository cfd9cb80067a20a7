/**
 * Handlers and their invocation. A handler runs at the invocation label, fixed before it starts
 * (the principal's clearance or a lower label the request asked for); it reaches state and the
 * engine only through that label; what it returns is labelled at that label (joined with any
 * label it declares) and checked against the principal's clearance at the boundary. A refused
 * response becomes the canonical "not found".
 */
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine/engine.js';
import type { UnitContext } from '../engine/unit-context.js';
import { Label, type PartValue } from '../labels.js';
import type { Principal } from './principals.js';
import { deadlinesOf, type Deadlines, type Expiring } from './deadlines.js';
import { endedError, revocable, type Lease } from './revocable.js';

/** What a handler is told about the request (frozen; credentials removed). */
export interface GatewayRequest {
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Request headers, lower-case, without `authorization` and `x-api-key`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or undefined. */
  readonly body: unknown;
}

/** What a handler returns. */
export interface GatewayResponse {
  /** 200 by default. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON, or as is when a string with a `content-type` header. */
  readonly body?: unknown;
  /** A label above the invocation label for this response (joined with it). */
  readonly label?: Label;
}

export interface PublishPartsOptions {
  /** Label of every part (default: the invocation label; lower needs the principal's t-). */
  readonly label?: Label;
  /** Presence of the event (default: the invocation label; lower needs privileges). */
  readonly presence?: Label;
}

/** What a handler may use: everything goes through its fixed label. */
export interface HandlerContext<S> {
  /** The authenticated principal's name. */
  readonly principal: string;
  /** The invocation label (fixed for the whole invocation). */
  readonly label: Label;
  /**
   * The store seen at the invocation label (the host's `storeAt(label)`), through a handle that
   * is revoked when the invocation ends (a later call throws, reads and writes nothing).
   */
  readonly store: S;
  /** Publish an event of these parts on `topic` on the engine, as a unit at the invocation label. */
  publish(
    topic: string,
    parts: Readonly<Record<string, PartValue>>,
    options?: PublishPartsOptions,
  ): boolean;
  /** The canonical "not found" response (the same bytes as an unknown route). */
  notFound(): GatewayResponse;
}

export type Handler<S> = (
  req: GatewayRequest,
  ctx: HandlerContext<S>,
) => GatewayResponse | Promise<GatewayResponse>;

/** The canonical not-found marker (compared by identity). */
export const NOT_FOUND: GatewayResponse = Object.freeze({ status: 404 });

/**
 * Returned (by the gateway's own isolated handlers, handler-code.ts) when the handler was
 * stopped for its CPU budget: answered exactly like a handler that did not finish in time.
 */
export const TIMED_OUT_RESPONSE: GatewayResponse = Object.freeze({ status: 504 });

/** What reaches the wire after the boundary check. */
export type Outcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string | undefined;
    }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'error' }
  | { readonly kind: 'timeout' };

export interface InvokeHost<S> {
  readonly engine: Engine;
  readonly storeAt: (label: Label) => S;
  /** Milliseconds the handler may run before the invocation ends with `timeout`. */
  readonly timeoutMs: number;
}

/** Headers a handler may not set (the server owns framing and connection handling). */
const RESERVED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
]);
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const HEADER_VALUE = /^[\t\x20-\x7e]{0,4096}$/;

let unitSeq = 0;

/** Every "not found" outcome is this one object: refused, absent and unknown share one path. */
export const NOT_FOUND_OUTCOME: Outcome = Object.freeze({ kind: 'not-found' });
const ERROR_OUTCOME: Outcome = Object.freeze({ kind: 'error' });
const TIMEOUT_OUTCOME: Outcome = Object.freeze({ kind: 'timeout' });

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': JSON_TYPE });

/** Turn a handler's response into wire form, or refuse it at the boundary. */
function serialize(res: GatewayResponse): Outcome {
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) return ERROR_OUTCOME;
  if (res.headers === undefined) {
    // The common case, with the headers of the general case below made once.
    if (res.body === undefined && status === 204) {
      return { kind: 'response', status, headers: NO_HEADERS, body: undefined };
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(res.body ?? null);
    } catch {
      return ERROR_OUTCOME;
    }
    return { kind: 'response', status, headers: JSON_HEADERS, body: json };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    const name = k.toLowerCase();
    if (
      RESERVED.has(name) ||
      !HEADER_NAME.test(name) ||
      typeof v !== 'string' ||
      !HEADER_VALUE.test(v)
    ) {
      return ERROR_OUTCOME;
    }
    headers[name] = v;
  }
  let body: string | undefined;
  if (typeof res.body === 'string' && headers['content-type'] !== undefined) body = res.body;
  else if (res.body !== undefined || status !== 204) {
    try {
      body = JSON.stringify(res.body ?? null);
    } catch {
      return ERROR_OUTCOME;
    }
    headers['content-type'] = JSON_TYPE;
  }
  return { kind: 'response', status, headers, body };
}

/** Audit after the response has gone out, so a refusal adds no latency that "absent" lacks. */
function auditLater(engine: Engine, entry: Parameters<Engine['audit']['record']>[0]): void {
  setImmediate(() => {
    engine.audit.record(entry);
  });
}

const CONTEXT_KEY = Symbol('sluice.gateway.context');
const THREW = Symbol('threw');

/**
 * One invocation's state and its end (response, error, or its deadline): never handed to the
 * handler, which sees only its `Context`.
 */
class Run<S> implements Expiring {
  deadline = 0;
  readonly who: Principal;
  readonly label: Label;
  readonly host: InvokeHost<S>;
  readonly method: string;
  readonly lease: Lease = { open: true };
  unit: UnitContext | undefined;
  #resolve: ((o: Outcome) => void) | undefined;

  constructor(who: Principal, label: Label, host: InvokeHost<S>, method: string) {
    this.who = who;
    this.label = label;
    this.host = host;
    this.method = method;
  }

  get ended(): boolean {
    return !this.lease.open;
  }

  /**
   * Wait for the handler's promise, or for the route's deadline (counted from `started`, when
   * the handler was called), whichever comes first.
   */
  race(p: PromiseLike<unknown>, started: number): Promise<Outcome> {
    const out = new Promise<Outcome>((resolve) => {
      this.#resolve = resolve;
    });
    const d = deadlinesOf(this.host.timeoutMs);
    d.add(this, started);
    // A rejection after the deadline lands here too, and is ignored with the late result.
    Promise.resolve(p).then(
      (r) => {
        this.#settle(r, d);
      },
      () => {
        this.#settle(THREW, d);
      },
    );
    return out;
  }

  #settle(r: unknown, d: Deadlines): void {
    if (!this.lease.open) return; // timed out before
    const o = this.finish(r);
    d.release();
    this.#resolve?.(o);
  }

  /** The deadline passed: the invocation ends now, with `timeout`. */
  expire(): void {
    if (!this.lease.open) return;
    this.#end();
    this.#resolve?.(this.#timedOut());
  }

  /** The handler returned (or threw: `THREW`): check at the boundary; the invocation ends. */
  finish(r: unknown): Outcome {
    let o: Outcome;
    try {
      o = r === THREW ? this.#threw() : this.#boundary(r);
    } catch {
      o = this.#threw();
    }
    this.#end();
    return o;
  }

  #end(): void {
    this.lease.open = false;
    this.unit?.close();
  }

  #boundary(r: unknown): Outcome {
    if (r === TIMED_OUT_RESPONSE) return this.#timedOut();
    if (typeof r !== 'object' || r === null) return ERROR_OUTCOME;
    // The check runs for every response, "not found" included, so all take the same path.
    const res = r as GatewayResponse;
    const label = this.label;
    const clearance = this.who.clearance;
    const out =
      res.label === undefined ? label : label.join(Label.assert(res.label, 'response label'));
    const allowed = out === clearance || out.flowsTo(clearance);
    if (r === NOT_FOUND) return NOT_FOUND_OUTCOME;
    if (!allowed) {
      auditLater(this.host.engine, {
        kind: 'refused-output',
        unit: `gateway/${this.who.name}`,
        op: `response to ${this.method}: sent as not found`,
        from: out.toString(),
        to: clearance.toString(),
      });
      return NOT_FOUND_OUTCOME;
    }
    return serialize(res);
  }

  #timedOut(): Outcome {
    auditLater(this.host.engine, {
      kind: 'unit-error',
      unit: `gateway/${this.who.name}`,
      op: `handler for ${this.method} timed out after ${String(this.host.timeoutMs)} ms`,
      from: this.label.toString(),
    });
    return TIMEOUT_OUTCOME;
  }

  #threw(): Outcome {
    auditLater(this.host.engine, {
      kind: 'unit-error',
      unit: `gateway/${this.who.name}`,
      op: `handler for ${this.method} threw`,
      from: this.label.toString(),
    });
    return ERROR_OUTCOME;
  }
}

/**
 * What the handler gets (frozen; its class and prototype too): the principal's name and the
 * label as fields, the store handle and publish made on first use, all through the invocation's
 * lease. Made only by `invoke`.
 */
class Context<S> implements HandlerContext<S> {
  readonly principal: string;
  readonly label: Label;
  readonly #run: Run<S>;
  #store: { readonly value: S } | undefined;
  #publish: HandlerContext<S>['publish'] | undefined;

  constructor(key: symbol, run: Run<S>) {
    if (key !== CONTEXT_KEY) throw new TypeError('handler contexts are made by the gateway');
    this.principal = run.who.name;
    this.label = run.label;
    this.#run = run;
    Object.freeze(this);
  }

  get store(): S {
    const run = this.#run;
    if (!run.lease.open) throw endedError();
    this.#store ??= { value: revocable(run.host.storeAt(run.label), run.lease) };
    return this.#store.value;
  }

  /** A function of this invocation (it works taken off the context too). */
  get publish(): HandlerContext<S>['publish'] {
    return (this.#publish ??= (topic, parts, options) => this.#doPublish(topic, parts, options));
  }

  #doPublish(
    topic: string,
    parts: Readonly<Record<string, PartValue>>,
    options?: PublishPartsOptions,
  ): boolean {
    const run = this.#run;
    if (!run.lease.open) throw endedError();
    run.unit ??= run.host.engine.unit({
      name: `gateway/${run.who.name}/${String(++unitSeq)}`,
      label: run.label,
      privileges: run.who.privileges,
    });
    const e = run.unit.event();
    for (const [name, value] of Object.entries(parts)) e.add(name, value, options?.label);
    return run.unit.publish(
      topic,
      e,
      options?.presence === undefined ? undefined : { presence: options.presence },
    );
  }

  notFound(): GatewayResponse {
    return NOT_FOUND;
  }
}
Object.freeze(Context.prototype);
Object.freeze(Context);

function isThenable(r: unknown): r is PromiseLike<unknown> {
  return (
    typeof r === 'object' && r !== null && typeof (r as { then?: unknown }).then === 'function'
  );
}

/**
 * Run `handler` for `principal` at `label` (already checked ⊑ the principal's clearance), for at
 * most `host.timeoutMs` (a constant of the route, never chosen by data; one deadline queue per
 * limit, deadlines.ts). The engine unit that publishes is made on first use and closed when the
 * invocation ends; the store handle is made on first use and revoked when the invocation ends
 * (so a handler still running after its timeout, or one that kept the handle, reads and writes
 * nothing more). A handler that throws gives `error`, one that does not finish in time
 * `timeout`, both audited with no detail.
 */
export function invoke<S>(
  handler: Handler<S>,
  req: GatewayRequest,
  principal: Principal,
  label: Label,
  host: InvokeHost<S>,
): Promise<Outcome> {
  const run = new Run<S>(principal, label, host, req.method);
  let r: unknown;
  const started = performance.now();
  try {
    r = handler(req, new Context<S>(CONTEXT_KEY, run));
    if (isThenable(r)) return run.race(r, started);
  } catch {
    r = THREW;
  }
  return Promise.resolve(run.finish(r));
}
