import { createHmac, randomBytes } from 'node:crypto';
import { MalformedInputError } from './errors.js';

/** Only this module can mint tags; `new Tag(...)` from outside fails the key check. */
const MINT_KEY = Symbol('sluice.tag.mint');

/** Every tag of this process, by dense index (for bitset-free sorted arrays) and by id. */
const byIndex: Tag[] = [];
const byId = new Map<string, Tag>();

let indexOfTag: (t: Tag) => number;

const NAME_RE = /^[\p{L}\p{N}_.:@/-]{1,128}$/u;
const ID_RE = /^[0-9a-f]{32}$/;

/**
 * A tag: an unforgeable identity (random 128-bit id plus a display name). Tags are interned:
 * one object per id in the process, so identity is equality.
 */
export class Tag {
  readonly #id: string;
  readonly #name: string;
  readonly #index: number;

  constructor(key: symbol, id: string, name: string) {
    if (key !== MINT_KEY)
      throw new MalformedInputError('tags are created by createTag, not constructed');
    this.#id = id;
    this.#name = name;
    this.#index = byIndex.length;
    byIndex.push(this);
    byId.set(id, this);
    Object.freeze(this);
  }

  static {
    indexOfTag = (t) => t.#index;
  }

  /** The random 128-bit id, as 32 hex digits. Not a secret: privileges are. */
  get id(): string {
    return this.#id;
  }

  /** The display name given at creation (not unique). */
  get name(): string {
    return this.#name;
  }

  toString(): string {
    return `${this.#name}#${this.#id.slice(0, 6)}`;
  }

  toJSON(): { id: string; name: string } {
    return { id: this.#id, name: this.#name };
  }

  /** True for genuine tags only (brand check: forged objects and proxies fail). */
  static isTag(x: unknown): x is Tag {
    return typeof x === 'object' && x !== null && #id in x;
  }

  /** Resolve a serialized tag (`{id, name}` or an id) to this process's tag; unknown ids are refused. */
  static fromJSON(x: unknown): Tag {
    const id = typeof x === 'string' ? x : (x as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !ID_RE.test(id)) {
      throw new MalformedInputError('a serialized tag is {id, name} with a 32-hex-digit id');
    }
    const t = byId.get(id);
    if (t === undefined)
      throw new MalformedInputError(`unknown tag ${id.slice(0, 6)}`, 'E_UNKNOWN_TAG');
    return t;
  }
}
// Unit code holds these classes (sluice/labels): frozen, so patching them cannot change a check.
Object.freeze(Tag.prototype);
Object.freeze(Tag);

/** Mint a fresh tag. Trusted: callers must hand out the creator's privileges with it. */
export function mintTagTCB(name: string): Tag {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new MalformedInputError('a tag name is 1-128 letters, digits or _ . : @ / - characters');
  }
  return new Tag(MINT_KEY, randomBytes(16).toString('hex'), name);
}

/** Bytes of a derivation seed (a secret: whoever holds it holds every tag derived from it). */
export const SEED_BYTES = 32;

/**
 * The tag derived from `seed` for `context`: its id is HMAC-SHA256(seed, context) cut to 128
 * bits, so the same seed and context give the same tag in every process (state kept in a store
 * stays readable after a restart), and no one without the seed can make, or guess, such an id.
 * A tag already interned with that id is returned as is. Trusted: callers hand out the
 * privileges on the result, and the seed is the authority for them.
 */
export function deriveTagTCB(seed: Uint8Array, context: string, name: string): Tag {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    throw new MalformedInputError(`a tag seed is ${String(SEED_BYTES)} bytes`);
  }
  if (typeof context !== 'string' || context.length === 0) {
    throw new MalformedInputError('a tag derivation context is a non-empty string');
  }
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new MalformedInputError('a tag name is 1-128 letters, digits or _ . : @ / - characters');
  }
  const id = createHmac('sha256', seed)
    .update(`sluice-tag\u0000${context}`)
    .digest('hex')
    .slice(0, 32);
  return byId.get(id) ?? new Tag(MINT_KEY, id, name);
}

/** The dense index of a genuine tag; throws a clear error for anything else. */
export function tagIndex(t: unknown): number {
  if (!Tag.isTag(t)) throw new MalformedInputError('not a tag (tags cannot be forged)');
  return indexOfTag(t);
}

/** The tag at a dense index (indices come only from tagIndex). */
export function tagAt(i: number): Tag {
  return byIndex[i] as Tag;
}
