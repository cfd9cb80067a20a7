import type { Label } from '../../labels.js';

/**
 * What a pipeline needs from a store to keep its operators' state: `sluice/store`'s
 * `FacetedStore` is one (the pipeline layer does not import the store layer, DESIGN.md §2).
 * Reads go through `at(label)` views only; the one multi-label call, `commit`, is the host's.
 */
export interface StateStore {
  at(label: Label): StateView;
  /** In order, each write at its own label, in one transaction (undefined value = tombstone). */
  commit(
    writes: readonly { readonly label: Label; readonly key: string; readonly value: unknown }[],
  ): Promise<void>;
  /** Throws unless the store can keep `value` (as `put` would); writes nothing. A store
   * without it is checked only at commit, where a value it refuses fails the whole run. */
  check?(value: unknown): void;
  /** The store's tag seed: the pipeline derives its tags from it, so labels survive a restart. */
  tagSeed(): Uint8Array;
}

export interface StateView {
  get(key: string): Promise<unknown>;
  scan(opts: {
    readonly prefix: string;
    readonly cursor?: string;
    readonly limit: number;
  }): Promise<{
    readonly items: readonly { readonly key: string; readonly value: unknown }[];
    readonly cursor?: string;
  }>;
}

/** `Pipeline({ state })`: keep keyed operator state and source positions in a store. */
export interface StateOptions {
  /** A faceted store (`FacetedStore.sqlite({ dataDir })`, `.postgres(…)`, `.memory()`). */
  readonly store: StateStore;
  /** Checkpoint after this many source events (default 10000), and when each source ends. */
  readonly every?: number;
}
