import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { seedOf, StoreError } from './store-error.js';

/** sluice_write's start: lock its keys (sorted, so two batches cannot deadlock). */
const LOCK_KEYS = `   DECLARE
     n integer := coalesce(array_length(p_keys, 1), 0);
   BEGIN
     IF n = 1 THEN
       PERFORM pg_advisory_xact_lock(hashtextextended(p_keys[1], 0));
     ELSE
       PERFORM pg_advisory_xact_lock(h)
         FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(p_keys) AS k ORDER BY 1) AS t;
     END IF;
`;

/**
 * Schema migrations of the PostgreSQL store, in order (a function gets the escaped schema name,
 * an identifier validated by the backend, never data). Labels are kept as sorted tag-id arrays
 * so that flows can be checked in SQL with array containment: facet ⊑ reader iff
 * secrecy <@ S(reader) and integrity @> I(reader). Every write of a key holds that key's
 * advisory lock until it commits (so compare-and-set is atomic against every write) and takes
 * its facet's sequence number from `sluice_seq` while holding it, so a key's facets are ordered
 * as their writes committed.
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
${LOCK_KEYS}     FOR j IN 1 .. n LOOP
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
  // (Migration 3 made a one-key put function, sluice_put; migration 4 replaced it.)
  (schema) => `CREATE FUNCTION ${schema}.sluice_put(p_label integer, p_secrecy text[],
                                    p_integrity text[], p_key text, p_value text) RETURNS void
   LANGUAGE plpgsql AS $$ BEGIN RAISE 'replaced by migration 4'; END $$;`,
  // 4. One sequence for every key (a one-key put is then a single SQL statement: no per-key
  // max(seq) read), started above every stored number. Labels get dense ids, assigned under a
  // lock in commit order by `sluice_intern` (a process that has seen label n has seen every
  // label below n, so the ids it knows are exactly 1..n; the column loses its default, so code
  // from before this migration cannot intern with the old sequence). `sluice_write` (batches,
  // compare-and-set, commits) takes its sequence numbers from the same sequence.
  (schema) => `CREATE SEQUENCE ${schema}.sluice_seq;
   SELECT setval('${schema}.sluice_seq', coalesce((SELECT max(seq) FROM ${schema}.sluice_facets), 0) + 1, false);
   ALTER TABLE ${schema}.sluice_labels ALTER COLUMN id DROP DEFAULT;
   DROP FUNCTION ${schema}.sluice_put(integer, text[], text[], text, text);
   CREATE FUNCTION ${schema}.sluice_intern(p_secrecy text[], p_integrity text[], p_text text)
   RETURNS integer LANGUAGE plpgsql AS $$
   DECLARE
     r integer;
   BEGIN
     SELECT id INTO r FROM ${schema}.sluice_labels WHERE text = p_text;
     IF r IS NULL THEN
       PERFORM pg_advisory_xact_lock(hashtextextended('sluice-labels:' || '${schema}', 0));
       SELECT id INTO r FROM ${schema}.sluice_labels WHERE text = p_text;
     END IF;
     IF r IS NULL THEN
       INSERT INTO ${schema}.sluice_labels (id, secrecy, integrity, text)
       SELECT coalesce(max(id), 0) + 1, p_secrecy, p_integrity, p_text FROM ${schema}.sluice_labels
       RETURNING id INTO r;
     END IF;
     RETURN r;
   END $$;
   CREATE OR REPLACE FUNCTION ${schema}.sluice_write(p_label integer, p_secrecy text[],
                                p_integrity text[], p_keys text[], p_values text[]) RETURNS void
   LANGUAGE plpgsql AS $$
${LOCK_KEYS}     FOR j IN 1 .. n LOOP
       DELETE FROM ${schema}.sluice_facets AS f USING ${schema}.sluice_labels AS l
        WHERE f.key = p_keys[j] AND l.id = f.label_id AND f.label_id <> p_label
          AND l.secrecy @> p_secrecy AND l.integrity <@ p_integrity;
       INSERT INTO ${schema}.sluice_facets (key, label_id, seq, value)
       VALUES (p_keys[j], p_label, nextval('${schema}.sluice_seq'), p_values[j])
       ON CONFLICT (key, label_id) DO UPDATE SET seq = excluded.seq, value = excluded.value;
     END LOOP;
   END $$;`,
];

/** Create or migrate the schema; returns the store's tag seed. */
export async function migrate(pool: pg.Pool, schema: string): Promise<Uint8Array> {
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
