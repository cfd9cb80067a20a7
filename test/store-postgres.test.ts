/**
 * The PostgreSQL store's per-process copy of the labels table: two stores on one schema (as two
 * processes would be), labels one of them interns after the other made its copy, readers and
 * writers with more labels than an id list carries, and the migration to one sequence. Where a
 * removed facet would be hidden anyway (a put's own facet is newer and flows to it), the rows
 * are counted in SQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import { FacetedStore } from '../src/store.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';

const engine = new Engine();
const a = engine.createTag('alice').tag;
const b = engine.createTag('bob').tag;
const PUB = Label.public;
const A = Label.secrecy(a);
const B = Label.secrecy(b);
const AB = Label.secrecy(a, b);

let srv: TestPostgres;
const opened: FacetedStore[] = [];
const pools: pg.Pool[] = [];

before(async () => {
  srv = await startPostgres();
});
after(async () => {
  for (const s of opened) await s.close();
  for (const p of pools) await p.end();
  await srv.stop();
});

/** Two stores on one fresh schema, and a pool to look at its rows. */
async function twoStores(): Promise<[FacetedStore, FacetedStore, pg.Pool]> {
  const schema = srv.schema();
  const one = await FacetedStore.postgres({ connection: srv.connection, schema });
  const two = await FacetedStore.postgres({ connection: srv.connection, schema });
  opened.push(one, two);
  const sql = new pg.Pool({ ...srv.connection, options: `-c search_path=${schema}` });
  pools.push(sql);
  return [one, two, sql];
}

/** The labels (as text) of the facets `key` holds, in sequence order. */
async function facets(sql: pg.Pool, key: string): Promise<string[]> {
  const r = await sql.query<{ text: string }>(
    `SELECT l.text FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
     WHERE f.key = $1 ORDER BY f.seq`,
    [key],
  );
  return r.rows.map((x) => x.text);
}

const text = (l: Label) => JSON.stringify({ secrecy: l.toJSON().secrecy.sort(), integrity: [] });

describe('PostgreSQL store: labels interned by another process', () => {
  it('a get sees facets at labels interned after its copy was made', async () => {
    const [one, two] = await twoStores();
    await one.at(A).put('k', 'a');
    await two.at(AB).put('k', 'ab'); // AB: unknown to `one`
    assert.equal(await one.at(AB).get('k'), 'ab');
    assert.equal(await one.at(A).get('k'), 'a');
    assert.equal(await one.at(B).get('k'), undefined);
    await two.at(B).put('j', 'b'); // B: unknown to `one` (its copy was refreshed for AB)
    assert.equal(await one.at(PUB).get('j'), undefined);
    assert.equal(await one.at(AB).get('j'), 'b');
  });

  it('a put removes facets at labels above it that were interned after its copy', async () => {
    const [one, two, sql] = await twoStores();
    await one.at(A).put('k', 'a1'); // `one` knows only A: no stored label is above A
    await two.at(AB).put('k', 'ab'); // AB ⊒ A, unknown to `one`
    await one.at(A).put('k', 'a2');
    assert.deepEqual(await facets(sql, 'k'), [text(A)]);
    assert.equal(await two.at(AB).get('k'), 'a2');

    // The same when the writer already knows labels above it (the put that removes in SQL).
    await one.at(PUB).put('j', 'p');
    await one.at(A).put('j', 'a');
    await two.at(B).put('j', 'b'); // B ⊒ public, unknown to `one`
    await two.at(AB).put('j', 'ab');
    await one.at(PUB).put('j', 'p2');
    assert.deepEqual(await facets(sql, 'j'), [text(PUB)]);
    for (const l of [PUB, A, B, AB]) assert.equal(await two.at(l).get('j'), 'p2');
  });

  it('a put never removes facets at labels not above it, known or not', async () => {
    const [one, two, sql] = await twoStores();
    await one.at(AB).put('k', 'ab');
    await two.at(B).put('k', 'b'); // B: not ⊒ A, unknown to `one`
    await one.at(A).put('k', 'a');
    assert.deepEqual(await facets(sql, 'k'), [text(B), text(A)]);
    assert.equal(await one.at(B).get('k'), 'b');
    assert.equal(await one.at(AB).get('k'), 'a');
  });
});

describe('PostgreSQL store: more labels than an id list carries', () => {
  it('readers with many hidden labels and writers with many labels above them', async () => {
    const [one, two, sql] = await twoStores();
    const many = Array.from({ length: 105 }, (_, i) =>
      Label.secrecy(engine.createTag(`t${i}`).tag),
    );
    for (const [i, l] of many.entries()) await one.at(l).put('k', i);
    await one.at(A).put('k', 'a');
    assert.equal(await one.at(PUB).get('k'), undefined, '105 hidden labels: checked in SQL');
    assert.equal(await two.at(PUB).get('k'), undefined);
    assert.equal(await one.at(many[3] as Label).get('k'), 3);
    assert.equal(await one.at(A).get('k'), 'a');
    await one.at(PUB).put('k', 'p'); // 106 labels above public
    assert.deepEqual(await facets(sql, 'k'), [text(PUB)]);
    for (const l of [PUB, A, ...many.slice(0, 5)]) assert.equal(await two.at(l).get('k'), 'p');
  });
});

describe('PostgreSQL store: migration 4 (one sequence, dense label ids)', () => {
  it('new facets are newer than every facet stored before the migration', async () => {
    const [one, , sql] = await twoStores();
    await one.at(A).put('k', 'a');
    await one.at(PUB).put('j', 'p');
    // Make the schema look like version 3 with large per-key sequence numbers.
    await sql.query(`UPDATE sluice_facets SET seq = seq + 1000000;
      DROP FUNCTION sluice_intern(text[], text[], text); DROP SEQUENCE sluice_seq;
      CREATE FUNCTION sluice_put(integer, text[], text[], text, text) RETURNS void
        LANGUAGE sql AS 'SELECT';
      UPDATE sluice_schema SET version = 3`);
    const schema = (await sql.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
    const again = await FacetedStore.postgres({ connection: srv.connection, schema: schema ?? '' });
    opened.push(again);
    assert.equal(await again.at(AB).get('k'), 'a');
    await again.at(B).put('k', 'b');
    assert.equal(await again.at(AB).get('k'), 'b', 'the new facet is the newest');
    await again.at(AB).put('j', 'ab');
    await again.at(PUB).put('j', 'p2');
    assert.deepEqual(await facets(sql, 'j'), [text(PUB)]);
    const v = await sql.query<{ version: number }>('SELECT version FROM sluice_schema');
    assert.equal(v.rows[0]?.version, 4);
  });
});
