import { NO_KEY, type Key } from './receiver.js';

/** Per-key state of a keyed operator (one slot outside keyed sections): each key's instance
 * sees only its own state. */
export class KeyedState<S> {
  #unkeyed: S | undefined;
  #has = false;
  readonly #byKey = new Map<Key, S>();

  get(key: Key): S | undefined {
    return key === NO_KEY ? this.#unkeyed : this.#byKey.get(key);
  }

  has(key: Key): boolean {
    return key === NO_KEY ? this.#has : this.#byKey.has(key);
  }

  set(key: Key, s: S): void {
    if (key === NO_KEY) {
      this.#unkeyed = s;
      this.#has = true;
    } else this.#byKey.set(key, s);
  }

  delete(key: Key): void {
    if (key === NO_KEY) {
      this.#unkeyed = undefined;
      this.#has = false;
    } else this.#byKey.delete(key);
  }

  /** Keys in a fixed order that depends only on the set of keys (never on arrival order, which
   * could encode one key's data for a reader of another): numbers, then strings, sorted. */
  keys(): Key[] {
    const ks = [...this.#byKey.keys()].sort(compareKeys);
    return this.#has ? [NO_KEY, ...ks] : ks;
  }
}

export function compareKeys(a: Key, b: Key): number {
  if (typeof a === 'number' && typeof b === 'number') {
    // A total order (NaN last): `a - b` is NaN for NaN and for ∞ - ∞, and a comparator that
    // answers NaN leaves the sort in arrival order.
    if (a < b) return -1;
    if (a > b) return 1;
    return Number.isNaN(a) === Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
  }
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
