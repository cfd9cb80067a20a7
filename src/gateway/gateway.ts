/**
 * The HTTP gateway: authenticates principals, fixes each invocation's label, runs handlers
 * through that label only, checks what they return at the boundary, and streams pipeline
 * output over SSE.
 *
 * Built on Fastify 5 rather than Hono: its body parser enforces a byte limit before parsing,
 * refuses `__proto__`/`constructor` poisoning, and answers unknown content types with 415, so
 * all bad input is refused by a maintained library before our code (or a handler) sees it; its
 * per-route `onRequest` hook lets us authenticate before the body is read at all.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Engine, type TagGrant } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { Label, type Tag } from '../labels.js';
import { Authenticator } from './authenticator.js';
import type { GatewayConfig } from './config.js';
import { invoke, type GatewayRequest, type Handler, type InvokeHost } from './handler.js';
import { IsolatedHandler, type HandlerCode } from './handler-code.js';
import {
  clientErrorHandler,
  describeRequestError,
  GatewayError,
  sendError,
  sendNotFound,
  UNAUTHENTICATED,
} from './http-error.js';
import { InvocationLabels, LABEL_HEADER } from './invocation-label.js';
import { buildPrincipals, createTags, type Principal } from './principals.js';
import { clearedStream, sendSse, type StreamRoute } from './sse.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RouteBase {
  readonly method: Method;
  /** A Fastify path (`/records/:id`). */
  readonly path: string;
  /** Milliseconds this route's handler may run (default: `server.handlerTimeoutMs`). */
  readonly timeoutMs?: number;
}

/**
 * A route: an in-process `handler` (a function of the host's own, trusted code: it runs on
 * the gateway's thread with the host's authority), or handler `code` run isolated (an ES
 * module in an SES compartment, tier 0, or a worker thread, tier 1; handler-code.ts).
 */
export type Route<S> =
  | (RouteBase & { readonly handler: Handler<S>; readonly code?: undefined })
  | (RouteBase & { readonly code: HandlerCode; readonly handler?: undefined });

export interface GatewayOptions<S> {
  /** A validated configuration (`parseConfig` / `loadConfig`). */
  readonly config: GatewayConfig;
  /** The store as seen at a label: a handler invoked at L gets `storeAt(L)` and nothing else. */
  readonly storeAt: (label: Label) => S;
  /** The engine handlers publish on (default: a new one). */
  readonly engine?: Engine;
  /** Tags the host already created, by name; the configuration's other tags are created here. */
  readonly tags?: ReadonlyMap<string, TagGrant>;
  readonly routes?: readonly Route<S>[];
  readonly streams?: readonly StreamRoute[];
}

interface Invocation {
  readonly principal: Principal;
  readonly label: Label;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'cookie']);
/** Where `onRequest` leaves the invocation for the route (a request decoration, not a WeakMap). */
const INVOCATION = Symbol('sluice.gateway.invocation');
type Authenticated = FastifyRequest & { [INVOCATION]: Invocation | null };
/** The `params` or `query` of a request that has none (frozen, so sharing it shares nothing). */
const NONE: Readonly<Record<string, never>> = Object.freeze({});

// Plain loops rather than Object.entries: these run on every request.
function copyHeaders(h: FastifyRequest['headers']): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || !Object.hasOwn(h, k) || CREDENTIAL_HEADERS.has(k)) continue;
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return Object.freeze(headers);
}

