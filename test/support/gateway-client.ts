/** Small HTTP helpers for the gateway tests (node's fetch against a real server). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import type { Route } from '../../src/gateway.js';
import type { JsonValue, StoreView } from '../../src/store.js';

export const JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/** The raw gateway config most gateway tests share: alice and bob, each cleared for their own
 * tag, and an uncleared guest, authenticated by JWT_SECRET. */
export const ALICE_BOB_GUEST = {
  tags: ['alice', 'bob'],
  auth: { jwt: { secret: JWT_SECRET } },
  principals: {
    alice: { clearance: { secrecy: ['alice'] } },
    bob: { clearance: { secrecy: ['bob'] } },
    guest: { clearance: {} },
  },
};

export async function hsToken(
  sub: string,
  o: { secret?: string; exp?: string | number; alg?: string } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(new TextEncoder().encode(o.secret ?? JWT_SECRET));
}

export interface Got {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

export async function call(
  url: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<Got> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { ...init, headers, body: body ?? null });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The headers that matter when comparing two responses (not the date). */
export function mattering(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    if (k !== 'date') out[k] = v;
  });
  return out;
}

/** Read SSE `item` events until `end`, `count` items, or `ms` milliseconds. */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  o: { count?: number; ms?: number; onOpen?: () => void | Promise<void> } = {},
): Promise<{ status: number; items: unknown[]; ended: boolean; text?: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), o.ms ?? 3000);
  const res = await fetch(url, { headers, signal: ac.signal });
  if (res.status !== 200 || res.body === null) {
    clearTimeout(timer);
    return { status: res.status, items: [], ended: false, text: await res.text() };
  }
  const items: unknown[] = [];
  let ended = false;
  let buf = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let opened = false;
  try {
    for (;;) {
      const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      if (!opened) {
        opened = true;
        await o.onOpen?.();
      }
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(msg)?.[1];
        const data = /^data: (.*)$/m.exec(msg)?.[1];
        if (ev === 'item' && data !== undefined) items.push(JSON.parse(data));
        if (ev === 'end') ended = true;
      }
      if (ended || (o.count !== undefined && items.length >= o.count)) break;
    }
  } catch {
    // aborted by the timer
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { status: 200, items, ended };
}

/**
 * One request written byte for byte on a raw socket (`Connection: close`), and the response
 * exactly as it came off the wire, with the `Date` line removed (the only part allowed to
 * differ between two responses that must be the same).
 */
export async function raw(
  url: string,
  request: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<string> {
  const { hostname, port } = new URL(url);
  const { connect } = await import('node:net');
  const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, `host: ${hostname}`];
  for (const [k, v] of Object.entries(request.headers ?? {})) lines.push(`${k}: ${v}`);
  if (request.body !== undefined) lines.push(`content-length: ${Buffer.byteLength(request.body)}`);
  lines.push('connection: close', '', request.body ?? '');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(Number(port), hostname, () => s.write(lines.join('\r\n')));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      resolve(
        Buffer.concat(chunks)
          .toString('latin1')
          .replace(/\r\ndate: [^\r]*/i, ''),
      );
    });
  });
}

/** `GET /kv/:k` (the value, or "not found") through the store view at the invocation label. */
export const kvGet: Route<StoreView> = {
  method: 'GET',
  path: '/kv/:k',
  handler: async (req, ctx) => {
    const v = await ctx.store.get(req.params.k ?? '');
    return v === undefined ? ctx.notFound() : { body: { value: v } };
  },
};

/** `PUT /kv/:k` (the JSON body) and `GET /kv/:k`, at the invocation label. */
export const kvRoutes: readonly Route<StoreView>[] = [
  {
    method: 'PUT',
    path: '/kv/:k',
    handler: async (req, ctx) => {
      await ctx.store.put(req.params.k ?? '', req.body as JsonValue);
      return { status: 204 };
    },
  },
  kvGet,
];

/** `sluice serve ARGS --port 0` in a child process; resolves with its URL once it listens. */
export async function startServe(
  args: readonly string[],
): Promise<{ readonly url: string; readonly child: ChildProcessWithoutNullStreams }> {
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'serve', ...args, '--port', '0']);
  child.stdin.end();
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`exited: ${out}`)));
    });
    return { url, child };
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
}
