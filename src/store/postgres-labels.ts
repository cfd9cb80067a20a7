import type pg from 'pg';
import type { Label } from '../labels.js';
import { idsFlowTo, labelIds, parseLabelIds, type LabelIds } from './label-ids.js';

/** Longest id list sent with a query; beyond it the flow is checked in SQL instead. */
export const MAX_IDS = 100;

const EMPTY: readonly number[] = Object.freeze([]);

/**
 * This process's copy of a PostgreSQL store's labels table, and what follows from it: for a
 * reader, the stored labels that do not flow to it; for a writer, the stored labels ⊒ it (whose
 * facets its put removes). Stored labels never change and get dense ids in commit order
 * (`sluice_intern`), so the copy is always ids 1..max: a label interned by another process
 * after the copy was made has a higher id, which the queries treat as unknown.
 */
export class PostgresLabels {
  readonly #pool: pg.Pool;
  readonly #stored = new Map<number, LabelIds>();
  readonly #ids = new Map<Label, number>();
  readonly #hidden = new Map<Label, readonly number[] | undefined>();
  readonly #above = new Map<Label, readonly number[] | undefined>();
  #max = 0;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** The highest id in the copy (every id from 1 to it is in the copy). */
  get max(): number {
    return this.#max;
  }

  /** Is the stored label `id` in the copy? */
  has(id: number): boolean {
    return this.#stored.has(id);
  }

  /** Does the stored label `id` flow to `reader`? (undefined: not in the copy) */
  flows(id: number, reader: Label): boolean | undefined {
    const s = this.#stored.get(id);
    return s === undefined ? undefined : idsFlowTo(s, labelIds(reader));
  }

  /** Load the labels interned since the copy was made (by any process). */
  async refresh(): Promise<void> {
    const r = await this.#pool.query<[number, string]>({
      name: 'sluice_labels_after',
      text: 'SELECT id, text FROM sluice_labels WHERE id > $1 ORDER BY id',
      values: [this.#max],
      rowMode: 'array',
    });
    if (r.rows.length === 0) return;
    for (const [id, text] of r.rows) {
      this.#stored.set(id, parseLabelIds(text));
      this.#max = Math.max(this.#max, id);
    }
    this.#hidden.clear();
    this.#above.clear();
  }

  /** The id of `l` if this process has interned it. */
  idIn(l: Label): number | undefined {
    return this.#ids.get(l);
  }

  /** The id of `l`, interning it (and loading the new labels) the first time. */
  async idOf(l: Label): Promise<number> {
    let id = this.#ids.get(l);
    if (id === undefined) {
      const ids = labelIds(l);
      const r = await this.#pool.query<[number]>({
        name: 'sluice_intern',
        text: 'SELECT sluice_intern($1::text[], $2::text[], $3)',
        values: [ids.secrecy, ids.integrity, ids.text],
        rowMode: 'array',
      });
      id = (r.rows[0] as [number])[0];
      if (id > this.#max) await this.refresh();
      this.#ids.set(l, id);
    }
    return id;
  }

  /**
   * The ids in the copy whose labels do not flow to `reader`, or undefined if there are more
   * than MAX_IDS of them.
   */
  hidden(reader: Label): readonly number[] | undefined {
    if (this.#hidden.has(reader)) return this.#hidden.get(reader);
    const r = labelIds(reader);
    const out = this.#select((s) => !idsFlowTo(s, r));
    this.#hidden.set(reader, out);
    return out;
  }

  /**
   * The ids in the copy, other than `writer`'s own id, whose labels are ⊒ `writer` (or
   * undefined if there are more than MAX_IDS of them).
   */
  above(writer: Label): readonly number[] | undefined {
    if (this.#above.has(writer)) return this.#above.get(writer);
    const w = labelIds(writer);
    const out = this.#select((s) => s.text !== w.text && idsFlowTo(w, s));
    this.#above.set(writer, out);
    return out;
  }

  #select(keep: (s: LabelIds) => boolean): readonly number[] | undefined {
    const out: number[] = [];
    for (const [id, s] of this.#stored) {
      if (!keep(s)) continue;
      if (out.length === MAX_IDS) return undefined;
      out.push(id);
    }
    return out.length === 0 ? EMPTY : Object.freeze(out);
  }
}
