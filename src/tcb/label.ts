import { MalformedInputError } from './errors.js';
import { Tag, tagAt, tagIndex } from './tag.js';

const INTERN_KEY = Symbol('sluice.label.intern');
const interned = new Map<string, Label>();
const JOIN_CACHE_MAX = 64;
const EMPTY = new Int32Array(0);

let secrecyIdx: (l: Label) => Int32Array;
let integrityIdx: (l: Label) => Int32Array;
/** ⊑ past the two identity tests (tag-set masks, then sorted subsets); remembers a success.
 * Set by the class's static block, then read through the module constant `flowsSlow`. */
let slowFlow: ((from: Label, to: Label) => boolean) | undefined;

/** Is sorted `a` a subset of sorted `b`? No allocation. */
function subset(a: Int32Array, b: Int32Array): boolean {
  const n = a.length;
  const m = b.length;
  if (n > m) return false;
  let j = 0;
  for (let k = 0; k < n; k++) {
    const x = a[k] as number;
    while (j < m && (b[j] as number) < x) j++;
    if (j === m || b[j] !== x) return false;
    j++;
  }
  return true;
}

/** Sorted-set union or intersection of two sorted index arrays. */
function merge(a: Int32Array, b: Int32Array, union: boolean): Int32Array {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      if (union) out.push(x);
      i++;
    } else {
      if (union) out.push(y);
      j++;
    }
  }
  if (union) {
    for (; i < a.length; i++) out.push(a[i] as number);
    for (; j < b.length; j++) out.push(b[j] as number);
  }
  return Int32Array.from(out);
}

function mask(a: Int32Array): number {
  let m = 0;
  for (const x of a) m |= 1 << (x & 31);
  return m;
}

