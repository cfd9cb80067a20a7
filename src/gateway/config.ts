/**
 * The gateway's configuration file: tags, how principals authenticate, and each principal's
 * clearance and privileges. Validated with zod at start; every problem is reported with the
 * path of the offending field (e.g. `principals.alice.clearance.secrecy[0]: unknown tag 'x'`).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const tagName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a tag name is 1-64 letters, digits or _ . : -');

/** `name+`, `name-`, `name+auth`, `name-auth`. */
export const PRIVILEGE_RE = /^([A-Za-z0-9_.:-]{1,64})(\+|-|\+auth|-auth)$/;

const labelSpec = z.strictObject({
  secrecy: z.array(tagName).default([]),
  integrity: z.array(tagName).default([]),
});

const apiKey = z.strictObject({
  /** The public part of the key (`<id>.<secret>` is what a client sends). */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a key id is 1-64 letters, digits, _ or -'),
  /** `scrypt$N$r$p$salt$hash` as made by `hashApiKey` (never the key itself). */
  hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=_-]+\$[A-Za-z0-9+/=_-]+$/, {
    message: 'an API key hash is scrypt$N$r$p$salt$hash (see hashApiKey)',
  }),
});

const principal = z.strictObject({
  clearance: labelSpec,
  privileges: z
    .array(
      z.string().regex(PRIVILEGE_RE, 'a privilege is <tag>+, <tag>-, <tag>+auth or <tag>-auth'),
    )
    .default([]),
  apiKeys: z.array(apiKey).default([]),
});

const jwt = z
  .strictObject({
    /** HS256 shared secret (at least 32 characters). */
    secret: z.string().min(32, 'an HS256 secret needs at least 32 characters').optional(),
    /** A PEM public key (SPKI) for asymmetric tokens. */
    publicKey: z.string().startsWith('-----BEGIN PUBLIC KEY-----').optional(),
    /** The algorithm of `publicKey` (default RS256). */
    publicKeyAlgorithm: z
      .enum(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'])
      .default('RS256'),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    /** Seconds of clock skew accepted on `exp`/`nbf` (default 5). */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
  })
  .refine((j) => j.secret !== undefined || j.publicKey !== undefined, {
    message: 'jwt needs a secret (HS256) or a publicKey',
  });

/** How a code route's handler runs; fields as in the serve configuration's routes. */
export const handlerOptionsSchema = z.strictObject({
  /** 0: an SES compartment in the gateway's thread (fast); 1: a worker thread (CPU, heap limits). */
  tier: z.union([z.literal(0), z.literal(1)]).default(0),
  /** One instance per invocation label (module state kept at that label), or per invocation. */
  instances: z.enum(['label', 'invocation']).default('label'),
  /** Tier 1: CPU (ms) the handler's worker may use without its thread coming free. */
  cpuMs: z.number().int().min(1).max(600_000).default(1000),
  /** Tier 1: the worker's heap (MB). */
  memoryMb: z.number().int().min(8).max(4096).default(64),
  /** Labels (instances) kept per route; the least recently invoked is dropped first. */
  maxInstances: z.number().int().min(1).max(100_000).default(64),
});

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A route whose handler is an ES module file, run isolated (handler-code.ts). */
const routeSpec = handlerOptionsSchema.extend({
  method: z.enum(methods),
  /** A Fastify path (`/records/:patient`). */
  path: z.string().startsWith('/'),
  /** The handler's ES module (path relative to this file): `export default (req, ctx) => …`. */
  module: z.string().min(1),
  /** Milliseconds the handler may run (default: `server.handlerTimeoutMs`). */
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Largest request body accepted, in bytes (default 64 KiB). */
        bodyLimit: z
          .number()
          .int()
          .min(1)
          .max(64 * 1024 * 1024)
          .default(65536),
        /** Milliseconds a handler may run before the request ends with 504 (default 10 s). */
        handlerTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
      })
      .prefault({}),
    /** Tags the host creates at start, by name. */
    tags: z.array(tagName).default([]),
    auth: z.strictObject({ jwt: jwt.optional() }).prefault({}),
    principals: z.record(
      z
        .string()
        .regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'a principal name is 1-128 of A-Z a-z 0-9 _ . @ -'),
      principal,
    ),
    /** An ES module (path relative to this file) whose default export defines the app. */
    app: z.string().min(1).optional(),
    /** Routes whose handlers are ES module files, run isolated (read by `sluice serve`). */
    routes: z.array(routeSpec).default([]),
  })
  .superRefine((c, ctx) => {
    const known = new Set(c.tags);
    c.tags.forEach((t, i) => {
      if (c.tags.indexOf(t) !== i)
        ctx.addIssue({ code: 'custom', path: ['tags', i], message: `duplicate tag '${t}'` });
    });
    const keyIds = new Map<string, string>();
    for (const [name, p] of Object.entries(c.principals)) {
      for (const part of ['secrecy', 'integrity'] as const) {
        p.clearance[part].forEach((t, i) => {
          if (!known.has(t)) {
            ctx.addIssue({
              code: 'custom',
              path: ['principals', name, 'clearance', part, i],
              message: `unknown tag '${t}' (declare it in "tags")`,
            });
          }
        });
      }
      p.privileges.forEach((priv, i) => {
        const t = PRIVILEGE_RE.exec(priv)?.[1];
        if (t !== undefined && !known.has(t)) {
          ctx.addIssue({
            code: 'custom',
            path: ['principals', name, 'privileges', i],
            message: `unknown tag '${t}' (declare it in "tags")`,
          });
        }
      });
      p.apiKeys.forEach((k, i) => {
        const other = keyIds.get(k.id);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['principals', name, 'apiKeys', i, 'id'],
            message: `API key id '${k.id}' is also used by principal '${other}'`,
          });
        }
        keyIds.set(k.id, name);
      });
    }
    if (Object.keys(c.principals).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['principals'], message: 'no principals configured' });
    }
  });

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
export type PrincipalConfig = GatewayConfig['principals'][string];

/** Validate a parsed configuration; ConfigError lists every problem with its path. */
export function parseConfig(raw: unknown, source = 'gateway config'): GatewayConfig {
  const r = configSchema.safeParse(raw);
  if (r.success) return r.data;
  throw ConfigError.fromIssues(source, r.error.issues);
}

/** Read and validate a JSON configuration file. */
export async function loadConfig(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError(`cannot read the gateway config file ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const why = e instanceof SyntaxError ? `: ${e.message}` : '';
    throw new ConfigError(`${file} is not valid JSON${why}`);
  }
  return parseConfig(raw, file);
}
