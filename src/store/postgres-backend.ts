import pg from 'pg';
import { ConfigError } from '../errors.js';
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
import { labelIds } from './label-ids.js';
import { PostgresLabels } from './postgres-labels.js';
import { migrate } from './postgres-schema.js';
import { closedError } from './store-error.js';

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Connection settings for the pool (host, port, database, user, …), as `pg` takes them. */
  readonly connection: Omit<pg.PoolConfig, 'options'>;
  /** The schema holding the store's tables (created if missing; default `sluice`). */
  readonly schema?: string;
}

const VISIBLE = 'l.secrecy <@ $1::text[] AND l.integrity @> $2::text[]';
/** A get with the flow checked in SQL (for readers with many hidden labels). */
const GET_CHECKED = `SELECT f.value FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
  WHERE f.key = $3 AND ${VISIBLE} ORDER BY f.seq DESC LIMIT 1`;
/** A get's candidate: the newest facet not at a label known to be hidden from the reader. */
const GET_NEWEST =
  'SELECT label_id, value FROM sluice_facets WHERE key = $1 ORDER BY seq DESC LIMIT 1';
const GET_SHOWN = `SELECT label_id, value FROM sluice_facets
  WHERE key = $1 AND label_id <> ALL ($2::integer[]) ORDER BY seq DESC LIMIT 1`;
const PROJECTION = `SELECT DISTINCT ON (f.key) f.key, f.value
  FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
  WHERE f.key > $3 AND f.key >= $4 AND starts_with(f.key, $4) AND ${VISIBLE}
  ORDER BY f.key, f.seq DESC`;
const SCAN = `SELECT key, value FROM (${PROJECTION}) t WHERE value IS NOT NULL ORDER BY key LIMIT $5`;
const COUNT = `SELECT count(*)::integer AS n FROM (${PROJECTION}) t WHERE value IS NOT NULL`;

/**
 * A one-key put as one statement: the key's advisory lock (a condition of the row, so it is
 * held before the sequence number is drawn), then the upsert. One statement has one snapshot,
 * taken before the lock is granted: a write of the same key by another process that commits
 * while this one waits is not seen, so a facet it left at a label ⊒ this writer's may survive
 * this put. It is never read: this put's facet is newer and flows to every label it flows to,
 * and whatever later removes this put's facet (a put at a label below it) removes that one too.
 * Sequence numbers still follow the lock (so commit) order, and compare-and-set, which reads
 * after taking the lock, sees every committed write. It is for a writer no label in this process's
 * copy is above, so it has nothing to remove, unless a label was interned elsewhere since the
 * copy was made ($4 is the copy's highest id): then it writes nothing (no row), and the caller
 * loads the new labels and puts again.
 */
/** The key's advisory lock, as a condition: evaluated before the row (and its `nextval`). */
const LOCK = 'pg_advisory_xact_lock(hashtextextended($1::text, 0)) IS NOT NULL';
const UPSERT = `INSERT INTO sluice_facets (key, label_id, seq, value)`;
const ON_CONFLICT = `ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value`;
const PUT = `${UPSERT}
  SELECT $1::text, $2::integer, nextval('sluice_seq'), $3::text
  WHERE ${LOCK} AND NOT EXISTS (SELECT FROM sluice_labels WHERE id > $4::integer)
  ${ON_CONFLICT}`;
/** Is stored label `l` ⊒ the writer's label (id $2)? */
const ABOVE_WRITER = `EXISTS (SELECT FROM sluice_labels AS l JOIN sluice_labels AS w ON w.id = $2
  WHERE l.id = f.label_id AND l.secrecy @> w.secrecy AND l.integrity <@ w.integrity)`;
/**
 * A one-key put that also removes the facets at labels ⊒ the writer's: those of the ids listed
 * ($4) and of any label interned after this process's copy (id > $5), checked in SQL. The lock
 * is drawn (with the sequence number) before any row is deleted or upserted.
 */
const PUT_ABOVE = `WITH lk AS MATERIALIZED (
    SELECT nextval('sluice_seq') AS seq WHERE ${LOCK}),
  d AS (DELETE FROM sluice_facets AS f USING lk WHERE f.key = $1::text AND f.label_id <> $2::integer
    AND (f.label_id = ANY ($4::integer[]) OR (f.label_id > $5::integer AND ${ABOVE_WRITER})))
  ${UPSERT} SELECT $1::text, $2::integer, lk.seq, $3::text FROM lk ${ON_CONFLICT}`;
/**
 * PostgreSQL through `pg`, every value a parameter. Flows are checked against this process's
 * copy of the labels table (PostgresLabels) where that is exact, so a get or a put of one key
 * is one indexed statement without a join; what the copy does not know (labels interned by
 * another process since) is checked again, or in SQL. Scans and counts check flows in SQL.
 */
export class PostgresBackend implements StoreBackend {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #labels: PostgresLabels;
  readonly seed: Uint8Array;
  #closed = false;

  private constructor(pool: pg.Pool, seed: Uint8Array) {
    this.#pool = pool;
    this.seed = seed;
    this.#labels = new PostgresLabels(pool);
  }

