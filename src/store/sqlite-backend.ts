import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Label } from '../labels.js';
import type {
  LabelledOps,
  ScanEntry,
  ScanRange,
  StoreBackend,
  WriteGuard,
  WriteOp,
} from './backend.js';
import { decodeValue, jsonEqual, type JsonValue } from './json-value.js';
import { idsFlowTo, labelIds, parseLabelIds, type LabelIds } from './label-ids.js';
import { closedError, seedOf, StoreError } from './store-error.js';

/** Schema migrations, in order; the store applies the ones newer than `sluice_schema.version`. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sluice_labels (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
   CREATE TABLE sluice_facets (
     key TEXT NOT NULL,
     label_id INTEGER NOT NULL REFERENCES sluice_labels(id),
     seq INTEGER NOT NULL, -- orders the facets of one key (newest = highest)
     value TEXT, -- JSON text; NULL is a tombstone
     PRIMARY KEY (key, label_id)
   ) WITHOUT ROWID;`,
  // The store's own settings (the tag seed); never reachable through a view.
  `CREATE TABLE sluice_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
];

export interface SqliteOptions {
  /** Directory for the database file (created if missing). */
  readonly dataDir: string;
  /** File name inside dataDir (default `sluice-store.sqlite`). */
  readonly file?: string;
}

interface FacetRow {
  readonly key: string;
  readonly label_id: number;
  readonly seq: number;
  readonly value: string | null;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS sluice_schema (version INTEGER NOT NULL)');
  db.transaction(() => {
    const row = db.prepare('SELECT version FROM sluice_schema').get() as
      { version: number } | undefined;
    const from = row?.version ?? 0;
    if (from > MIGRATIONS.length) {
      throw new StoreError('E_STORE_SCHEMA', `store schema ${from} is newer than this code`);
    }
    for (const sql of MIGRATIONS.slice(from)) db.exec(sql);
    if (row === undefined)
      db.prepare('INSERT INTO sluice_schema VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE sluice_schema SET version = ?').run(MIGRATIONS.length);
  }).immediate();
}

/**
 * The embedded default: one SQLite file (better-sqlite3, synchronous, so a transaction is one
 * uninterrupted call). Labels are interned in `sluice_labels` as their tag ids; flows are
 * checked in JavaScript over the few facets of a key (see BENCHMARKS.md "store" for why).
 */
export class SqliteBackend implements StoreBackend {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #labelId = new Map<Label, number>();
  readonly #labels = new Map<number, LabelIds>();
  readonly #visible = new Map<Label, Map<number, boolean>>();
  /** Per reader: does every label in the copy flow to it? Per writer: is none above it? */
  readonly #seesAll = new Map<Label, boolean>();
  readonly #noneAbove = new Map<Label, boolean>();
  #maxLabel = 0;
  readonly #q;
  readonly #write;
  readonly #writeMany;
  readonly seed: Uint8Array;

