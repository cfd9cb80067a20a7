/**
 * Handlers and their invocation. A handler runs at the invocation label, fixed before it starts
 * (the principal's clearance or a lower label the request asked for); it reaches state and the
 * engine only through that label; what it returns is labelled at that label (joined with any
 * label it declares) and checked against the principal's clearance at the boundary. A refused
 * response becomes the canonical "not found".
 */
import type { Engine } from '../engine/engine.js';
import type { UnitContext } from '../engine/unit-context.js';
import { Label, type PartValue } from '../labels.js';
import type { Principal } from './principals.js';
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
const TIMED_OUT = Symbol('timed out');

/** Turn a handler's response into wire form, or refuse it at the boundary. */
function serialize(res: GatewayResponse): Outcome {
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) return ERROR_OUTCOME;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
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
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  return { kind: 'response', status, headers, body };
}

/** Audit after the response has gone out, so a refusal adds no latency that "absent" lacks. */
function auditLater(engine: Engine, entry: Parameters<Engine['audit']['record']>[0]): void {
  setImmediate(() => {
    engine.audit.record(entry);
  });
}

/**
 * Run `handler` for `principal` at `label` (already checked ⊑ the principal's clearance), for at
 * most `host.timeoutMs` (a constant of the route, never chosen by data). The engine unit that
 * publishes is made on first use and closed when the invocation ends; the store handle is made
 * on first use and revoked when the invocation ends (so a handler still running after its
 * timeout, or one that kept the handle, reads and writes nothing more). A handler that throws
 * gives `error`, one that does not finish in time `timeout`, both audited with no detail.
 */
export async function invoke<S>(
  handler: Handler<S>,
  req: GatewayRequest,
  principal: Principal,
  label: Label,
  host: InvokeHost<S>,
): Promise<Outcome> {
  let unit: UnitContext | undefined;
  let store: { value: S } | undefined;
  const lease: Lease = { open: true };
  const ctx: HandlerContext<S> = Object.freeze({
    principal: principal.name,
    label,
    get store(): S {
      if (!lease.open) throw endedError();
      store ??= { value: revocable(host.storeAt(label), lease) };
      return store.value;
    },
    publish(
      topic: string,
      parts: Readonly<Record<string, PartValue>>,
      options?: PublishPartsOptions,
    ) {
      if (!lease.open) throw endedError();
      unit ??= host.engine.unit({
        name: `gateway/${principal.name}/${String(++unitSeq)}`,
        label,
        privileges: principal.privileges,
      });
      const e = unit.event();
      for (const [name, value] of Object.entries(parts)) e.add(name, value, options?.label);
      return unit.publish(
        topic,
        e,
        options?.presence === undefined ? undefined : { presence: options.presence },
      );
    },
    notFound: () => NOT_FOUND,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(resolve, host.timeoutMs, TIMED_OUT);
      // A rejection after the deadline lands here too, and is ignored with the late result.
      Promise.resolve(req)
        .then((q) => handler(q, ctx))
        .then(resolve, reject);
    });
    if (r === TIMED_OUT || r === TIMED_OUT_RESPONSE) {
      auditLater(host.engine, {
        kind: 'unit-error',
        unit: `gateway/${principal.name}`,
        op: `handler for ${req.method} timed out after ${String(host.timeoutMs)} ms`,
        from: label.toString(),
      });
      return TIMEOUT_OUTCOME;
    }
    if (typeof r !== 'object' || r === null) return ERROR_OUTCOME;
    // The check runs for every response, "not found" included, so all take the same path.
    const res = r as GatewayResponse;
    const clearance = principal.clearance;
    const out =
      res.label === undefined ? label : label.join(Label.assert(res.label, 'response label'));
    const allowed = out === clearance || out.flowsTo(clearance);
    if (r === NOT_FOUND) return NOT_FOUND_OUTCOME;
    if (!allowed) {
      auditLater(host.engine, {
        kind: 'refused-output',
        unit: `gateway/${principal.name}`,
        op: `response to ${req.method}: sent as not found`,
        from: out.toString(),
        to: clearance.toString(),
      });
      return NOT_FOUND_OUTCOME;
    }
    return serialize(res);
  } catch {
    auditLater(host.engine, {
      kind: 'unit-error',
      unit: `gateway/${principal.name}`,
      op: `handler for ${req.method} threw`,
      from: label.toString(),
    });
    return ERROR_OUTCOME;
  } finally {
    clearTimeout(timer);
    lease.open = false;
    unit?.close();
  }
}
