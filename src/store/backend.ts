import type { Label } from '../labels.js';
import type { EncodedValue, JsonValue } from './json-value.js';

/** One write of a batch: a value, or `null` for a tombstone (delete). */
export interface WriteOp {
  readonly key: string;
  readonly value: EncodedValue | null;
}

/** A compare-and-set guard: the writer's projection of `key` must equal `expected` (undefined = absent). */
export interface WriteGuard {
  readonly key: string;
  readonly expected: JsonValue | undefined;
}

/** The writes of one label in a multi-label transaction (see StoreBackend.writeMany). */
export interface LabelledOps {
  readonly writer: Label;
  readonly ops: readonly WriteOp[];
}

export interface ScanRange {
  /** Only keys starting with this ('' for all). */
  readonly prefix: string;
  /** Only keys after this one (code point order), or from the start. */
  readonly after: string | undefined;
  readonly limit: number;
}

export interface ScanEntry {
  readonly key: string;
  readonly value: JsonValue;
}

/**
 * Storage behind a faceted store. Every method takes the label of the view it serves and
 * implements DESIGN.md §1 "Faceted state" exactly (the conformance suite in
 * test/store-conformance.test.ts runs the same cases against every backend):
 * - a facet is visible to `reader` iff its label ⊑ reader; the newest visible facet of a key is
 *   its value for that reader (a tombstone reads as absent);
 * - writing at `writer` removes the key's facets at labels ⊒ writer, then adds (writer, value).
 * Backends see labels and keys, never privileges; the store, not the backend, checks input.
 */
export interface StoreBackend {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  get(reader: Label, key: string): Promise<JsonValue | undefined>;
  /**
   * Apply `ops` in order, in one transaction, at `writer`. With a guard, first compare the
   * writer's projection of guard.key with guard.expected and write nothing (returning false)
   * unless equal.
   */
  write(writer: Label, ops: readonly WriteOp[], guard?: WriteGuard): Promise<boolean>;
  /**
   * Apply each group's ops at its writer's label, in order, all in one transaction. For the
   * trusted host only (a pipeline's checkpoint): views never reach it.
   */
  writeMany(groups: readonly LabelledOps[]): Promise<void>;
  /** The store's tag seed (32 random bytes made when the store was created). */
  readonly seed: Uint8Array;
  /** Visible, non-deleted entries in key order. */
  scan(reader: Label, range: ScanRange): Promise<ScanEntry[]>;
  /** How many keys with `prefix` hold a visible, non-deleted value. */
  count(reader: Label, prefix: string): Promise<number>;
  close(): Promise<void>;
}