  constructor(opts: SqliteOptions) {
    mkdirSync(opts.dataDir, { recursive: true });
    const db = new Database(join(opts.dataDir, opts.file ?? 'sluice-store.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    try {
      migrate(db);
      db.prepare(
        "INSERT INTO sluice_meta (name, value) VALUES ('tag-seed', ?) ON CONFLICT (name) DO NOTHING",
      ).run(randomBytes(32).toString('hex'));
      const row = db.prepare("SELECT value FROM sluice_meta WHERE name = 'tag-seed'").get() as {
        value: unknown;
      };
      this.seed = seedOf(row.value);
    } catch (e) {
      db.close();
      throw e;
    }
    this.#db = db;
    this.#write = db.transaction(
      (writer: Label, wid: number, ops: readonly WriteOp[], guard?: WriteGuard) =>
        this.#writeTx(writer, wid, ops, guard),
    );
    this.#writeMany = db.transaction((groups: readonly LabelledOps[], ids: readonly number[]) => {
      groups.forEach((g, i) => this.#writeTx(g.writer, ids[i] as number, g.ops));
    });
    this.#q = {
      // A get's candidates, newest first, as [label_id, value] arrays (no row objects).
      newest: db
        .prepare<[string], [number, string | null]>(
          'SELECT label_id, value FROM sluice_facets WHERE key = ? ORDER BY seq DESC',
        )
        .raw(true),
      // A get for a reader every stored label flows to: the newest facet, one row (SQLite
      // takes a bare column of a max() query from the row holding the max, without sorting;
      // no facet gives one row of nulls).
      newestOne: db
        .prepare<[string], [number | null, number | null, string | null]>(
          'SELECT label_id, max(seq), value FROM sluice_facets WHERE key = ?',
        )
        .raw(true),
      // A put for a writer no stored label is above: one statement (its own transaction), which
      // writes nothing if a label was interned since the copy was made (id > the copy's max).
      putAlone: db.prepare<[string, number, string, string | null, number]>(
        `INSERT INTO sluice_facets (key, label_id, seq, value)
         SELECT ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM sluice_facets WHERE key = ?), ?
         WHERE NOT EXISTS (SELECT 1 FROM sluice_labels WHERE id > ?)
         ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value`,
      ),
      // A write needs the key's labels and sequence, never the values (not copied into JS).
      labelsOf: db
        .prepare<[string], [number, number]>(
          'SELECT label_id, seq FROM sluice_facets WHERE key = ?',
        )
        .raw(true),
      from: db.prepare<[string, string], FacetRow>(
        'SELECT key, label_id, seq, value FROM sluice_facets WHERE key > ? AND key >= ? ORDER BY key',
      ),
      del: db.prepare<[string, number]>('DELETE FROM sluice_facets WHERE key = ? AND label_id = ?'),
      upsert: db.prepare<[string, number, number, string | null]>(
        `INSERT INTO sluice_facets (key, label_id, seq, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value`,
      ),
      labelsAfter: db.prepare<[number], { id: number; text: string }>(
        'SELECT id, text FROM sluice_labels WHERE id > ?',
      ),
      internLabel: db.prepare<[string]>(
        'INSERT INTO sluice_labels (text) VALUES (?) ON CONFLICT (text) DO NOTHING',
      ),
      labelByText: db.prepare<[string], { id: number }>(
        'SELECT id FROM sluice_labels WHERE text = ?',
      ),
    };
    this.#refreshLabels();
  }

  #open(): void {
    if (!this.#db.open) throw closedError();
  }

  /** The id of `l` in sluice_labels (interned in its own statement, outside any write). */
  #idOf(l: Label): number {
    let id = this.#labelId.get(l);
    if (id === undefined) {
      const text = labelIds(l).text;
      this.#q.internLabel.run(text);
      id = (this.#q.labelByText.get(text) as { id: number }).id;
      if (id > this.#maxLabel) this.#refreshLabels();
      this.#labelId.set(l, id);
    }
    return id;
  }

  /** Load labels interned since the last call (by this or another process). */
  #refreshLabels(): void {
    const rows = this.#q.labelsAfter.all(this.#maxLabel);
    if (rows.length === 0) return;
    for (const r of rows) {
      this.#labels.set(r.id, parseLabelIds(r.text));
      this.#maxLabel = Math.max(this.#maxLabel, r.id);
    }
    this.#seesAll.clear();
    this.#noneAbove.clear();
  }

  /** Does every label in the copy flow to `reader`? */
  #seesAllOf(reader: Label): boolean {
    let all = this.#seesAll.get(reader);
    if (all === undefined) {
      all = true;
      for (const id of this.#labels.keys()) all &&= this.#sees(reader, id);
      this.#seesAll.set(reader, all);
    }
    return all;
  }

  /** Is no label in the copy, other than its own, ⊒ `writer`? */
  #noneAboveOf(writer: Label): boolean {
    let none = this.#noneAbove.get(writer);
    if (none === undefined) {
      const w = labelIds(writer);
      none = true;
      for (const s of this.#labels.values()) none &&= s.text === w.text || !idsFlowTo(w, s);
      this.#noneAbove.set(writer, none);
    }
    return none;
  }

  #stored(id: number): LabelIds {
    if (!this.#labels.has(id)) this.#refreshLabels();
    return this.#labels.get(id) as LabelIds;
  }

  /** Does the stored label `id` flow to `reader`? (memoized: both are immutable) */
  #sees(reader: Label, id: number): boolean {
    let m = this.#visible.get(reader);
    if (m === undefined) this.#visible.set(reader, (m = new Map<number, boolean>()));
    let ok = m.get(id);
    if (ok === undefined) {
      ok = idsFlowTo(this.#stored(id), labelIds(reader));
      m.set(id, ok);
    }
    return ok;
  }

  /** The newest facet of `key` visible to `reader` (a tombstone reads as absent). */
  #current(reader: Label, key: string): JsonValue | undefined {
    if (this.#seesAllOf(reader)) {
      // Every label in the copy flows to the reader: the newest facet is the answer, unless its
      // label is newer than the copy and hidden (then read them all, below).
      const [id, , value] = this.#q.newestOne.get(key) as [number | null, unknown, string | null];
      if (id === null) return undefined;
      if (this.#sees(reader, id)) return value === null ? undefined : decodeValue(value);
    }
    for (const [id, value] of this.#q.newest.all(key)) {
      if (this.#sees(reader, id)) return value === null ? undefined : decodeValue(value);
    }
    return undefined;
  }

  get(reader: Label, key: string): Promise<JsonValue | undefined> {
    this.#open();
    return Promise.resolve(this.#current(reader, key));
  }

  write(writer: Label, ops: readonly WriteOp[], guard?: WriteGuard): Promise<boolean> {
    this.#open();
    const wid = this.#idOf(writer);
    const one = ops.length === 1 && guard === undefined ? (ops[0] as WriteOp) : undefined;
    if (one !== undefined && this.#noneAboveOf(writer)) {
      const json = one.value === null ? null : one.value.json;
      if (this.#q.putAlone.run(one.key, wid, one.key, json, this.#maxLabel).changes === 1) {
        return Promise.resolve(true);
      }
      this.#refreshLabels(); // labels were interned elsewhere: the transaction below sees them
    }
    return Promise.resolve(this.#write.immediate(writer, wid, ops, guard));
  }

  writeMany(groups: readonly LabelledOps[]): Promise<void> {
    this.#open();
    // Labels are interned first, outside the transaction (a rolled-back id must not be cached).
    const ids = groups.map((g) => this.#idOf(g.writer));
    this.#writeMany.immediate(groups, ids);
    return Promise.resolve();
  }

  /** The body of a write transaction (made once: better-sqlite3 wraps it in BEGIN/COMMIT). */
  #writeTx(writer: Label, wid: number, ops: readonly WriteOp[], guard?: WriteGuard): boolean {
    if (guard !== undefined && !jsonEqual(this.#current(writer, guard.key), guard.expected)) {
      return false;
    }
    const w = labelIds(writer);
    for (const op of ops) {
      let seq = 0;
      for (const [id, s] of this.#q.labelsOf.all(op.key)) {
        seq = Math.max(seq, s);
        // Remove facets at labels ⊒ writer (the writer's own is replaced by the upsert).
        if (id !== wid && idsFlowTo(w, this.#stored(id))) this.#q.del.run(op.key, id);
      }
      this.#q.upsert.run(op.key, wid, seq + 1, op.value === null ? null : op.value.json);
    }
    return true;
  }

  /**
   * Newest visible facet per key, in key order, from rows ordered by key. Call only inside a
   * transaction, after #refreshLabels: a live iterator blocks other statements.
   */
  *#project(reader: Label, range: { prefix: string; after: string | undefined }) {
    let best: FacetRow | undefined;
    let key: string | undefined;
    for (const r of this.#q.from.iterate(range.after ?? '', range.prefix)) {
      if (!r.key.startsWith(range.prefix)) break;
      if (r.key !== key) {
        if (best?.value != null) yield best as FacetRow & { value: string };
        key = r.key;
        best = undefined;
      }
      if ((best === undefined || r.seq > best.seq) && this.#sees(reader, r.label_id)) best = r;
    }
    if (best?.value != null) yield best as FacetRow & { value: string };
  }

  scan(reader: Label, range: ScanRange): Promise<ScanEntry[]> {
    this.#open();
    const run = this.#db.transaction((): ScanEntry[] => {
      this.#refreshLabels();
      const out: ScanEntry[] = [];
      if (range.limit <= 0) return out;
      for (const r of this.#project(reader, range)) {
        out.push({ key: r.key, value: decodeValue(r.value) });
        if (out.length >= range.limit) break;
      }
      return out;
    });
    return Promise.resolve(run());
  }

  count(reader: Label, prefix: string): Promise<number> {
    this.#open();
    const run = this.#db.transaction((): number => {
      this.#refreshLabels();
      let n = 0;
      const it = this.#project(reader, { prefix, after: undefined });
      while (it.next().done !== true) n++;
      return n;
    });
    return Promise.resolve(run());
  }

  close(): Promise<void> {
    if (this.#db.open) this.#db.close();
    return Promise.resolve();
  }
}
