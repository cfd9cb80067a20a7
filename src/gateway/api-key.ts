/**
 * API keys: a client sends `<id>.<secret>`; the configuration stores only
 * `scrypt$N$r$p$salt$hash` of the secret (node:crypto scrypt), compared in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConfigError } from '../errors.js';

const KEY_LEN = 32;
/** scrypt cost (N = 2^14, r = 8, p = 1): ≈ 16 MiB and tens of ms per hash. */
const DEFAULT = { N: 16384, r: 8, p: 1 } as const;

interface Cost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

function scryptAsync(secret: string, salt: Buffer, c: Cost): Promise<Buffer> {
  const o: ScryptOptions = { N: c.N, r: c.r, p: c.p, maxmem: 256 * c.r * c.N };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LEN, o, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

/** Parsed form of a stored hash. */
interface StoredHash extends Cost {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(stored: string): StoredHash {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (
    scheme !== 'scrypt' ||
    salt === undefined ||
    hash === undefined ||
    !Number.isInteger(N) ||
    N < 2 ||
    (N & (N - 1)) !== 0 ||
    N > 1 << 20 ||
    !Number.isInteger(R) ||
    R < 1 ||
    R > 32 ||
    !Number.isInteger(P) ||
    P < 1 ||
    P > 16
  ) {
    throw new ConfigError('an API key hash is scrypt$N$r$p$salt$hash with sane parameters');
  }
  const h = Buffer.from(hash, 'base64url');
  if (h.length !== KEY_LEN) throw new ConfigError('an API key hash has the wrong length');
  return { N, r: R, p: P, salt: Buffer.from(salt, 'base64url'), hash: h };
}

/** Hash a new API key secret for the configuration file. */
export async function hashApiKey(secret: string, cost: Cost = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, cost);
  const enc = (b: Buffer) => b.toString('base64url');
  return `scrypt$${String(cost.N)}$${String(cost.r)}$${String(cost.p)}$${enc(salt)}$${enc(key)}`;
}

/** A fresh random API key: `{ id, secret, key }` where `key` = `id.secret` is given to the client. */
export function newApiKey(id: string): { id: string; secret: string; key: string } {
  const secret = randomBytes(24).toString('base64url');
  return { id, secret, key: `${id}.${secret}` };
}

/**
 * Checks presented keys against the stored hashes. An unknown key id costs the same scrypt as a
 * known one (a dummy hash), and hashes are compared with `timingSafeEqual`.
 */
export class ApiKeyVerifier {
  readonly #byId = new Map<string, { principal: string; hash: StoredHash }>();
  readonly #dummy: StoredHash;

  constructor(keys: Iterable<{ id: string; hash: string; principal: string }>) {
    let cost: Cost = DEFAULT;
    for (const k of keys) {
      const hash = parseHash(k.hash);
      this.#byId.set(k.id, { principal: k.principal, hash });
      cost = hash;
    }
    this.#dummy = {
      N: cost.N,
      r: cost.r,
      p: cost.p,
      salt: randomBytes(16),
      hash: randomBytes(KEY_LEN),
    };
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The principal owning `presented` (`id.secret`), or undefined. */
  async verify(presented: string): Promise<string | undefined> {
    const dot = presented.indexOf('.');
    const id = dot > 0 ? presented.slice(0, dot) : '';
    const secret = dot > 0 ? presented.slice(dot + 1) : presented;
    const entry = this.#byId.get(id);
    const h = entry?.hash ?? this.#dummy;
    const got = await scryptAsync(secret, h.salt, h);
    const same = timingSafeEqual(got, h.hash);
    return same && entry !== undefined ? entry.principal : undefined;
  }
}
