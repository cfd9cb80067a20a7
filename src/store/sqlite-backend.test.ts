import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FacetedStore } from '../store.js';
import { Label } from '../labels.js';

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
});