function copyQuery(q: unknown): GatewayRequest['query'] {
  let query: Record<string, string | readonly string[]> | undefined;
  const from = q as Record<string, string | string[]> | undefined;
  for (const k in from) {
    if (!Object.hasOwn(from, k)) continue;
    const v = from[k] as string | string[];
    query ??= {};
    query[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
  }
  return query === undefined ? NONE : Object.freeze(query);
}

function copyParams(p: unknown): GatewayRequest['params'] {
  let params: Record<string, string> | undefined;
  const from = p as Record<string, string> | undefined;
  for (const k in from) {
    if (!Object.hasOwn(from, k)) continue;
    params ??= {};
    params[k] = from[k] as string;
  }
  return params === undefined ? NONE : Object.freeze(params);
}

function toGatewayRequest(r: FastifyRequest): GatewayRequest {
  const url = r.url;
  const qm = url.indexOf('?');
  return Object.freeze({
    method: r.method,
    path: qm < 0 ? url : url.slice(0, qm),
    params: copyParams(r.params),
    query: copyQuery(r.query),
    headers: copyHeaders(r.headers),
    body: r.body,
  });
}

export class Gateway<S> {
  readonly engine: Engine;
  readonly #app: FastifyInstance;
  readonly #tags: ReadonlyMap<string, TagGrant>;
  readonly #principals: ReadonlyMap<string, Principal>;
  readonly #auth: Authenticator;
  readonly #labels: InvocationLabels;
  readonly #storeAt: (label: Label) => S;
  readonly #timeoutMs: number;
  readonly #isolated: IsolatedHandler<S>[] = [];
  #url: string | undefined;

  private constructor(
    o: GatewayOptions<S>,
    engine: Engine,
    tags: ReadonlyMap<string, TagGrant>,
    principals: ReadonlyMap<string, Principal>,
    auth: Authenticator,
  ) {
    this.engine = engine;
    this.#tags = tags;
    this.#principals = principals;
    this.#auth = auth;
    this.#labels = new InvocationLabels(tags);
    this.#storeAt = o.storeAt;
    this.#timeoutMs = o.config.server.handlerTimeoutMs;
    this.#app = Fastify({
      logger: false,
      bodyLimit: o.config.server.bodyLimit,
      onProtoPoisoning: 'error',
      onConstructorPoisoning: 'error',
      forceCloseConnections: true,
      return503OnClosing: true,
      clientErrorHandler,
    });
    this.#app.removeContentTypeParser('text/plain');
    this.#app.decorateRequest(INVOCATION, null);
    this.#app.setNotFoundHandler((_req, reply) => sendNotFound(reply));
    this.#app.setErrorHandler((err, _req, reply) => {
      const d = describeRequestError(err);
      return sendError(reply, d.status, d.code, d.message, d.status === 401 ? UNAUTHENTICATED : {});
    });
    this.#app.get('/_sluice/health', (_req, reply) => reply.send({ status: 'ok' }));
    this.route({
      method: 'GET',
      path: '/_sluice/whoami',
      handler: (_req, ctx) => ({
        body: {
          principal: ctx.principal,
          label: {
            secrecy: ctx.label.secrecy.map((t) => t.name),
            integrity: ctx.label.integrity.map((t) => t.name),
          },
        },
      }),
    });
    for (const r of o.routes ?? []) this.route(r);
    for (const s of o.streams ?? []) this.stream(s);
  }

  /** Build a gateway: tags, principals and authentication from the configuration. */
  static async create<S>(o: GatewayOptions<S>): Promise<Gateway<S>> {
    if (typeof o.storeAt !== 'function') throw new ConfigError('the gateway needs storeAt(label)');
    const engine = o.engine ?? new Engine();
    const tags = createTags(engine, o.config.tags, o.tags);
    const principals = buildPrincipals(o.config, tags);
    const auth = await Authenticator.create(o.config, principals);
    const gw = new Gateway(o, engine, tags, principals, auth);
    await Promise.all(gw.#isolated.map((h) => h.prepare()));
    return gw;
  }

  /** A configured tag by name (for the host to label its data). */
  tag(name: string): Tag {
    const t = this.#tags.get(name);
    if (t === undefined) throw new ConfigError(`no tag named '${name}'`);
    return t.tag;
  }

  /** A label from tag names. */
  label(spec: { secrecy?: readonly string[]; integrity?: readonly string[] }): Label {
    return Label.of({
      secrecy: (spec.secrecy ?? []).map((n) => this.tag(n)),
      integrity: (spec.integrity ?? []).map((n) => this.tag(n)),
    });
  }

  /** A principal's clearance (for the host and tests). */
  clearanceOf(principal: string): Label | undefined {
    return this.#principals.get(principal)?.clearance;
  }

  /** Authenticate and fix the invocation label; runs before the body is read. */
  readonly #onRequest = async (req: FastifyRequest): Promise<void> => {
    const principal = await this.#auth.authenticate(req.headers);
    const h = req.headers[LABEL_HEADER];
    const label = this.#labels.labelFor(principal, Array.isArray(h) ? h.join(';') : h);
    if (label === undefined) {
      throw new GatewayError(
        403,
        'label_not_permitted',
        'the requested label is not within your clearance',
      );
    }
    (req as Authenticated)[INVOCATION] = { principal, label };
  };

  #invocation(req: FastifyRequest): Invocation {
    const inv = (req as Authenticated)[INVOCATION];
    if (inv === null) throw new ConfigError('request reached a route without authentication');
    return inv;
  }

  /** Add a handler route (before `listen`). */
  route(r: Route<S>): this {
    const timeoutMs = r.timeoutMs ?? this.#timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
      throw new ConfigError(`route ${r.path}: timeoutMs is an integer from 1 to 600000`);
    }
    const host: InvokeHost<S> = { engine: this.engine, storeAt: this.#storeAt, timeoutMs };
    let handler: Handler<S>;
    if (r.code !== undefined) {
      const where = `route ${r.method} ${r.path}: code`;
      const isolated = new IsolatedHandler<S>(r.code, { tags: this.#tags, timeoutMs }, where);
      this.#isolated.push(isolated);
      handler = isolated.handler;
    } else handler = r.handler;
    this.#app.route({
      method: r.method,
      url: r.path,
      onRequest: this.#onRequest,
      handler: async (request, reply) => {
        const { principal, label } = this.#invocation(request);
        const out = await invoke(handler, toGatewayRequest(request), principal, label, host);
        if (out.kind === 'not-found') return sendNotFound(reply);
        if (out.kind === 'error') return sendError(reply, 500, 'internal', 'internal error');
        if (out.kind === 'timeout') {
          return sendError(reply, 504, 'timeout', 'the handler did not finish in time');
        }
        reply.code(out.status).headers(out.headers);
        return reply.send(out.body);
      },
    });
    return this;
  }

  /** Add an SSE route (before `listen`). */
  stream<T>(s: StreamRoute<T>): this {
    this.#app.get(s.path, { onRequest: this.#onRequest }, async (request, reply) => {
      const { label } = this.#invocation(request);
      const items = clearedStream(s, label, this.engine);
      if (items === undefined) return sendNotFound(reply);
      reply.hijack();
      await sendSse(reply.raw, items, s.heartbeatMs);
      return reply;
    });
    return this;
  }

  /** Start listening; resolves with the base URL (`http://host:port`). */
  async listen(options: { port?: number; host?: string } = {}): Promise<string> {
    const address = await this.#app.listen({
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
    });
    this.#url = address;
    return address;
  }

  get url(): string | undefined {
    return this.#url;
  }

  /** Stop accepting requests and close open connections (SSE streams end). */
  async close(): Promise<void> {
    await this.#app.close();
    for (const h of this.#isolated) h.close();
  }
}
