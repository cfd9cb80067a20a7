/**
 * Who is calling: a bearer JWT (verified with `jose`: HS256 with the configured secret, or the
 * configured public key's algorithm; `sub` names the principal, `exp` is required) or an API key
 * (`x-api-key: <id>.<secret>`, checked against scrypt hashes). Absent, expired, forged and
 * ambiguous credentials are a GatewayError 401.
 */
import { createHash } from 'node:crypto';
import {
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyOptions,
} from 'jose';
import { ConfigError } from '../errors.js';
import { ApiKeyVerifier } from './api-key.js';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './http-error.js';
import type { Principal } from './principals.js';

type Verifier = (token: string) => Promise<string>;

function unauthenticated(message: string): GatewayError {
  return new GatewayError(401, 'unauthenticated', message);
}

/** Verified API keys (by SHA-256 of the key): scrypt runs once per key, not once per request. */
const CACHE_LIMIT = 1024;

export class Authenticator {
  readonly #principals: ReadonlyMap<string, Principal>;
  readonly #jwt: Verifier[];
  readonly #keys: ApiKeyVerifier;
  readonly #keyCache = new Map<string, string>();

  private constructor(
    principals: ReadonlyMap<string, Principal>,
    jwt: Verifier[],
    keys: ApiKeyVerifier,
  ) {
    this.#principals = principals;
    this.#jwt = jwt;
    this.#keys = keys;
  }

  static async create(
    config: GatewayConfig,
    principals: ReadonlyMap<string, Principal>,
  ): Promise<Authenticator> {
    const jwt: Verifier[] = [];
    const j = config.auth.jwt;
    if (j !== undefined) {
      const base: JWTVerifyOptions = {
        requiredClaims: ['exp', 'sub'],
        clockTolerance: j.clockToleranceSeconds,
        ...(j.issuer === undefined ? {} : { issuer: j.issuer }),
        ...(j.audience === undefined ? {} : { audience: j.audience }),
      };
      if (j.secret !== undefined) {
        // Imported once as a CryptoKey: given raw bytes, jose imports the key on every verify.
        const key = await crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(j.secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['verify'],
        );
        jwt.push(verifier(key, { ...base, algorithms: ['HS256'] }));
      }
      if (j.publicKey !== undefined) {
        let key: CryptoKey;
        try {
          key = await importSPKI(j.publicKey, j.publicKeyAlgorithm);
        } catch {
          throw new ConfigError(
            `auth.jwt.publicKey: not a ${j.publicKeyAlgorithm} public key in SPKI PEM form`,
          );
        }
        jwt.push(verifier(key, { ...base, algorithms: [j.publicKeyAlgorithm] }));
      }
    }
    const keys = new ApiKeyVerifier(
      Object.entries(config.principals).flatMap(([principal, p]) =>
        p.apiKeys.map((k) => ({ id: k.id, hash: k.hash, principal })),
      ),
    );
    return new Authenticator(principals, jwt, keys);
  }

  /** The principal of a request, from its headers; GatewayError 401 otherwise. */
  async authenticate(
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): Promise<Principal> {
    const auth = headers.authorization;
    const apiKey = headers['x-api-key'];
    if (Array.isArray(auth) || Array.isArray(apiKey)) throw unauthenticated('repeated credentials');
    if (auth !== undefined && apiKey !== undefined) {
      throw unauthenticated('send a bearer token or an API key, not both');
    }
    let name: string | undefined;
    if (auth !== undefined) {
      const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(auth);
      if (m === null) throw unauthenticated('the Authorization header is not a bearer token');
      name = await this.#verifyJwt(m[1] ?? '');
    } else if (apiKey !== undefined) {
      name = await this.#verifyKey(apiKey);
    } else {
      throw unauthenticated('credentials are required');
    }
    const p = this.#principals.get(name);
    if (p === undefined) throw unauthenticated('unknown principal');
    return p;
  }

  async #verifyJwt(token: string): Promise<string> {
    if (this.#jwt.length === 0) throw unauthenticated('bearer tokens are not accepted here');
    let expired = false;
    for (const v of this.#jwt) {
      try {
        return await v(token);
      } catch (e) {
        if (e instanceof joseErrors.JWTExpired) expired = true;
      }
    }
    throw unauthenticated(expired ? 'the token has expired' : 'the token is not valid');
  }

  async #verifyKey(key: string): Promise<string> {
    if (key.length === 0 || key.length > 256) throw unauthenticated('the API key is not valid');
    const digest = createHash('sha256').update(key).digest('base64url');
    const cached = this.#keyCache.get(digest);
    if (cached !== undefined) return cached;
    const name = this.#keys.size === 0 ? undefined : await this.#keys.verify(key);
    if (name === undefined) throw unauthenticated('the API key is not valid');
    if (this.#keyCache.size >= CACHE_LIMIT) this.#keyCache.clear();
    this.#keyCache.set(digest, name);
    return name;
  }
}

function verifier(key: CryptoKey, options: JWTVerifyOptions): Verifier {
  return async (token) => {
    const { payload } = await jwtVerify(token, key, options);
    if (typeof payload.sub !== 'string') throw new Error('no subject');
    return payload.sub;
  };
}
