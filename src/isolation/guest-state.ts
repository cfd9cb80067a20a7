/**
 * A unit's own state, guest side: a key-value map the code reads and writes through
 * `unit.state`, which moves with the unit when it migrates to another tier (as a
 * StateSnapshot: plain data, structured-clone safe). Keys are strings; values are plain data
 * (anything structured clone accepts; a function or a host object makes the move fail).
 * The state is the unit's alone, at its fixed label: nothing else reads it.
 */
export interface StateApi {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): boolean;
  has(key: string): boolean;
  /** The keys, in an unspecified order (not kept across a move). */
  keys(): string[];
  readonly size: number;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new TypeError('a state key is a string');
  return key;
}

export class GuestState {
  #map = new Map<string, unknown>();
  /** Keys read or written since track() (a value read may be changed in place). */
  #dirty: Set<string> | undefined;
  /** The API object the code gets (the caller hardens it). */
  readonly api: StateApi;

  constructor() {
    const api = {
      get: (key: unknown) => {
        this.#dirty?.add(checkKey(key));
        return this.#map.get(checkKey(key));
      },
      set: (key: unknown, value: unknown) => {
        this.#dirty?.add(checkKey(key));
        this.#map.set(checkKey(key), value);
      },
      delete: (key: unknown) => {
        this.#dirty?.add(checkKey(key));
        return this.#map.delete(checkKey(key));
      },
      has: (key: unknown) => this.#map.has(checkKey(key)),
      keys: () => [...this.#map.keys()],
    };
    this.api = Object.defineProperty(api, 'size', {
      get: () => this.#map.size,
      enumerable: true,
    }) as typeof api & { readonly size: number };
  }

  get size(): number {
    return this.#map.size;
  }

  /** The entries as they are now (values are not copied: the transport clones them). */
  entries(): [string, unknown][] {
    return [...this.#map];
  }

  /** Start noting the keys touched (a pre-copy migration: full copy first, then the delta). */
  track(): void {
    this.#dirty = new Set();
  }

  /** The keys touched since track(): their entries now, and those deleted; tracking ends. */
  delta(): { entries: [string, unknown][]; deleted: string[] } {
    const entries: [string, unknown][] = [];
    const deleted: string[] = [];
    for (const k of this.#dirty ?? []) {
      if (this.#map.has(k)) entries.push([k, this.#map.get(k)]);
      else deleted.push(k);
    }
    this.#dirty = undefined;
    return { entries, deleted };
  }

  /** Replace every entry (a migrated unit's state arriving). */
  replace(entries: readonly (readonly [string, unknown])[]): void {
    this.#map = new Map(entries);
  }

  /** Apply a delta on top of a copy received earlier. */
  patch(entries: readonly (readonly [string, unknown])[], deleted: readonly string[]): void {
    for (const [k, v] of entries) this.#map.set(k, v);
    for (const k of deleted) this.#map.delete(k);
  }
}
