/**
 * Handlers and their invocation. A handler runs at the invocation label, fixed before it starts
 * (the principal's clearance or a lower label the request asked for); it reaches state and the
 * engine only through that label; what it returns is labelled at that label (joined with any
 * label it declares) and checked against the principal's clearance at the boundary. A refused
 * response becomes the canonical "not found".
 */
import type { Engine } from '../engine/engine.js';
import type { UnitContext } from '../engine/unit-context.js';
import { MalformedInputError } from '../errors.js';
import { Label, type PartValue } from '../labels.js';
import type { Principal } from './principals.js';

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
  /** The store seen at the invocation label (the host's `storeAt(label)`). */
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

/** What reaches the wire after the boundary check. */
export type Outcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string | undefined;
    }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'error' };

export interface InvokeHost<S> {
  readonly engine: Engine;
  readonly storeAt: (label: Label) => S;
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

/** Turn a handler's response into wire form, or refuse it at the boundary. */
function serialize(res: GatewayResponse): Outcome {
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) return { kind: 'error' };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    const name = k.toLowerCase();
    if (
      RESERVED.has(name) ||
      !HEADER_NAME.test(name) ||
      typeof v !== 'string' ||
      !HEADER_VALUE.test(v)
    ) {
      return { kind: 'error' };
    }
    headers[name] = v;
  }
  let body: string | undefined;
  if (typeof res.body === 'string' && headers['content-type'] !== undefined) body = res.body;
  else if (res.body !== undefined || status !== 204) {
    try {
      body = JSON.stringify(res.body ?? null);
    } catch {
      return { kind: 'error' };
    }
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  return { kind: 'response', status, headers, body };
}

/**
 * Run `handler` for `principal` at `label` (already checked ⊑ the principal's clearance). The
 * engine unit that publishes is made on first use and closed when the invocation ends; the
 * store view is made on first use. A handler that throws gives `error` (audited as the unit's
 * error, with no detail).
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
  let open = true;
  const ctx: HandlerContext<S> = Object.freeze({
    principal: principal.name,
    label,
    get store(): S {
      if (!open) throw new MalformedInputError('this invocation has ended');
      store ??= { value: host.storeAt(label) };
      return store.value;
    },
    publish(
      topic: string,
      parts: Readonly<Record<string, PartValue>>,
      options?: PublishPartsOptions,
    ) {
      if (!open) throw new MalformedInputError('this invocation has ended');
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
  try {
    const r: unknown = await handler(req, ctx);
    if (r === NOT_FOUND) return { kind: 'not-found' };
    if (typeof r !== 'object' || r === null) return { kind: 'error' };
    const res = r as GatewayResponse;
    const clearance = principal.clearance;
    const out =
      res.label === undefined ? label : label.join(Label.assert(res.label, 'response label'));
    if (out !== clearance && !out.flowsTo(clearance)) {
      host.engine.audit.record({
        kind: 'refused-output',
        unit: `gateway/${principal.name}`,
        op: `response to ${req.method}: sent as not found`,
        from: out.toString(),
        to: clearance.toString(),
      });
      return { kind: 'not-found' };
    }
    return serialize(res);
  } catch {
    host.engine.audit.record({
      kind: 'unit-error',
      unit: `gateway/${principal.name}`,
      op: `handler for ${req.method} threw`,
      from: label.toString(),
    });
    return { kind: 'error' };
  } finally {
    open = false;
    unit?.close();
  }
}
