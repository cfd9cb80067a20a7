import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FacetedStore } from '../store.js';
import { Label } from '../labels.js';
import { Engine } from '../index.js';

describe('SQLite backend: schema', () => {
  it('creates the schema once, records its version, and refuses a newer one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
    try {
      const s = await FacetedStore.sqlite({ dataDir: join(dir, 'nested', 'data') });
      await s.at(Label.public).put('k', 1);
      await s.close();
      const again = await FacetedStore.sqlite({ dataDir: join(dir, 'nested', 'data') });
      assert.equal(await again.at(Label.public).get('k'), 1);
      await again.close();
      const db = new Database(join(dir, 'nested', 'data', 'sluice-store.sqlite'));
      assert.deepEqual(db.prepare('SELECT version FROM sluice_schema').all(), [{ version: 2 }]);
      db.prepare('UPDATE sluice_schema SET version = 99').run();
      db.close();
      await assert.rejects(FacetedStore.sqlite({ dataDir: join(dir, 'nested', 'data') }), {
        code: 'E_STORE_SCHEMA',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates a version 1 file (data kept, a tag seed made once) and refuses a corrupt seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
    try {
      const s = await FacetedStore.sqlite({ dataDir: dir });
      await s.at(Label.public).put('k', 1);
      await s.close();
      const file = join(dir, 'sluice-store.sqlite');
      let db = new Database(file);
      db.exec('DROP TABLE sluice_meta; UPDATE sluice_schema SET version = 1');
      db.close();
      const v2 = await FacetedStore.sqlite({ dataDir: dir });
      assert.equal(await v2.at(Label.public).get('k'), 1);
      const seed = v2.tagSeed();
      assert.equal(seed.length, 32);
      seed.fill(0); // a copy: the store's seed is unchanged
      await v2.close();
      const again = await FacetedStore.sqlite({ dataDir: dir });
      const other = await FacetedStore.sqlite({ dataDir: dir });
      assert.deepEqual(again.tagSeed(), other.tagSeed());
      await other.close();
      assert.notDeepEqual(again.tagSeed(), new Uint8Array(32));
      await again.close();
      db = new Database(file);
      db.prepare("UPDATE sluice_meta SET value = 'xyz' WHERE name = 'tag-seed'").run();
      db.close();
      await assert.rejects(FacetedStore.sqlite({ dataDir: dir }), { code: 'E_STORE_CORRUPT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite backend: labels interned by another process', () => {
  it('gets and puts see labels interned after their copy was made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
    const e = new Engine();
    const a = e.createTag('a').tag;
    const b = e.createTag('b').tag;
    const [A, B, AB] = [Label.secrecy(a), Label.secrecy(b), Label.secrecy(a, b)];
    try {
      const one = await FacetedStore.sqlite({ dataDir: dir });
      const two = await FacetedStore.sqlite({ dataDir: dir });
      await one.at(A).put('k', 'a1'); // `one` knows only A
      await two.at(B).put('k', 'b'); // newest, at a label `one` has not seen, hidden from A
      assert.equal(await one.at(A).get('k'), 'a1');
      assert.equal(await one.at(AB).get('k'), 'b');
      await one.at(A).put('j', 'a1');
      await two.at(AB).put('j', 'ab'); // AB ⊒ A, unknown to `one`
      await one.at(A).put('j', 'a2'); // must remove the facet at AB
      assert.equal(await two.at(AB).get('j'), 'a2');
      await one.close();
      await two.close();
      const db = new Database(join(dir, 'sluice-store.sqlite'));
      const rows = db.prepare("SELECT label_id FROM sluice_facets WHERE key = 'j'").all();
      db.close();
      assert.equal(rows.length, 1, 'only the facet at A is left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
