/**
 * `npm run bench -- store`: get and put ops/s through the faceted store, for each backend,
 * against a plain key-value table on the same backend (same value codec: validate, copy,
 * freeze), alternating rounds in one process. Each key holds two facets (public and ⟨{a}, ∅⟩);
 * the view is at ⟨{a}, ∅⟩, so every get chooses between facets and every put replaces one.
 * Operations are awaited one at a time (latency-bound, as a handler would do them).
 * Both sides of a backend get the same durability settings, prepared statements and round trips
 * per op (PostgreSQL: one each). The machine is shared, so the ratios are paired: each round
 * measures both sides back to back (alternating which goes first), and a ratio is the median of
 * the rounds' ratios, so load that comes and goes hits both sides of a round alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Label } from '../src/labels.js';
import { Engine } from '../src/index.js';
import { FacetedStore, type JsonValue } from '../src/store.js';
import { decodeValue, encodeValue } from '../src/store/json-value.js';
import { startPostgres } from '../test/support/postgres.js';
import { machine, median, sig, timeNsAsync } from './stats.js';

interface Kv {
  get(key: string): Promise<JsonValue | undefined>;
  put(key: string, value: JsonValue): Promise<void>;
}

const KEYS = 1000;
const ROUNDS = 9;
const key = (i: number) => `user/${String(i % KEYS).padStart(5, '0')}`;
const value = (i: number): JsonValue => ({
  id: i,
  name: 'sluice',
  tags: ['a', 'b'],
  score: i * 0.5,
});

class PlainMemory implements Kv {
  readonly #m = new Map<string, JsonValue>();
  get(k: string) {
    return Promise.resolve(this.#m.get(k));
  }
  put(k: string, v: JsonValue) {
    this.#m.set(k, encodeValue(v).value);
    return Promise.resolve();
  }
}

function plainSqlite(dir: string): Kv & { close(): void } {
  const db = new Database(join(dir, 'plain.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
  );
  const get = db.prepare<[string], [string]>('SELECT value FROM kv WHERE key = ?').raw(true); // rows as arrays, as the faceted backend reads them
  const put = db.prepare<[string, string]>(
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    get: (k) => {
      const r = get.get(k);
      return Promise.resolve(r === undefined ? undefined : decodeValue(r[0]));
    },
    put: (k, v) => {
      put.run(k, encodeValue(v).json);
      return Promise.resolve();
    },
    close: () => db.close(),
  };
}

async function plainPostgres(connection: pg.PoolConfig, schema: string) {
  const pool = new pg.Pool({ ...connection, options: `-c search_path=${schema}` });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  await pool.query(
    'CREATE TABLE IF NOT EXISTS kv (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)',
  );
  const kv: Kv & { close(): Promise<void> } = {
    get: async (k) => {
      const r = await pool.query<[string]>({
        name: 'get',
        text: 'SELECT value FROM kv WHERE key = $1',
        values: [k],
        rowMode: 'array', // as the faceted backend reads rows
      });
      const row = r.rows[0];
      return row === undefined ? undefined : decodeValue(row[0]);
    },
    put: async (k, v) => {
      await pool.query({
        name: 'put',
        text: 'INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        values: [k, encodeValue(v).json],
      });
    },
    close: () => pool.end(),
  };
  return kv;
}

/** ops/s of `n` gets and of `n` puts. */
async function measure(kv: Kv, n: number, offset: number): Promise<{ get: number; put: number }> {
  const putNs = await timeNsAsync(async () => {
    for (let i = 0; i < n; i++) await kv.put(key(i + offset), value(i + offset));
  });
  let found = 0;
  const getNs = await timeNsAsync(async () => {
    for (let i = 0; i < n; i++) if ((await kv.get(key(i * 7 + offset))) !== undefined) found++;
  });
  if (found !== n) throw new Error('benchmark lost keys');
  return { get: (n * 1e9) / getNs, put: (n * 1e9) / putNs };
}

/** A 50/50 get/put mix, from the two rates. */
const mixed = (r: { get: number; put: number }) => 2 / (1 / r.get + 1 / r.put);

async function compare(name: string, faceted: Kv, plain: Kv, n: number) {
  for (const kv of [faceted, plain]) await measure(kv, Math.min(n, KEYS), 0); // fill and warm up
  const f: { get: number; put: number }[] = [];
  const p: { get: number; put: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      f.push(await measure(faceted, n, r));
      p.push(await measure(plain, n, r));
    } else {
      p.push(await measure(plain, n, r));
      f.push(await measure(faceted, n, r));
    }
  }
  /** Median over rounds of plain ÷ faceted for one figure (paired). */
  const paired = (g: (x: { get: number; put: number }) => number) =>
    median(f.map((x, i) => g(p[i] as { get: number; put: number }) / g(x)));
  const med = (xs: { get: number; put: number }[]) => ({
    get: median(xs.map((x) => x.get)),
    put: median(xs.map((x) => x.put)),
    mixed: median(xs.map(mixed)),
  });
  const fm = med(f);
  const pm = med(p);
  const ratio = paired(mixed);
  const fmt = (x: number) => `${sig(x / 1000)} k/s`;
  process.stdout.write(
    `${name.padEnd(9)} faceted get ${fmt(fm.get)} put ${fmt(fm.put)} mixed ${fmt(fm.mixed)} | ` +
      `plain get ${fmt(pm.get)} put ${fmt(pm.put)} mixed ${fmt(pm.mixed)} | ` +
      `ratio get ${sig(paired((x) => x.get))} put ${sig(paired((x) => x.put))} mixed ${sig(ratio)}\n`,
  );
  return { ratio, faceted: fm.mixed };
}

/** Two facets per key: a public one and one at `secret` (the view's label). */
async function seed(s: FacetedStore, secret: Label): Promise<Kv> {
  const pub = s.at(Label.public);
  for (let i = 0; i < KEYS; i += 100) {
    await pub.batch(
      Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: 0 })),
    );
  }
  return s.at(secret);
}

export async function main(): Promise<void> {
  const secret = Label.secrecy(new Engine().createTag('a').tag);
  process.stdout.write(
    `store: ${KEYS} keys, ${ROUNDS} rounds per backend, medians; ${machine()}\n`,
  );

  const mem = FacetedStore.memory();
  const memory = await compare('memory', await seed(mem, secret), new PlainMemory(), 50_000);
  await mem.close();

  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const lite = await FacetedStore.sqlite({ dataDir: dir });
  const plainLite = plainSqlite(dir);
  const sqlite = await compare('sqlite', await seed(lite, secret), plainLite, 5_000);
  await lite.close();
  plainLite.close();
  rmSync(dir, { recursive: true, force: true });

  const server = await startPostgres();
  const schema = server.schema();
  const pgs = await FacetedStore.postgres({ connection: server.connection, schema });
  const plainPg = await plainPostgres(server.connection, schema);
  const postgres = await compare('postgres', await seed(pgs, secret), plainPg, 1_000);
  await pgs.close();
  await plainPg.close();
  await server.stop();

  process.stdout.write(
    `${JSON.stringify({
      bench: 'store',
      memory_ratio: sig(memory.ratio),
      sqlite_ratio: sig(sqlite.ratio),
      postgres_ratio: sig(postgres.ratio),
      sqlite_faceted_ops_per_s: Math.round(sqlite.faceted),
      postgres_faceted_ops_per_s: Math.round(postgres.faceted),
    })}\n`,
  );
}
