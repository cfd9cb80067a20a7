/**
 * Keyed operator state kept in the faceted store (Pipeline({ state })): a SIGKILLed process
 * resumes with exactly the results of an uninterrupted run; each key's state lives at that
 * key's label only; a key's secret inputs never change what another key or the public sees;
 * corrupt or incompatible state is a clear error that writes nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { Label, type Tag } from '../src/labels.js';
import { Engine } from '../src/index.js';
import {
  debounce,
  from,
  fromAsync,
  keyBy,
  Pipeline,
  map,
  reduce,
  scan,
  tap,
  toCallback,
  windowCount,
  windowTime,
  filter,
} from '../src/operators.js';
import { FacetedStore, type JsonValue, type StoreView } from '../src/store.js';
import { closeAll, storeBackends } from './support/store-backends.js';
import { startPostgres } from './support/postgres.js';
import { expected, keptPipeline, type Rec } from './support/kept-pipeline.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-kept-'));
  dirs.push(d);
  return d;
}
after(async () => {
  await closeAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function records(n: number, keys = 17, seed = 1): Rec[] {
  let x = seed;
  const out: Rec[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push({ k: `key-${String(x % keys)}`, v: (x >> 8) % 1000 });
  }
  return out;
}

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'support', 'kept-child.js');

interface ChildResult {
  readonly results: Record<string, unknown>;
  readonly resumed: Record<string, number>;
}

/** Run the child; with `killAt`, SIGKILL it once it reports that many events. */
function child(dataDir: string, input: string, killAt?: number): Promise<ChildResult | 'killed'> {
  const out = join(dataDir, 'out.json');
  const args = [CHILD, dataDir, input, out, killAt === undefined ? 'fast' : 'slow'];
  const c = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_KEPT_CHILD: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  c.stdout.setEncoding('utf8');
  c.stdout.on('data', (d: string) => {
    text += d;
    const m = /progress (\d+)\n[^\n]*$/.exec(text);
    if (killAt !== undefined && m !== null && Number(m[1]) >= killAt) c.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    c.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve(JSON.parse(readFileSync(out, 'utf8')) as ChildResult);
      else reject(new Error(`child exited with ${String(code)}`));
    });
  });
}

describe('kept state: a restarted process resumes', () => {
  it('SIGKILLed mid-run, restarted, gives the results of an uninterrupted run (SQLite file)', async () => {
    const recs = records(30000);
    const dir = tempDir();
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const whole = await child(join(dir, 'whole'), input);
    assert.notEqual(whole, 'killed');
    const w = whole as ChildResult;
    assert.deepEqual(w.results, expected(recs));
    assert.deepEqual(w.resumed, { records: 0 });

    const data = join(dir, 'crash');
    assert.equal(await child(data, input, 8000), 'killed');
    const again = await child(data, input);
    assert.notEqual(again, 'killed');
    const a = again as ChildResult;
    // It resumed mid-run: some events came from the kept state, the rest were read again.
    const from = a.resumed.records as number;
    assert.ok(from > 0 && from < 30000, `resumed at ${String(from)}`);
    assert.deepEqual(a.results, w.results);
  });
});

