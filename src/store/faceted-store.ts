import { Label } from '../labels.js';
import type { StoreBackend } from './backend.js';
import { MemoryBackend } from './memory-backend.js';
import { PostgresBackend, type PostgresOptions } from './postgres-backend.js';
import { SqliteBackend, type SqliteOptions } from './sqlite-backend.js';
import { makeView, type StoreView } from './store-view.js';

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

  close(): Promise<void> {
    return this.#backend.close();
  }
}
