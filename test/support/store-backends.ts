/**
 * The three store backends, for suites that run the same cases against each (Hono-style
 * conformance). `open()` always gives a fresh, empty store: a new SQLite file, a new PostgreSQL
 * schema. Call `closeAll()` in an `after` hook.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacetedStore } from '../../src/store.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export interface BackendFixture {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  /** A fresh empty store. */
  open(): Promise<FacetedStore>;
  /** Reopen the store `open` last made, on the same file or schema (not for memory). */
  reopen(): Promise<FacetedStore>;
  /** How many fast-check runs this backend can afford. */
  readonly runs: number;
}

let pgServer: Promise<TestPostgres> | undefined;
const opened: FacetedStore[] = [];
const dirs: string[] = [];

function track(s: FacetedStore): FacetedStore {
  opened.push(s);
  return s;
}

export function storeBackends(runs = { memory: 100, sqlite: 30, postgres: 15 }): BackendFixture[] {
  let lastDir = '';
  let lastSchema = '';
  return [
    {
      name: 'memory',
      runs: runs.memory,
      open: () => Promise.resolve(track(FacetedStore.memory())),
      reopen: () => Promise.reject(new Error('a memory store does not persist')),
    },
    {
      name: 'sqlite',
      runs: runs.sqlite,
      open: async () => {
        lastDir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
        dirs.push(lastDir);
        return track(await FacetedStore.sqlite({ dataDir: lastDir }));
      },
      reopen: async () => track(await FacetedStore.sqlite({ dataDir: lastDir })),
    },
    {
      name: 'postgres',
      runs: runs.postgres,
      open: async () => {
        pgServer ??= startPostgres();
        const srv = await pgServer;
        lastSchema = srv.schema();
        return track(
          await FacetedStore.postgres({ connection: srv.connection, schema: lastSchema }),
        );
      },
      reopen: async () => {
        const srv = await (pgServer as Promise<TestPostgres>);
        return track(
          await FacetedStore.postgres({ connection: srv.connection, schema: lastSchema }),
        );
      },
    },
  ];
}

/** Close every store opened here, stop the PostgreSQL server, delete temp files. */
export async function closeAll(): Promise<void> {
  for (const s of opened.splice(0)) await s.close();
  if (pgServer !== undefined) {
    const srv = await pgServer;
    pgServer = undefined;
    await srv.stop();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
