import { InsufficientPrivilegeError, MalformedInputError } from './errors.js';
import { deriveTagTCB, mintTagTCB, tagAt, tagIndex, type Tag } from './tag.js';

const MINT_KEY = Symbol('sluice.privilege.mint');

/** `t+` adds t to a label, `t-` removes it; the auths may grant those (and themselves) onward. */
export type PrivilegeKind = 'plus' | 'minus' | 'plus-auth' | 'minus-auth';
const KINDS: readonly PrivilegeKind[] = ['plus', 'minus', 'plus-auth', 'minus-auth'];
const SUFFIX = { plus: '+', minus: '-', 'plus-auth': '+auth', 'minus-auth': '-auth' } as const;

/**
 * A privilege is a capability: it cannot be constructed outside this module, copied into a
 * working privilege (clones lose the private brand), or serialized (toJSON throws).
 */
export class Privilege {
  readonly #tag: Tag;
  readonly #kind: PrivilegeKind;

  constructor(key: symbol, tag: Tag, kind: PrivilegeKind) {
    if (key !== MINT_KEY) throw new MalformedInputError('privileges cannot be constructed');
    this.#tag = tag;
    this.#kind = kind;
    Object.freeze(this);
  }

  get tag(): Tag {
    return this.#tag;
  }

  get kind(): PrivilegeKind {
    return this.#kind;
  }

  toString(): string {
    return `${this.#tag.toString()}${SUFFIX[this.#kind]}`;
  }

  /** A privilege never leaves the process as data. */
  toJSON(): never {
    throw new MalformedInputError('privileges cannot be serialized');
  }

  static isPrivilege(x: unknown): x is Privilege {
    return typeof x === 'object' && x !== null && #tag in x;
  }
}
// Unit code holds these classes (sluice/labels): frozen, so patching them cannot change a check.
Object.freeze(Privilege.prototype);
Object.freeze(Privilege);

function add(a: Int32Array, x: number): Int32Array {
  if (a.includes(x)) return a;
  return Int32Array.from([...a, x]).sort();
}

/**
 * An immutable set of privileges, held by the engine for a unit. Built only from genuine
 * privileges or by an audited grant; never handed to unit code. Each kind is a sorted array of
 * tag indices in its own field, so the checks read it without a keyed lookup.
 */
export class PrivilegeSet {
  readonly #plus: Int32Array;
  readonly #minus: Int32Array;
  readonly #plusAuth: Int32Array;
  readonly #minusAuth: Int32Array;

  /** The empty set. */
  static get empty(): PrivilegeSet {
    return EMPTY_SET;
  }

  constructor(key: symbol, sets: readonly [Int32Array, Int32Array, Int32Array, Int32Array]) {
    if (key !== MINT_KEY) throw new MalformedInputError('privilege sets cannot be constructed');
    [this.#plus, this.#minus, this.#plusAuth, this.#minusAuth] = sets;
    Object.freeze(this);
  }

  /** A set from genuine privilege objects; a forged or cloned object is refused. */
  static from(privileges: Iterable<unknown>): PrivilegeSet {
    return PrivilegeSet.empty.withAll(privileges);
  }

  /** This set plus genuine privilege objects; a forged or cloned object is refused. */
  withAll(privileges: Iterable<unknown>): PrivilegeSet {
    if (
      typeof (privileges as Partial<Iterable<unknown>> | null)?.[Symbol.iterator] !== 'function'
    ) {
      throw new MalformedInputError('privileges are given as an iterable of privilege objects');
    }
    const genuine = Array.from(privileges, (p) => {
      if (!Privilege.isPrivilege(p)) {
        throw new MalformedInputError('not a privilege (privileges cannot be forged or copied)');
      }
      return p;
    });
    return genuine.reduce<PrivilegeSet>((set, p) => set.#with(p.kind, tagIndex(p.tag)), this);
  }

  #sets(): [Int32Array, Int32Array, Int32Array, Int32Array] {
    return [this.#plus, this.#minus, this.#plusAuth, this.#minusAuth];
  }

  #with(kind: PrivilegeKind, t: number): PrivilegeSet {
    const sets = this.#sets();
    const k = KINDS.indexOf(kind);
    const cur = sets[k] as Int32Array;
    const next = add(cur, t);
    if (next === cur) return this;
    sets[k] = next;
    return new PrivilegeSet(MINT_KEY, sets);
  }

  static isPrivilegeSet(x: unknown): x is PrivilegeSet {
    return typeof x === 'object' && x !== null && #plus in x;
  }

  has(kind: PrivilegeKind, tag: Tag): boolean {
    return this.indicesTCB(kind).includes(tagIndex(tag));
  }

  /** Trusted: the sorted tag indices held for `kind` (for the checks; never hand out). */
  indicesTCB(kind: PrivilegeKind): Int32Array {
    return this.#sets()[KINDS.indexOf(kind)] as Int32Array;
  }

  /** Trusted, hot path: tags held with `t+`. */
  plusTCB(): Int32Array {
    return this.#plus;
  }

  /** Trusted, hot path: tags held with `t-`. */
  minusTCB(): Int32Array {
    return this.#minus;
  }

  /** Human-readable list, e.g. `alice#1a2b3c+`, for audit and debugging (no capability). */
  describe(): string[] {
    const sets = this.#sets();
    return KINDS.flatMap((k, i) =>
      Array.from(sets[i] as Int32Array, (x) => `${tagAt(x).toString()}${SUFFIX[k]}`),
    );
  }

  /**
   * Grant `kind` on `tag` from this holder to `to`: `t+` and `t+auth` need `t+auth`; `t-` and
   * `t-auth` need `t-auth`. Returns the receiver's new set.
   */
  grantTCB(to: PrivilegeSet, tag: Tag, kind: PrivilegeKind): PrivilegeSet {
    if (!KINDS.includes(kind)) {
      throw new MalformedInputError('privilege kind is plus, minus, plus-auth or minus-auth');
    }
    const t = tagIndex(tag);
    const auth = kind === 'plus' || kind === 'plus-auth' ? 'plus-auth' : 'minus-auth';
    if (!this.indicesTCB(auth).includes(t)) {
      throw new InsufficientPrivilegeError(
        `grant of ${tag.toString()}${SUFFIX[kind]} needs ${tag.toString()}${SUFFIX[auth]}`,
      );
    }
    return to.#with(kind, t);
  }
}
Object.freeze(PrivilegeSet.prototype);
Object.freeze(PrivilegeSet);

const NONE = new Int32Array(0);
const EMPTY_SET = new PrivilegeSet(MINT_KEY, [NONE, NONE, NONE, NONE]);

/** Mint a tag and the creator's four privileges on it. */
export function createTagTCB(name: string): { tag: Tag; privileges: readonly Privilege[] } {
  const tag = mintTagTCB(name);
  return { tag, privileges: Object.freeze(KINDS.map((k) => new Privilege(MINT_KEY, tag, k))) };
}

/** The tag derived from `seed` for `context` (see deriveTagTCB) and the four privileges on it,
 * for the holder of the seed. */
export function deriveTagWithPrivilegesTCB(
  seed: Uint8Array,
  context: string,
  name: string,
): { tag: Tag; privileges: readonly Privilege[] } {
  const tag = deriveTagTCB(seed, context, name);
  return { tag, privileges: Object.freeze(KINDS.map((k) => new Privilege(MINT_KEY, tag, k))) };
}
