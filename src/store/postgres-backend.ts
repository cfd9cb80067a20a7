import { randomBytes } from 'node:crypto';
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
import { closedError, seedOf, StoreError } from './store-error.js';

/**
 * Schema migrations, in order. Labels are kept as sorted tag-id arrays so that flows are
 * checked in SQL with array containment: facet ⊑ reader iff secrecy <@ S(reader) and
 * integrity @> I(reader). `sluice_write` does a whole batch in one round trip: it locks the
 * keys (advisory locks, sorted, so batches cannot deadlock and compare-and-set is atomic),
 * removes the facets at labels ⊒ the writer's (its tag-id arrays are those of the interned
 * row `p_label`) and upserts the writer's facet.
 */
const MIGRATIONS: readonly (string | ((schema: string) => string))[] = [
  `CREATE TABLE sluice_labels (
     id serial PRIMARY KEY,
     secrecy text[] NOT NULL,
     integrity text[] NOT NULL,
     text text NOT NULL UNIQUE
   );
   CREATE TABLE sluice_facets (
     key text COLLATE "C" NOT NULL,
     label_id integer NOT NULL REFERENCES sluice_labels (id),
     seq bigint NOT NULL, -- orders the facets of one key (newest = highest)
     value text, -- JSON text; NULL is a tombstone
     PRIMARY KEY (key, label_id)
   );
   CREATE FUNCTION sluice_write(p_label integer, p_secrecy text[], p_integrity text[],
                                p_keys text[], p_values text[]) RETURNS void
   LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
   DECLARE
     n integer := coalesce(array_length(p_keys, 1), 0);
   BEGIN
     IF n = 1 THEN
       PERFORM pg_advisory_xact_lock(hashtextextended(p_keys[1], 0));
     ELSE
       PERFORM pg_advisory_xact_lock(h)
         FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(p_keys) AS k ORDER BY 1) AS t;
     END IF;
     FOR j IN 1 .. n LOOP
       DELETE FROM sluice_facets AS f USING sluice_labels AS l
        WHERE f.key = p_keys[j] AND l.id = f.label_id AND f.label_id <> p_label
          AND l.secrecy @> p_secrecy AND l.integrity <@ p_integrity;
       INSERT INTO sluice_facets (key, label_id, seq, value)
       VALUES (p_keys[j], p_label,
               (SELECT coalesce(max(seq), 0) + 1 FROM sluice_facets WHERE key = p_keys[j]), p_values[j])
       ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value;
     END LOOP;
   END $$;`,
  // The store's own settings (the tag seed); never reachable through a view.
  `CREATE TABLE sluice_meta (name text PRIMARY KEY, value text NOT NULL);`,
  // The one-key put without a guard, the common write: scalar arguments, tables named with
  // their schema (no per-call \`SET search_path\`, which costs a configuration change per call),
  // the dominated facets found by the same read that finds the key's sequence, and the DELETE
  // run only when there are some. (\`schema\` is the escaped identifier, never data.)
  (schema) => `CREATE FUNCTION ${schema}.sluice_put(p_label integer, p_secrecy text[],
                                    p_integrity text[], p_key text, p_value text) RETURNS void
   LANGUAGE plpgsql AS $$
   DECLARE
     s bigint;
     above integer[];
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 0));
     SELECT max(f.seq), array_agg(f.label_id) FILTER (
              WHERE f.label_id <> p_label AND l.secrecy @> p_secrecy AND l.integrity <@ p_integrity)
       INTO s, above
       FROM ${schema}.sluice_facets AS f JOIN ${schema}.sluice_labels AS l ON l.id = f.label_id
      WHERE f.key = p_key;
     IF above IS NOT NULL THEN
       DELETE FROM ${schema}.sluice_facets WHERE key = p_key AND label_id = ANY (above);
     END IF;
     INSERT INTO ${schema}.sluice_facets (key, label_id, seq, value)
     VALUES (p_key, p_label, coalesce(s, 0) + 1, p_value)
     ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value;
   END $$;`,
];

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Connection settings for the pool (host, port, database, user, …), as `pg` takes them. */
  readonly connection: Omit<pg.PoolConfig, 'options'>;
  /** The schema holding the store's tables (created if missing; default `sluice`). */
  readonly schema?: string;
}

const VISIBLE = 'l.secrecy <@ $1::text[] AND l.integrity @> $2::text[]';
const GET = `SELECT f.value FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
  WHERE f.key = $3 AND ${VISIBLE} ORDER BY f.seq DESC LIMIT 1`;