  /** Connect, create the schema if needed and migrate it. */
  static async open(opts: PostgresOptions): Promise<PostgresBackend> {
    const schema = opts.schema ?? 'sluice';
    if (!SCHEMA_RE.test(schema)) {
      throw new ConfigError('a store schema name is 1-63 lower-case letters, digits or _');
    }
    // The schema name is an identifier, validated above; it is never built from data.
    const pool = new pg.Pool({ ...opts.connection, options: `-c search_path=${schema}` });
    try {
      const backend = new PostgresBackend(pool, await migrate(pool, schema));
      await backend.#labels.refresh();
      return backend;
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  #open(): void {
    if (this.#closed) throw closedError();
  }

  /**
   * The newest facet of `key` visible to `reader`. The candidate is the newest facet not at a
   * label the copy knows to be hidden; if its label is not in the copy (interned elsewhere
   * since), the copy is refreshed and the query asked again.
   */
  async #current(q: pg.Pool | pg.PoolClient, reader: Label, key: string) {
    for (let tries = 0; ; tries++) {
      const hidden = tries < 3 ? this.#labels.hidden(reader) : undefined;
      if (hidden === undefined) return this.#checked(q, reader, key);
      const r = await q.query<[number, string | null]>(
        hidden.length === 0
          ? { name: 'sluice_get', text: GET_NEWEST, values: [key], rowMode: 'array' }
          : { name: 'sluice_get_shown', text: GET_SHOWN, values: [key, hidden], rowMode: 'array' },
      );
      const row = r.rows[0];
      if (row === undefined) return undefined;
      const flows = this.#labels.flows(row[0], reader);
      if (flows === true) return row[1] === null ? undefined : decodeValue(row[1]);
      // Not in the copy (or the copy grew while this query ran): load the new labels, again.
      if (flows === undefined) await this.#labels.refresh();
    }
  }

  /** #current with the flow checked in SQL. */
  async #checked(q: pg.Pool | pg.PoolClient, reader: Label, key: string) {
    const ids = labelIds(reader);
    const r = await q.query<{ value: string | null }>({
      name: 'sluice_get_checked',
      text: GET_CHECKED,
      values: [ids.secrecy, ids.integrity, key],
    });
    const v = r.rows[0]?.value;
    return v === undefined || v === null ? undefined : decodeValue(v);
  }

  get(reader: Label, key: string): Promise<JsonValue | undefined> {
    this.#open();
    return this.#current(this.#pool, reader, key);
  }

  /** A one-key put without a guard: one statement (see PUT and PUT_ABOVE). */
  async #put(writer: Label, wid: number, op: WriteOp): Promise<void> {
    const value = op.value === null ? null : op.value.json;
    for (;;) {
      const above = this.#labels.above(writer);
      const known = this.#labels.max;
      if (above === undefined || above.length > 0) {
        await this.#pool.query({
          name: 'sluice_put_above',
          text: PUT_ABOVE,
          values: [op.key, wid, value, above ?? [], above === undefined ? 0 : known],
        });
        return;
      }
      const r = await this.#pool.query({
        name: 'sluice_put',
        text: PUT,
        values: [op.key, wid, value, known],
      });
      if (r.rowCount === 1) return;
      await this.#labels.refresh();
    }
  }

  /** The one-round-trip call that applies `ops` at `writer` (interned as `wid`). */
  #call(writer: Label, wid: number, ops: readonly WriteOp[]): pg.QueryConfig {
    const ids = labelIds(writer);
    return {
      name: 'sluice_write',
      text: 'SELECT sluice_write($1, $2::text[], $3::text[], $4::text[], $5::text[])',
      values: [
        wid,
        ids.secrecy,
        ids.integrity,
        ops.map((o) => o.key),
        ops.map((o) => (o.value === null ? null : o.value.json)),
      ],
    };
  }

  async writeMany(groups: readonly LabelledOps[]): Promise<void> {
    this.#open();
    const calls: pg.QueryConfig[] = [];
    for (const g of groups) {
      calls.push(this.#call(g.writer, await this.#labels.idOf(g.writer), g.ops));
    }
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      for (const call of calls) await c.query(call);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    } finally {
      c.release();
    }
  }

  async write(writer: Label, ops: readonly WriteOp[], guard?: WriteGuard): Promise<boolean> {
    this.#open();
    const wid = this.#labels.idIn(writer) ?? (await this.#labels.idOf(writer));
    if (guard === undefined && ops.length === 1) {
      await this.#put(writer, wid, ops[0] as WriteOp);
      return true;
    }
    const call = this.#call(writer, wid, ops);
    if (guard === undefined) {
      await this.#pool.query(call);
      return true;
    }
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [guard.key]);
      if (!jsonEqual(await this.#current(c, writer, guard.key), guard.expected)) {
        await c.query('ROLLBACK');
        return false;
      }
      await c.query(call);
      await c.query('COMMIT');
      return true;
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    } finally {
      c.release();
    }
  }

  async scan(reader: Label, range: ScanRange): Promise<ScanEntry[]> {
    this.#open();
    const ids = labelIds(reader);
    const r = await this.#pool.query<{ key: string; value: string }>({
      name: 'sluice_scan',
      text: SCAN,
      values: [ids.secrecy, ids.integrity, range.after ?? '', range.prefix, range.limit],
    });
    return r.rows.map((row) => ({ key: row.key, value: decodeValue(row.value) }));
  }

  async count(reader: Label, prefix: string): Promise<number> {
    this.#open();
    const ids = labelIds(reader);
    const r = await this.#pool.query<{ n: number }>({
      name: 'sluice_count',
      text: COUNT,
      values: [ids.secrecy, ids.integrity, '', prefix],
    });
    return (r.rows[0] as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
