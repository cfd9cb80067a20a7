import { Label } from '../labels.js';
import type { StoreBackend, WriteOp } from './backend.js';
import { encodeValue, type JsonValue } from './json-value.js';
import { MemoryBackend } from './memory-backend.js';
import { PostgresBackend, type PostgresOptions } from './postgres-backend.js';
import { SqliteBackend, type SqliteOptions } from './sqlite-backend.js';
import { assertKey } from './store-key.js';
import { makeView, type StoreView } from './store-view.js';

/** One write of a host commit: `value` at `label` (undefined writes a tombstone there). */
export interface LabelledWrite {
  readonly label: Label;
  readonly key: string;
  readonly value: JsonValue | undefined;
}

/**
 * A faceted store (DESIGN.md §1 "Faceted state"): key → facets (label, value, sequence).
 * The store itself is the host's: it hands each unit `store.at(unitLabel)`, a view fixed at the
 * unit's own label, and never the store. Backends: memory, SQLite (the embedded default),
 * PostgreSQL.
 */
export class FacetedStore {
  readonly #backend: StoreBackend;
  readonly #views = new Map<Label, StoreView>();

  private constructor(backend: StoreBackend) {
    this.#backend = backend;
  }

  /** A store in this process's memory (lost on exit). */
  static memory(): FacetedStore {
    return new FacetedStore(new MemoryBackend());
  }

  /** A store in a SQLite file under `dataDir`, created and migrated as needed. */
  static sqlite(opts: SqliteOptions): Promise<FacetedStore> {
    return Promise.resolve().then(() => new FacetedStore(new SqliteBackend(opts)));
  }

  /** A store in a PostgreSQL schema, created and migrated as needed. */
  static async postgres(opts: PostgresOptions): Promise<FacetedStore> {
    return new FacetedStore(await PostgresBackend.open(opts));
  }

  /** Which backend holds the data. */
  get kind(): StoreBackend['kind'] {
    return this.#backend.kind;
  }

  /** The view at `label`: its projection for reads, `label` for every write. */
  at(label: Label): StoreView {
    Label.assert(label, 'a store view label');
    let v = this.#views.get(label);
    if (v === undefined) this.#views.set(label, (v = makeView(this.#backend, label)));
    return v;
  }

  /**
   * Host only: the writes, each at its own label, in order and in one transaction (all or
   * nothing). Each write has exactly the effect of `store.at(label).put/delete`, so this gives
   * the host no power it lacks (it holds the store, hence every view); it exists so a pipeline's
   * checkpoint (one key's state at that key's label, the source position at the source's) is
   * atomic. Never hand it to unit code: units get views, which take no label.
   */
  async commit(writes: readonly LabelledWrite[]): Promise<void> {
    if (!Array.isArray(writes)) throw new TypeError('commit takes an array of writes');
    const groups: { writer: Label; ops: WriteOp[] }[] = [];
    for (const w of writes as readonly LabelledWrite[]) {
      const label = Label.assert(w.label, 'a commit label');
      const op: WriteOp = {
        key: assertKey(w.key),
        value: w.value === undefined ? null : encodeValue(w.value),
      };
      const last = groups[groups.length - 1];
      if (last?.writer === label) last.ops.push(op);
      else groups.push({ writer: label, ops: [op] });
    }
    if (groups.length > 0) await this.#backend.writeMany(groups);
  }

  /**
   * Throws, as `put` would, unless `value` is a value this store keeps (JSON data, at most
   * 1 MiB of it); writes nothing. A pipeline checks each key's state with it when it takes a
   * checkpoint, so a state that cannot be kept fails only that key, never the commit.
   */
  check(value: unknown): void {
    encodeValue(value);
  }

  /**
   * Host only: a copy of the store's tag seed (32 random bytes made when the store was created,
   * kept where no view can read it). `Engine.deriveTag(seed, …)` makes the same tags from it
   * in every process, which is how a pipeline finds its state after a restart. Whoever holds
   * the seed holds the privileges on those tags: it is as secret as the store itself.
   */
  tagSeed(): Uint8Array {
    return Uint8Array.from(this.#backend.seed);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}
