/**
 * `shim(plain)`: run an existing `(request) => response` function, unchanged, as a gateway
 * handler. It runs at the invocation label like any handler; what it returns is labelled there
 * and checked at the boundary; whatever it throws is a generic 500. Code that used a global
 * store or bus reaches them through `current()`, which gives the store view and publish of the
 * invocation it runs in (AsyncLocalStorage), so the function's body needs no change beyond
 * where it gets its `db` from.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MalformedInputError } from '../errors.js';
import type { GatewayRequest, GatewayResponse, Handler, HandlerContext } from './handler.js';

/** The request a plain function receives (Lambda-style names included). */
export interface PlainRequest extends GatewayRequest {
  readonly httpMethod: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly queryStringParameters: GatewayRequest['query'];
}

/** What a plain function may return: a response (`status` or Lambda's `statusCode`) or a body. */
export type PlainResult =
  | {
      readonly status?: number;
      readonly statusCode?: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: unknown;
    }
  | string
  | undefined;

export type PlainHandler = (request: PlainRequest) => PlainResult | Promise<PlainResult>;

const current$ = new AsyncLocalStorage<HandlerContext<unknown>>();

/** The invocation the calling code runs in (store view and publish at its fixed label). */
export function current<S = unknown>(): HandlerContext<S> {
  const ctx = current$.getStore();
  if (ctx === undefined)
    throw new MalformedInputError('current(): not inside a gateway invocation');
  return ctx as HandlerContext<S>;
}

function isResponseShape(r: object): r is Exclude<PlainResult, string | undefined> {
  return 'status' in r || 'statusCode' in r || 'body' in r;
}

function toResponse(r: PlainResult): GatewayResponse {
  if (r === undefined) return { status: 204 };
  if (typeof r === 'string') {
    return { body: r, headers: { 'content-type': 'text/plain; charset=utf-8' } };
  }
  if (typeof r !== 'object' || !isResponseShape(r)) return { body: r };
  const status = r.status ?? r.statusCode ?? 200;
  const headers = r.headers ?? {};
  let body = r.body;
  const typed = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  // A string body without a content type: JSON if it parses (Lambda handlers stringify their
  // JSON), plain text otherwise.
  if (typeof body === 'string' && !typed) {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return { status, body, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' } };
    }
  }
  return { status, body, headers };
}

/** Wrap a plain `(request) => response` function as a gateway handler. */
export function shim<S = unknown>(plain: PlainHandler): Handler<S> {
  if (typeof plain !== 'function') throw new MalformedInputError('shim takes a function');
  return async (req, ctx) => {
    const request: PlainRequest = Object.freeze({
      ...req,
      httpMethod: req.method,
      pathParameters: req.params,
      queryStringParameters: req.query,
    });
    const r = await current$.run(ctx, () => plain(request));
    return toResponse(r);
  };
}
