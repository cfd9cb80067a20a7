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
  keys(): string[];
  readonly size: number;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new TypeError('a state key is a string');
  return key;
}

export class GuestState {
  #map = new Map<string, unknown>();
  /** The API object the code gets (the caller hardens it). */
  readonly api: StateApi;

  constructor() {
    const self = this;
    this.api = {
      get: (key) => self.#map.get(checkKey(key)),
      set: (key, value) => {
        self.#map.set(checkKey(key), value);
      },
      delete: (key) => self.#map.delete(checkKey(key)),
      has: (key) => self.#map.has(checkKey(key)),
      keys: () => [...self.#map.keys()],
      get size() {
        return self.#map.size;
      },
    };
  }

  get size(): number {
    return this.#map.size;
  }

  /** The entries as they are now (values are not copied: the transport clones them). */
  entries(): [string, unknown][] {
    return [...this.#map];
  }

  /** Replace every entry (a migrated unit's state arriving). */
  replace(entries: readonly (readonly [string, unknown])[]): void {
    this.#map = new Map(entries);
  }
}