const PROJECTION = `SELECT DISTINCT ON (f.key) f.key, f.value
  FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
  WHERE f.key > $3 AND f.key >= $4 AND starts_with(f.key, $4) AND ${VISIBLE}
  ORDER BY f.key, f.seq DESC`;
const SCAN = `SELECT key, value FROM (${PROJECTION}) t WHERE value IS NOT NULL ORDER BY key LIMIT $5`;
const COUNT = `SELECT count(*)::integer AS n FROM (${PROJECTION}) t WHERE value IS NOT NULL`;
const INTERN = `WITH ins AS (
    INSERT INTO sluice_labels (secrecy, integrity, text) VALUES ($1, $2, $3)
    ON CONFLICT (text) DO NOTHING RETURNING id)
  SELECT id FROM ins UNION ALL SELECT id FROM sluice_labels WHERE text = $3 LIMIT 1`;

/** Create or migrate the schema; returns the store's tag seed. */
async function migrate(pool: pg.Pool, schema: string): Promise<Uint8Array> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    // One migrator at a time per schema (the lock key is a value, so it is a parameter).
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sluice:${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await c.query('CREATE TABLE IF NOT EXISTS sluice_schema (version integer NOT NULL)');
    const r = await c.query<{ version: number }>('SELECT version FROM sluice_schema');
    const from = r.rows[0]?.version ?? 0;
    if (from > MIGRATIONS.length) {
      throw new StoreError('E_STORE_SCHEMA', `store schema ${from} is newer than this code`);
    }
    for (const m of MIGRATIONS.slice(from)) {
      await c.query(typeof m === 'string' ? m : m(pg.escapeIdentifier(schema)));
    }
    if (r.rows.length === 0) {
      await c.query('INSERT INTO sluice_schema VALUES ($1)', [MIGRATIONS.length]);
    } else await c.query('UPDATE sluice_schema SET version = $1', [MIGRATIONS.length]);
    await c.query(
      "INSERT INTO sluice_meta (name, value) VALUES ('tag-seed', $1) ON CONFLICT (name) DO NOTHING",
      [randomBytes(32).toString('hex')],
    );
    const seed = await c.query<{ value: unknown }>(
      "SELECT value FROM sluice_meta WHERE name = 'tag-seed'",
    );
    await c.query('COMMIT');
    return seedOf(seed.rows[0]?.value);
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
}

/** PostgreSQL through `pg`: flows filtered in SQL, every value a parameter. */
export class PostgresBackend implements StoreBackend {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #labelId = new Map<Label, number>();
  readonly seed: Uint8Array;
  #closed = false;

  private constructor(pool: pg.Pool, seed: Uint8Array) {
    this.#pool = pool;
    this.seed = seed;
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
      return new PostgresBackend(pool, await migrate(pool, schema));
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  #open(): void {
    if (this.#closed) throw closedError();
  }

  async #idOf(l: Label): Promise<number> {
    let id = this.#labelId.get(l);
    if (id === undefined) {
      const ids = labelIds(l);
      const r = await this.#pool.query<{ id: number }>(INTERN, [
        ids.secrecy,
        ids.integrity,
        ids.text,
      ]);
      id = (r.rows[0] as { id: number }).id;
      this.#labelId.set(l, id);
    }
    return id;
  }

  async #current(q: pg.Pool | pg.PoolClient, reader: Label, key: string) {
    const ids = labelIds(reader);
    const r = await q.query<{ value: string | null }>({
      name: 'sluice_get',
      text: GET,
      values: [ids.secrecy, ids.integrity, key],
    });
    const v = r.rows[0]?.value;
    return v === undefined || v === null ? undefined : decodeValue(v);
  }

  get(reader: Label, key: string): Promise<JsonValue | undefined> {
    this.#open();
    return this.#current(this.#pool, reader, key);
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
    for (const g of groups) calls.push(this.#call(g.writer, await this.#idOf(g.writer), g.ops));
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
    const wid = await this.#idOf(writer);
    const one = ops.length === 1 ? (ops[0] as WriteOp) : undefined;
    if (guard === undefined && one !== undefined) {
      const ids = labelIds(writer);
      await this.#pool.query({
        name: 'sluice_put',
        text: 'SELECT sluice_put($1, $2::text[], $3::text[], $4, $5)',
        values: [wid, ids.secrecy, ids.integrity, one.key, one.value?.json ?? null],
      });
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