function toIndices(tags: Iterable<unknown> | undefined): Int32Array {
  if (tags === undefined) return EMPTY;
  if (typeof (tags as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
    throw new MalformedInputError('label tag sets must be iterables of tags');
  }
  const idx = Array.from(tags, tagIndex);
  return Int32Array.from(new Set(idx)).sort();
}

export interface LabelSpec {
  readonly secrecy?: Iterable<Tag>;
  readonly integrity?: Iterable<Tag>;
}

/**
 * A label ⟨S, I⟩. Labels are interned (one object per distinct pair), immutable, and compared
 * without allocation: `a.flowsTo(b)` is S(a) ⊆ S(b) and I(a) ⊇ I(b).
 */
export class Label {
  readonly #s: Int32Array;
  readonly #i: Int32Array;
  readonly #sm: number;
  readonly #im: number;
  #joins: Map<Label, Label> | undefined;
  /** The last label this one was found to flow to: labels are interned and immutable, so ⊑ is a
   * pure function of identities and one remembered success makes the common repeat a compare. */
  #flowsOk: Label | undefined;

  /** ⟨∅, ∅⟩: public, untrusted. */
  static readonly public: Label = Label.#intern(EMPTY, EMPTY);

  constructor(key: symbol, s: Int32Array, i: Int32Array) {
    if (key !== INTERN_KEY) throw new MalformedInputError('labels are made with Label.of');
    this.#s = s;
    this.#i = i;
    this.#sm = mask(s);
    this.#im = mask(i);
    this.#joins = undefined;
    this.#flowsOk = undefined;
    Object.freeze(this);
  }

  static {
    secrecyIdx = (l) => l.#s;
    integrityIdx = (l) => l.#i;
    slowFlow = (from, to) => {
      if ((from.#sm & ~to.#sm) !== 0 || (to.#im & ~from.#im) !== 0) return false;
      if (!subset(from.#s, to.#s) || !subset(to.#i, from.#i)) return false;
      from.#flowsOk = to;
      return true;
    };
  }

  static #intern(s: Int32Array, i: Int32Array): Label {
    const key = `${s.join(',')}|${i.join(',')}`;
    let l = interned.get(key);
    if (l === undefined) {
      l = new Label(INTERN_KEY, s, i);
      interned.set(key, l);
    }
    return l;
  }

  /** The label with these secrecy and integrity tags. */
  static of(spec: LabelSpec = {}): Label {
    if (typeof (spec as unknown) !== 'object' || (spec as unknown) === null) {
      throw new MalformedInputError('a label spec is {secrecy?: Tag[], integrity?: Tag[]}');
    }
    return Label.#intern(toIndices(spec.secrecy), toIndices(spec.integrity));
  }

  /** Shorthand: secrecy tags only. */
  static secrecy(...tags: Tag[]): Label {
    return Label.of({ secrecy: tags });
  }

  /** Shorthand: integrity tags only. */
  static integrity(...tags: Tag[]): Label {
    return Label.of({ integrity: tags });
  }

  /** True for genuine labels only (forged objects and proxies fail). */
  static isLabel(x: unknown): x is Label {
    return typeof x === 'object' && x !== null && #s in x;
  }

  /** Throws a clear error unless x is a genuine label. */
  static assert(x: unknown, what = 'label'): Label {
    if (!Label.isLabel(x)) throw new MalformedInputError(`${what} is not a Label (use Label.of)`);
    return x;
  }

  get secrecy(): readonly Tag[] {
    return Array.from(this.#s, tagAt);
  }

  get integrity(): readonly Tag[] {
    return Array.from(this.#i, tagAt);
  }

  /**
   * ⊑: may data at this label flow to `to`? (Small, so V8 inlines it at every call site.) The
   * `=== true` makes the result a known boolean where it is inlined, so the caller's test of it
   * is one compare rather than a generic truthiness check (≈ 40 instructions per event).
   */
  flowsTo(to: Label): boolean {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- above
    return this === to || this.#flowsOk === to || flowsSlow(this, to) === true;
  }

  /** ⊔: ⟨S1 ∪ S2, I1 ∩ I2⟩ (memoized per pair). */
  join(other: Label): Label {
    if (this.flowsTo(other)) return other;
    if (other.flowsTo(this)) return this;
    let cache = this.#joins;
    const hit = cache?.get(other);
    if (hit !== undefined) return hit;
    const j = Label.#intern(merge(this.#s, other.#s, true), merge(this.#i, other.#i, false));
    if (cache === undefined || cache.size >= JOIN_CACHE_MAX) cache = this.#joins = new Map();
    cache.set(other, j);
    return j;
  }

  /** ⊓: ⟨S1 ∩ S2, I1 ∪ I2⟩. */
  meet(other: Label): Label {
    if (this.flowsTo(other)) return this;
    if (other.flowsTo(this)) return other;
    return Label.#intern(merge(this.#s, other.#s, false), merge(this.#i, other.#i, true));
  }

  /** Interned, so equal labels are the same object. */
  equals(other: Label): boolean {
    return this === other;
  }

  toString(): string {
    const names = (a: Int32Array) => Array.from(a, (x) => tagAt(x).toString()).join(',');
    return `⟨S{${names(this.#s)}} I{${names(this.#i)}}⟩`;
  }

  /** Serialized form: tag ids only. Holds no privilege, so it can mint none. */
  toJSON(): { secrecy: string[]; integrity: string[] } {
    return {
      secrecy: Array.from(this.#s, (x) => tagAt(x).id),
      integrity: Array.from(this.#i, (x) => tagAt(x).id),
    };
  }

  /** Parse a serialized label; malformed shapes and unknown tags are refused with a clear error. */
  static fromJSON(x: unknown): Label {
    const o = x as { secrecy?: unknown; integrity?: unknown } | null;
    if (
      typeof o !== 'object' ||
      o === null ||
      !Array.isArray(o.secrecy) ||
      !Array.isArray(o.integrity)
    ) {
      throw new MalformedInputError(
        'a serialized label is {secrecy: [tag ids], integrity: [tag ids]}',
      );
    }
    return Label.of({
      secrecy: o.secrecy.map((t) => Tag.fromJSON(t)),
      integrity: o.integrity.map((t) => Tag.fromJSON(t)),
    });
  }
}
// Unit code holds these classes (sluice/labels): frozen, so patching them cannot change a check.
Object.freeze(Label.prototype);
Object.freeze(Label);
/** A module constant: V8 inlines calls through it with no target check (see part.ts). */
const flowsSlow = slowFlow;

/** Trusted accessors for the checks module: the sorted tag indices (never hand these out). */
export function secrecyOfTCB(l: Label): Int32Array {
  return secrecyIdx(l);
}

export function integrityOfTCB(l: Label): Int32Array {
  return integrityIdx(l);
}