/** Every entry a view sees (all pages). */
async function everything(v: StoreView): Promise<{ key: string; value: JsonValue }[]> {
  const out: { key: string; value: JsonValue }[] = [];
  let cursor: string | undefined;
  do {
    const page = await v.scan({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** The integrity tag every kept record carries (derived from the seed: `<pipeline>/kept`). */
function keptTagOf(p: Pipeline, store: FacetedStore): Tag {
  return p.engine.deriveTag(store.tagSeed(), `${p.name}/kept`, `${p.name}:kept`).tag;
}
function keptTag(p: Pipeline, store: FacetedStore): string {
  return keptTagOf(p, store).id;
}

/** The host's view at `l` with the kept-state integrity: where the checkpointer writes (views
 * handed to units never carry it, so only the host can corrupt kept state). */
function hostView(p: Pipeline, store: FacetedStore, l: Label): StoreView {
  return store.at(Label.of({ secrecy: l.secrecy, integrity: [keptTagOf(p, store)] }));
}

describe('kept state: each key at its own label', () => {
  const recs = records(3000, 5);
  for (const b of storeBackends()) {
    it(`${b.name}: a key's state is visible at its label only; public sees nothing`, async () => {
      const store = await b.open();
      const k = keptPipeline(store, recs, { every: 250 });
      const report = await k.run();
      assert.deepEqual(report.failures, []);
      assert.deepEqual(k.results, expected(recs));
      const RAW = Label.secrecy(k.bts.tag);
      const at = (key: string) => RAW.join(k.keys.label(key));
      const state = (items: { key: string }[]) => items.filter((e) => e.key.includes('/k/'));

      assert.deepEqual(await everything(store.at(Label.public)), []);
      assert.equal(await store.at(Label.public).count(), 0);
      // The router's label (S{bts}) holds the positions and the key names, no key's state.
      assert.deepEqual(state(await everything(store.at(RAW))), []);
      for (const key of Object.keys(expected(recs))) {
        const mine = state(await everything(store.at(at(key))));
        assert.deepEqual(mine, [
          {
            key: mine[0]?.key,
            value: { k: `s:${key}`, s: expected(recs)[key] as unknown as JsonValue },
          },
        ]);
        assert.ok(mine[0]?.key.endsWith(`/k/s:${key}`));
        // Another key's view, and a key's tag alone (without bts), see nothing of it.
        const other = key === 'key-0' ? 'key-1' : 'key-0';
        assert.equal(await store.at(at(other)).get(mine[0]?.key as string), undefined);
        assert.equal(await store.at(k.keys.label(key)).get(mine[0]?.key as string), undefined);
      }
    });
  }

  it('SQLite rows of key k carry exactly ⟨{bts, key:k}, {kept}⟩', async () => {
    const dir = tempDir();
    const store = await FacetedStore.sqlite({ dataDir: dir });
    const k = keptPipeline(store, recs, { every: 100 });
    await k.run();
    const kept = keptTag(k.pipeline, store);
    await store.close();
    const db = new Database(join(dir, 'sluice-store.sqlite'), { readonly: true });
    try {
      const rows = db
        .prepare(
          `SELECT f.key, l.text FROM sluice_facets f JOIN sluice_labels l ON l.id = f.label_id
           WHERE f.key LIKE '%/k/%'`,
        )
        .all() as { key: string; text: string }[];
      assert.equal(rows.length, Object.keys(expected(recs)).length);
      for (const r of rows) {
        const key = r.key.slice(r.key.lastIndexOf('/s:') + 3);
        const want = [k.bts.tag.id, ...k.keys.label(key).secrecy.map((t) => t.id)].sort();
        assert.deepEqual(JSON.parse(r.text), { secrecy: want, integrity: [kept] });
      }
    } finally {
      db.close();
    }
  });

  it('PostgreSQL rows of key k carry exactly ⟨{bts, key:k}, {kept}⟩', async () => {
    const srv = await startPostgres();
    try {
      const schema = srv.schema();
      const store = await FacetedStore.postgres({ connection: srv.connection, schema });
      const k = keptPipeline(store, recs, { every: 400 });
      await k.run();
      const kept = keptTag(k.pipeline, store);
      await store.close();
      const c = new pg.Client(srv.connection);
      await c.connect();
      try {
        const r = await c.query<{ key: string; secrecy: string[]; integrity: string[] }>(
          `SELECT f.key, l.secrecy, l.integrity FROM ${pg.escapeIdentifier(schema)}.sluice_facets f
           JOIN ${pg.escapeIdentifier(schema)}.sluice_labels l ON l.id = f.label_id
           WHERE f.key LIKE $1`,
          ['%/k/%'],
        );
        assert.equal(r.rows.length, Object.keys(expected(recs)).length);
        for (const row of r.rows) {
          const key = row.key.slice(row.key.lastIndexOf('/s:') + 3);
          const want = [k.bts.tag.id, ...k.keys.label(key).secrecy.map((t) => t.id)].sort();
          assert.deepEqual([...row.secrecy].sort(), want);
          assert.deepEqual(row.integrity, [kept]);
        }
      } finally {
        await c.end();
      }
    } finally {
      await srv.stop();
    }
  });
});

describe('kept state: resumes on PostgreSQL and in memory', () => {
  for (const b of storeBackends().filter((x) => x.name !== 'sqlite')) {
    it(`${b.name}: a run stopped mid-way, resumed by a new pipeline, gives the same results`, async () => {
      const recs = records(20000, 9, 7);
      const dir = tempDir();
      const input = join(dir, 'in.ndjson');
      writeFileSync(input, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const store = await b.open();
      const first = keptPipeline(store, input, {
        every: 300,
        onProgress: (n) => {
          if (n === 5000) run.stop();
        },
      });
      const run = first.pipeline.start();
      const r1 = await run.done;
      const stoppedAt = r1.sources.records?.rows ?? 0;
      assert.ok(stoppedAt < 20000, 'the first run stopped early');
      const second = keptPipeline(store, input, { every: 300 });
      const r2 = await second.run();
      assert.ok((r2.resumed?.records ?? 0) >= 5000, 'resumed from the first run');
      assert.deepEqual(second.results, expected(recs));
    });
  }
});

/** Sums per key, kept in `store`; a negative value fails that key's instance. */
async function failingSums(store: FacetedStore, name: string, recs: readonly Rec[], every: number) {
  const p = new Pipeline({ name, state: { store, every } });
  const RAW = Label.secrecy(p.tag('bts').tag);
  const keys = p.family('key');
  const out: Record<string, number> = {};
  p.output(
    from(recs, { label: RAW }).pipe(
      keyBy((r: Rec) => r.k, keys, { element: (r: Rec) => r.v }),
      reduce((a: number, v: number) => {
        if (v < 0) throw new Error('negative');
        return a + v;
      }, 0),
    ),
    toCallback((n: number, info) => (out[String(info.key)] = n), { label: RAW, perKey: keys }),
  );
  const r = await p.run();
  return { out, resumed: r.resumed, RAW, keys };
}

describe('kept state: a key whose instance failed stays failed after a restart', () => {
  const sums = (store: FacetedStore, recs: readonly Rec[]) => failingSums(store, 'dead', recs, 2);

  it('a run over more input resumes past the first and gives the uninterrupted results', async () => {
    const first: Rec[] = [
      { k: 'x', v: 1 },
      { k: 'y', v: 2 },
      { k: 'x', v: -1 },
      { k: 'y', v: 3 },
    ];
    const more: Rec[] = [...first, { k: 'x', v: 5 }, { k: 'y', v: 4 }, { k: 'z', v: 6 }];
    const whole = await sums(FacetedStore.memory(), more);
    assert.deepEqual(whole.out, { y: 9, z: 6 });
    const store = FacetedStore.memory();
    await sums(store, first);
    const resumed = await sums(store, more);
    assert.deepEqual(Object.values(resumed.resumed ?? {}), [4]);
    assert.deepEqual(resumed.out, whole.out);
  });
});

/** What a sink saw, in order: values and errors per key (`-` outside keyed sections). */
type Seen = [string, unknown][];

/**
 * A pipeline over `recs` whose per-key (or unkeyed) stateless `map` fails on some values, with
 * kept state in `store`; `shape` places the map before or after the kept operator.
 */
async function stateless(
  store: FacetedStore,
  shape: 'map-then-reduce' | 'scan-then-map' | 'unkeyed',
  recs: readonly Rec[],
) {
  const p = new Pipeline({ name: `stateless-${shape}`, state: { store, every: 1 } });
  const RAW = Label.secrecy(p.tag('bts').tag);
  const keys = p.family('key');
  const seen: Seen = [];
  const sink = toCallback(
    (v: unknown, info) => {
      seen.push([String(info.key ?? '-'), v]);
    },
    {
      label: RAW,
      ...(shape === 'unkeyed' ? {} : { perKey: keys }),
      onError: (e: unknown, info) => {
        seen.push([String(info.key ?? '-'), `error ${String((e as { code?: string }).code)}`]);
      },
    },
  );
  const src = from(recs, { label: RAW, name: 'records' });
  const bad = (v: number) => {
    if (v === 12 || v < 0) throw Object.assign(new Error('bad'), { code: 'E_BAD' });
    return v;
  };
  const routed = src.pipe(keyBy((r: Rec) => r.k, keys, { element: (r: Rec) => r.v }));
  if (shape === 'map-then-reduce') {
    p.output(
      routed.pipe(
        map(bad),
        reduce((a: number, v: number) => a + v, 0),
      ),
      sink,
    );
  } else if (shape === 'scan-then-map') {
    p.output(
      routed.pipe(
        scan((a: number, v: number) => a + v, 0),
        map(bad),
      ),
      sink,
    );
  } else {
    p.output(
      src.pipe(
        map((r: Rec) => bad(r.v)),
        scan((a: number, v: number) => a + v, 0),
      ),
      sink,
    );
  }
  const report = await p.run();
  return { seen, report };
}

describe('kept state: an instance a stateless operator failed stays failed after a restart', () => {
  const first: Rec[] = [
    { k: 'x', v: 5 },
    { k: 'y', v: 2 },
    { k: 'x', v: 7 },
    { k: 'x', v: -1 },
    { k: 'y', v: 3 },
  ];
  const more: Rec[] = [...first, { k: 'x', v: 1 }, { k: 'y', v: 4 }, { k: 'z', v: 6 }];

  it('keyBy → map (fails key x) → reduce: restarted, key x stays failed', async () => {
    const whole = await stateless(FacetedStore.memory(), 'map-then-reduce', more);
    // x failed in map (-1): its instance ended there and in reduce, which emits nothing for it.
    assert.deepEqual(whole.seen, [
      ['x', 'error E_BAD'],
      ['y', 9],
      ['z', 6],
    ]);
    const store = FacetedStore.memory();
    const a = await stateless(store, 'map-then-reduce', first);
    const b = await stateless(store, 'map-then-reduce', more);
    assert.deepEqual(b.report.resumed, { records: first.length });
    // The end results (reduce emits at the end of each run) equal the uninterrupted run's.
    assert.deepEqual(a.seen, [
      ['x', 'error E_BAD'],
      ['y', 5],
    ]);
    assert.deepEqual(b.seen, [
      ['y', 9],
      ['z', 6],
    ]);
  });

  it('keyBy → scan → map (fails key x at sum 12): restarted, the outputs continue exactly', async () => {
    const whole = await stateless(FacetedStore.memory(), 'scan-then-map', more);
    const store = FacetedStore.memory();
    const a = await stateless(store, 'scan-then-map', first);
    const b = await stateless(store, 'scan-then-map', more);
    assert.deepEqual(b.report.resumed, { records: first.length });
    // Every event is checkpointed (every: 1) and scan emits per event: the two runs' outputs
    // together are the uninterrupted run's, and key x emits nothing after its failure.
    assert.deepEqual([...a.seen, ...b.seen], whole.seen);
    assert.ok(!b.seen.some(([k]) => k === 'x'));
  });

  it('unkeyed map that failed: restarted, it fails again at restore, and nothing follows', async () => {
    const recs = more.map((r, i) => ({ k: 'u', v: i === 3 ? -1 : r.v }));
    const whole = await stateless(FacetedStore.memory(), 'unkeyed', recs);
    assert.deepEqual(whole.seen, [
      ['-', 5],
      ['-', 7],
      ['-', 14],
      ['-', 'error E_BAD'],
    ]);
    const store = FacetedStore.memory();
    const a = await stateless(store, 'unkeyed', recs.slice(0, 5));
    const b = await stateless(store, 'unkeyed', recs);
    assert.deepEqual(a.seen, whole.seen);
    assert.deepEqual(b.report.resumed, { records: 5 });
    // The end is told again (as outputs after the last checkpoint are), with E_STATE_FAILED;
    // no value follows it, as none did in the uninterrupted run.
    assert.deepEqual(b.seen, [['-', 'error E_STATE_FAILED']]);
    assert.deepEqual(b.report.failures, []);
  });

  it('an unkeyed reduce that failed is not restored alive from its last state', async () => {
    const run = async (store: FacetedStore, values: readonly number[]) => {
      const p = new Pipeline({ name: 'dead-reduce', state: { store, every: 1 } });
      const seen: unknown[] = [];
      p.output(
        from(values, { name: 'n' }).pipe(
          reduce((a: number, v: number) => {
            if (v < 0) throw new Error('negative');
            return a + v;
          }, 0),
        ),
        toCallback((v) => seen.push(v), {
          onError: (e) => seen.push(`error ${String((e as { code?: string }).code)}`),
        }),
      );
      await p.run();
      return seen;
    };
    assert.deepEqual(await run(FacetedStore.memory(), [1, 2, -1, 4]), ['error undefined']);
    const store = FacetedStore.memory();
    assert.deepEqual(await run(store, [1, 2, -1]), ['error undefined']);
    // Not 7 (the state kept before the failure, plus 4): it failed, and stays failed.
    assert.deepEqual(await run(store, [1, 2, -1, 4]), ['error E_STATE_FAILED']);
  });
});

describe("kept state: a key's secret inputs never change what others see", () => {
  /** What the public and key b see of the store after a run. */
  async function views(recs: readonly Rec[], every: number) {
    const store = FacetedStore.memory();
    const { RAW, keys } = await failingSums(store, 'prop', recs, every);
    const seen = {
      public: await everything(store.at(Label.public)),
      b: await everything(store.at(RAW.join(keys.label('b')))),
    };
    await store.close();
    return seen;
  }

  it('changing only the values of key a leaves the public and key b views identical', async () => {
    const recArb = fc.array(
      fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }) }),
      { maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(
        recArb,
        fc.array(fc.integer({ min: -3, max: 9 }), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (recs, secret, every) => {
          const changed = recs.map((r, i) =>
            r.k === 'a' ? { k: 'a', v: secret[i] as number } : r,
          );
          assert.deepEqual(await views(changed, every), await views(recs, every));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('kept state: bad input is a clear error and writes nothing', () => {
  async function completed() {
    const store = FacetedStore.memory();
    const recs = records(500, 4);
    const k = keptPipeline(store, recs, { every: 50 });
    await k.run();
    const RAW = Label.secrecy(k.bts.tag);
    let top = RAW;
    for (const key of Object.keys(expected(recs))) top = top.join(k.keys.label(key));
    const host = (l: Label) => hostView(k.pipeline, store, l);
    return { store, recs, k, RAW, host, top: store.at(top) };
  }

  it('a corrupt state record: E_STATE_CORRUPT, and the store is unchanged', async () => {
    const { store, recs, k, RAW, host, top } = await completed();
    const at = host(RAW.join(k.keys.label('key-1')));
    const key = (await everything(at)).find((e) => e.key.endsWith('/k/s:key-1'))?.key as string;
    for (const bad of [42, { k: 's:key-2', s: 1 }, { k: 's:key-1' }] as JsonValue[]) {
      await at.put(key, bad);
      const before = await everything(top);
      await assert.rejects(keptPipeline(store, recs).run(), { code: 'E_STATE_CORRUPT' });
      assert.deepEqual(await everything(top), before);
    }
  });

  it('a corrupt position or key index: E_STATE_CORRUPT', async () => {
    const { store, recs, RAW, host } = await completed();
    const entries = await everything(host(RAW));
    const pos = entries.find((e) => e.key.endsWith('/src/0'))?.key as string;
    const index = entries.find((e) => e.key.includes('/i/'))?.key as string;
    await host(RAW).put(index, { k: 'x:1' });
    await assert.rejects(keptPipeline(store, recs).run(), { code: 'E_STATE_CORRUPT' });
    await host(RAW).put(pos, { v: 1, graph: 'g', pos: 'ten' });
    await assert.rejects(keptPipeline(store, recs).run(), { code: 'E_STATE_CORRUPT' });
    await host(RAW).put(pos, 'nothing');
    await assert.rejects(keptPipeline(store, recs).run(), { code: 'E_STATE_CORRUPT' });
  });

  it('state kept by a different pipeline graph: E_STATE_INCOMPATIBLE, nothing written', async () => {
    const { store, RAW, top } = await completed();
    const before = await everything(top);
    const p = new Pipeline({ name: 'kept-test', state: { store } });
    const bts = p.tag('bts');
    // Derived from the store's seed: the same tag, hence the same label, as the first run's.
    assert.equal(Label.secrecy(bts.tag), RAW);
    const fam = p.family('key');
    p.output(
      from([{ k: 'a', v: 1 }], { label: RAW, name: 'records' }).pipe(
        filter((r: Rec) => r.v > 0),
        keyBy((r: Rec) => r.k, fam),
        reduce((n: number) => n + 1, 0),
      ),
      toCallback(() => undefined, { label: RAW, perKey: fam }),
    );
    await assert.rejects(p.run(), { code: 'E_STATE_INCOMPATIBLE' });
    assert.deepEqual(await everything(top), before);
  });

  it('windowCount restores its open windows; a wrong shape is E_STATE_CORRUPT', async () => {
    const store = FacetedStore.memory();
    const build = (values: readonly number[]) => {
      const p = new Pipeline({ name: 'windows', state: { store, every: 1 } });
      const out: (readonly number[])[] = [];
      p.output(
        from(values, { label: Label.secrecy(p.tag('t').tag) }).pipe(windowCount<number>(3)),
        toCallback((w: readonly number[]) => out.push(w), { label: Label.secrecy(p.tag('t').tag) }),
      );
      return { p, out };
    };
    const first = build([1, 2, 3, 4, 5]);
    const run = first.p.start();
    await run.done;
    // The same input again: everything was processed, the open window [4, 5] is restored.
    const again = build([1, 2, 3, 4, 5]);
    const r = await again.p.run();
    assert.deepEqual(Object.values(r.resumed ?? {}), [5]);
    assert.deepEqual(again.out, [[4, 5]]);
    const seen = build([]);
    const T = Label.secrecy(seen.p.tag('t').tag);
    const key = (await everything(store.at(T))).find((e) => e.key.endsWith('/-'))?.key as string;
    await hostView(seen.p, store, T).put(key, { s: { seen: -1, open: [] } });
    await assert.rejects(build([1]).p.run(), { code: 'E_STATE_CORRUPT' });
  });

  it('windowTime restores its windows and watermark; a wrong shape is E_STATE_CORRUPT', async () => {
    const store = FacetedStore.memory();
    type Ev = { readonly k: string; readonly t: number };
    const events: Ev[] = [
      { k: 'a', t: 1 },
      { k: 'b', t: 2 },
      { k: 'a', t: 12 },
      { k: 'a', t: 3 },
      { k: 'b', t: 14 },
      { k: 'a', t: 5 },
      { k: 'a', t: 25 },
      { k: 'b', t: 13 },
      { k: 'a', t: 26 },
      { k: 'b', t: 31 },
    ];
    /** `at[i]`: how many events had gone through when the i-th window was emitted. */
    const build = (st: FacetedStore, evs: readonly Ev[]) => {
      const p = new Pipeline({ name: 'timed', state: { store: st, every: 1 } });
      const T = Label.secrecy(p.tag('t').tag);
      const keys = p.family('key');
      const out: string[] = [];
      const at: number[] = [];
      let seen = 0;
      p.output(
        from(evs, { label: T, name: 'events' }).pipe(
          tap(() => {
            seen++;
          }),
          keyBy((e: Ev) => e.k, keys, { element: (e: Ev) => e.t }),
          windowTime({ size: 10, slide: 5, timeOf: (t: number) => t }),
        ),
        toCallback(
          (w: { start: number; values: readonly number[] }, info) => {
            out.push(`${String(info.key)}@${String(w.start)}:${w.values.join(',')}`);
            at.push(seen);
          },
          { label: T, perKey: keys },
        ),
      );
      return { p, out, at, T, done: p.run() };
    };
    const whole = build(FacetedStore.memory(), events);
    await whole.done;
    assert.ok(whole.out.length > 4);
    // A run over the first n events, then one over all of them: the second resumes at n and
    // emits exactly the windows the uninterrupted run emitted after its n-th event (the first
    // run flushed its open windows at its end, as any completed run does).
    for (let n = 1; n < events.length; n++) {
      const st = FacetedStore.memory();
      const a = build(st, events.slice(0, n));
      await a.done;
      const b = build(st, events);
      const r = await b.done;
      assert.deepEqual(r.resumed, { events: n });
      const k = whole.at.filter((i) => i <= n).length;
      assert.deepEqual(a.out.slice(0, k), whole.out.slice(0, k));
      assert.deepEqual(b.out, whole.out.slice(k));
    }
    const bad = build(store, events.slice(0, 3));
    await bad.done;
    const key = (
      await everything(hostView(bad.p, store, bad.T.join(bad.p.family('key').label('a'))))
    ).find((e) => e.key.endsWith('/k/s:a'))?.key as string;
    for (const shape of [
      { watermark: 'x', emittedUpTo: null, open: [] },
      { watermark: 1, emittedUpTo: null, open: [[1]] },
      { watermark: 1, emittedUpTo: null },
    ] as JsonValue[]) {
      await hostView(bad.p, store, bad.T.join(bad.p.family('key').label('a'))).put(key, {
        k: 's:a',
        s: shape,
      });
      await assert.rejects(build(store, events).done, { code: 'E_STATE_CORRUPT' });
    }
  });

  it('refuses, before running, what it could not keep or find again', () => {
    const store = FacetedStore.memory();
    const make = () => new Pipeline({ name: 'refused', state: { store } });
    const p1 = make();
    p1.output(
      fromAsync((async function* () {})()),
      toCallback(() => undefined),
    );
    assert.throws(() => p1.start(), { code: 'E_CONFIG', message: /cannot resume/ });
    const p2 = make();
    p2.output(
      from([1]).pipe(debounce(10)),
      toCallback(() => undefined),
    );
    assert.throws(() => p2.start(), { code: 'E_CONFIG', message: /debounce cannot keep/ });
    const p3 = make();
    const random = new Engine().createTag('random');
    p3.output(
      from([1], { label: Label.secrecy(random.tag) }).pipe(reduce((a: number) => a, 0)),
      toCallback(() => undefined, { label: Label.secrecy(random.tag) }),
    );
    assert.throws(() => p3.start(), { code: 'E_CONFIG', message: /not the same after a restart/ });
    assert.throws(() => new Pipeline({ name: 'bad name!', state: { store } }), {
      code: 'E_CONFIG',
    });
    assert.throws(() => new Pipeline({ state: { store, every: 0 } }), { code: 'E_CONFIG' });
    assert.throws(() => new Pipeline({ state: { store: {} as never } }), { code: 'E_CONFIG' });
  });

  // Not the whole run: whether the run goes on must not depend on one instance's (possibly
  // secret) state (DESIGN.md §1, fixed labels; test/adversarial-kept-state.test.ts).
  it('a state that is not JSON data fails that operator with E_STATE_VALUE, not the run', async () => {
    const store = FacetedStore.memory();
    const p = new Pipeline({ name: 'fn-state', state: { store, every: 1 } });
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    p.output(
      from([1, 2]).pipe(reduce((_a: unknown, v: number) => () => v, null as unknown)),
      toCallback((v) => seen.push(v), { onError: (e) => errors.push(e) }),
    );
    const report = await p.run();
    assert.deepEqual(seen, []);
    assert.deepEqual(
      errors.map((e) => (e as { code?: unknown }).code),
      ['E_STATE_VALUE'],
    );
    assert.deepEqual(
      report.failures.map((f) => (f.error as { code?: unknown }).code),
      ['E_STATE_VALUE'],
    );
  });
});
