import { MalformedInputError } from '../errors.js';
import type { Label } from '../labels.js';
import type { ScanEntry, StoreBackend, WriteOp } from './backend.js';
import { encodeValue, type JsonValue } from './json-value.js';
import { assertKey, assertPrefix } from './store-key.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
export const MAX_BATCH = 1000;

/** One write of a batch. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: JsonValue }
  | { readonly type: 'delete'; readonly key: string };

export interface ScanOptions {
  /** Only keys starting with this. */
  readonly prefix?: string;
  /** Continue after the page that returned this cursor. */
  readonly cursor?: string;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly cursor?: string;
}

const VIEW_KEY = Symbol('sluice.store.view');

function bad(message: string): MalformedInputError {
  return new MalformedInputError(message, 'E_STORE_INPUT');
}

function options(o: unknown): { prefix: string; after: string | undefined; limit: number } {
  if (o === undefined) return { prefix: '', after: undefined, limit: DEFAULT_PAGE };
  if (typeof o !== 'object' || o === null) throw bad('scan options must be an object');
  const { prefix = '', cursor, limit = DEFAULT_PAGE } = o as Record<string, unknown>;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_PAGE) {
    throw bad(`a page limit is an integer from 1 to ${MAX_PAGE}`);
  }
  return {
    prefix: assertPrefix(prefix),
    after: cursor === undefined ? undefined : assertKey(cursor, 'cursor'),
    limit: limit as number,
  };
}

function toOp(op: unknown): WriteOp {
  if (typeof op !== 'object' || op === null) throw bad('a batch op is {type, key, value?}');
  const { type, key, value } = op as Record<string, unknown>;
  if (type === 'put') return { key: assertKey(key), value: encodeValue(value) };
  if (type === 'delete') return { key: assertKey(key), value: null };
  throw bad("a batch op's type is 'put' or 'delete'");
}

/**
 * The faceted store as seen from one fixed label: every read returns this label's projection,
 * every write lands at this label. There is no way to pass another label: the host (engine,
 * pipeline runtime, gateway) chooses it when it calls `store.at(label)` for a unit, and hands the
 * unit only this view. Everything is checked before the backend is called, so a refused call
 * writes nothing; errors name the problem, never a value.
 */
export class StoreView {
  readonly #backend: StoreBackend;
  readonly #label: Label;

  /** @internal Views are made by FacetedStore.at. */
  constructor(key: symbol, backend: StoreBackend, label: Label) {
    if (key !== VIEW_KEY) throw bad('store views are made by FacetedStore.at');
    this.#backend = backend;
    this.#label = label;
    Object.freeze(this);
  }

  /** The label every call of this view reads and writes at. */
  get label(): Label {
    return this.#label;
  }

  /** The newest value this label may see, or undefined (absent, deleted, or hidden: the same). */
  get(key: string): Promise<JsonValue | undefined> {
    try {
      return this.#backend.get(this.#label, assertKey(key));
    } catch (e) {
      // Reject rather than throw, like every other call of the view (assertKey throws Errors).
      return Promise.reject(e instanceof Error ? e : bad('bad key'));
    }
  }

  /** Store `value` (JSON data, copied) at this label; facets at labels ⊒ it are replaced. */
  async put(key: string, value: JsonValue): Promise<void> {
    await this.#backend.write(this.#label, [{ key: assertKey(key), value: encodeValue(value) }]);
  }

  /** Write a tombstone at this label. */
  async delete(key: string): Promise<void> {
    await this.#backend.write(this.#label, [{ key: assertKey(key), value: null }]);
  }

  /**
   * Atomically: if this label's projection of `key` equals `expected` (undefined = absent), write
   * `next` (undefined = delete) and return true; otherwise write nothing and return false.
   */
  async compareAndSet(
    key: string,
    expected: JsonValue | undefined,
    next: JsonValue | undefined,
  ): Promise<boolean> {
    const k = assertKey(key);
    const exp = expected === undefined ? undefined : encodeValue(expected).value;
    const op: WriteOp = { key: k, value: next === undefined ? null : encodeValue(next) };
    return this.#backend.write(this.#label, [op], { key: k, expected: exp });
  }

  /** Apply puts and deletes in order, in one transaction (all or nothing). */
  async batch(ops: readonly BatchOp[]): Promise<void> {
    if (!Array.isArray(ops)) throw bad('a batch is an array of ops');
    if (ops.length > MAX_BATCH) throw bad(`a batch holds at most ${MAX_BATCH} ops`);
    const checked = (ops as readonly unknown[]).map(toOp);
    if (checked.length > 0) await this.#backend.write(this.#label, checked);
  }

  /** Visible entries in key order (Unicode code point order), one page at a time. */
  async scan(opts?: ScanOptions): Promise<Page<ScanEntry>> {
    const o = options(opts);
    const rows = await this.#backend.scan(this.#label, { ...o, limit: o.limit + 1 });
    if (rows.length <= o.limit) return { items: rows };
    const items = rows.slice(0, o.limit);
    return { items, cursor: (items[items.length - 1] as ScanEntry).key };
  }

  /** Like scan, keys only. */
  async keys(opts?: ScanOptions): Promise<Page<string>> {
    const page = await this.scan(opts);
    const items = page.items.map((e) => e.key);
    return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
  }

  /** How many keys (with `prefix`) hold a value this label may see. */
  async count(opts?: { readonly prefix?: string }): Promise<number> {
    return this.#backend.count(this.#label, options(opts).prefix);
  }
}
Object.freeze(StoreView.prototype);
Object.freeze(StoreView);

/** @internal For FacetedStore only. */
export function makeView(backend: StoreBackend, label: Label): StoreView {
  return new StoreView(VIEW_KEY, backend, label);
}
