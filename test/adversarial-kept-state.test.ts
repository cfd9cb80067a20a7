/**
 * Adversarial review of kept operator state (Pipeline({ state })), as a hostile holder of a
 * store view (a gateway handler at the public label or at one tenant's label) or a hostile unit
 * author. Each attack is a test: those that are stopped prove it; a leak that is not fixed yet
 * is a `todo` test that fails today, with the reason (see also the review report).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import {
  filter,
  from,
  fromNdjson,
  keyBy,
  map,
  Pipeline,
  reduce,
  scan,
  toCallback,
  windowCount,
  type KeyFamily,
} from '../src/operators.js';
import { FacetedStore, type JsonValue, type StoreView } from '../src/store.js';
import { expected, keptPipeline, type Agg, type Rec } from './support/kept-pipeline.js';

const dirs: string[] = [];
const stores: FacetedStore[] = [];
after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sqlite(): Promise<FacetedStore> {
  const d = mkdtempSync(join(tmpdir(), 'sluice-adv-kept-'));
  dirs.push(d);
  const s = await FacetedStore.sqlite({ dataDir: d });
  stores.push(s);
  return s;
}

function memory(): FacetedStore {
  const s = FacetedStore.memory();
  stores.push(s);
  return s;
}

const BACKENDS: readonly { name: string; open: () => Promise<FacetedStore> }[] = [
  { name: 'memory', open: () => Promise.resolve(memory()) },
  { name: 'sqlite', open: sqlite },
];

function records(n: number, keys = 5): Rec[] {
  return Array.from({ length: n }, (_, i) => ({ k: `key-${String(i % keys)}`, v: (i * 37) % 101 }));
}

/** Every entry a view sees (all pages). */
async function everything(v: StoreView, prefix = ''): Promise<{ key: string; value: JsonValue }[]> {
  const out: { key: string; value: JsonValue }[] = [];
  let cursor: string | undefined;
  do {
    const page = await v.scan({ prefix, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('attack: a store view reads what the checkpoint keeps', () => {
  for (const b of BACKENDS) {
    it(`${b.name}: no view, at any label, reaches the seed; each sees only its projection`, async () => {
      const store = await b.open();
      const recs = records(600);
      const k = keptPipeline(store, recs, { every: 50, name: 'victim' });
      await k.run();
      const seed = hex(store.tagSeed());
      const RAW = Label.secrecy(k.bts.tag);
      const keys = Object.keys(expected(recs));
      const at = (key: string) => RAW.join(k.keys.label(key));
      const top = keys.reduce((l, key) => l.join(at(key)), RAW);
      const views = [Label.public, RAW, ...keys.map(at), top].map((l) => store.at(l));
      for (const v of views) {
        const all = await everything(v);
        // The seed is in the store's own table, never among the facets.
        assert.ok(!JSON.stringify(all).includes(seed));
        for (const probe of ['tag-seed', 'sluice_meta', 'sluice/', 'sluice/victim/']) {
          assert.equal(await v.get(probe), undefined);
        }
        // count/keys agree with scan: they reveal nothing scan does not.
        assert.equal(await v.count({ prefix: 'sluice/' }), all.length);
        assert.deepEqual(
          (await v.keys({ limit: 1000 })).items,
          all.map((e) => e.key),
        );
      }
      // Public: nothing at all (the source, hence positions and key names, are at S{bts}).
      assert.deepEqual(await everything(store.at(Label.public)), []);
      assert.equal(await store.at(Label.public).count(), 0);
      // A tenant (one key's label) sees positions, key names and its own state, never another's.
      for (const key of keys) {
        const mine = (await everything(store.at(at(key)))).filter((e) => e.key.includes('/k/'));
        assert.deepEqual(
          mine.map((e) => e.key.slice(e.key.lastIndexOf('/k/') + 3)),
          [`s:${key}`],
        );
      }
      // The whole store at the join of every label: exactly one state row per key.
      const states = (await everything(store.at(top))).filter((e) => e.key.includes('/k/'));
      assert.equal(states.length, keys.length);
      // The seed handed to the host is a copy: changing it changes nothing.
      store.tagSeed().fill(0);
      assert.equal(hex(store.tagSeed()), seed);
    });
  }

  it('a view holds no path to the store or its backend (no own fields, frozen, no seed)', () => {
    const store = memory();
    const v = store.at(Label.public);
    assert.deepEqual(Reflect.ownKeys(v), []);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(Object.getPrototypeOf(v)));
    const names = Object.getOwnPropertyNames(Object.getPrototypeOf(v)).sort();
    assert.deepEqual(names, [
      'batch',
      'compareAndSet',
      'constructor',
      'count',
      'delete',
      'get',
      'keys',
      'label',
      'put',
      'scan',
    ]);
    const Ctor = v.constructor as new (k: symbol, b: unknown, l: Label) => StoreView;
    assert.throws(() => new Ctor(Symbol('sluice.store.view'), {}, Label.public), {
      code: 'E_STORE_INPUT',
    });
  });
});

/** The attacker's writes: every plausible operator index (the layout is documented). */
async function forgeState(v: StoreView, pipeline: string, key: string, s: JsonValue) {
  for (let j = 0; j < 8; j++) {
    await v.put(`sluice/${pipeline}/op/${String(j)}/k/s:${key}`, { k: `s:${key}`, s });
  }
}

describe('attack: a store view writes the reserved state keys before a restart', () => {
  for (const b of BACKENDS) {
    it(`${b.name}: a public view cannot choose the state a restarted pipeline loads for a key`, async () => {
      const store = await b.open();
      const recs = records(400);
      const half = recs.slice(0, 200);
      await keptPipeline(store, half, { name: 'victim' }).run();
      // A handler at the public label: its put erases every facet ⊒ public without integrity.
      await forgeState(store.at(Label.public), 'victim', 'key-1', { n: 1000000, sum: 31337 });
      const again = keptPipeline(store, recs, { name: 'victim' });
      const report = await again.run();
      assert.deepEqual(report.resumed, { records: 200 });
      assert.deepEqual(again.results, expected(recs));
    });

    it(`${b.name}: a tenant's view cannot choose another key's state`, async () => {
      const store = await b.open();
      const recs = records(400);
      const first = keptPipeline(store, recs.slice(0, 200), { name: 'victim' });
      await first.run();
      const tenant = Label.secrecy(first.bts.tag).join(first.keys.label('key-0'));
      await forgeState(store.at(tenant), 'victim', 'key-1', { n: 1000000, sum: 31337 });
      const again = keptPipeline(store, recs, { name: 'victim' });
      await again.run();
      assert.deepEqual(again.results, expected(recs));
    });

    it(`${b.name}: no view can make a restarted pipeline fail a key or an operator (forged failures)`, async () => {
      const store = await b.open();
      const recs = records(400);
      const first = keptPipeline(store, recs.slice(0, 200), { name: 'victim' });
      await first.run();
      const RAW = Label.secrecy(first.bts.tag);
      // Views at every label the pipeline uses (none holds the kept integrity) write failure
      // records for every plausible operator: unkeyed ones, and key-1's at its own label.
      for (const l of [Label.public, RAW, RAW.join(first.keys.label('key-1'))]) {
        const v = store.at(l);
        for (let j = 0; j < 8; j++) {
          await v.put(`sluice/victim/op/${String(j)}/-`, { dead: true });
          await v.put(`sluice/victim/op/${String(j)}/k/s:key-1`, { k: 's:key-1', dead: true });
        }
      }
      const again = keptPipeline(store, recs, { name: 'victim' });
      const report = await again.run();
      assert.deepEqual(report.failures, []);
      assert.deepEqual(report.resumed, { records: 200 });
      assert.deepEqual(again.results, expected(recs));
    });

    it(`${b.name}: a public view cannot move a public source's position, nor make restore fail`, async () => {
      const store = await b.open();
      const run = (recs: readonly Rec[]) => {
        const p = new Pipeline({ name: 'pub', state: { store, every: 10 } });
        const fam = p.family('acct');
        const out: Record<string, Agg> = {};
        p.output(
          from(recs, { name: 'records' }).pipe(
            keyBy((r: Rec) => r.k, fam, { element: (r: Rec) => r.v }),
            reduce((a: Agg, v: number) => ({ n: a.n + 1, sum: a.sum + v }), { n: 0, sum: 0 }),
          ),
          toCallback(
            (a: Agg, info) => {
              out[String(info.key)] = a;
            },
            { perKey: fam },
          ),
        );
        return p.run().then((report) => ({ report, out }));
      };
      const recs = records(300);
      await run(recs.slice(0, 100));
      const pub = store.at(Label.public);
      // The source is public: its position and the key names are readable here, and writable.
      const pos = (await pub.get('sluice/pub/src/0')) as { v: number; graph: string; pos: number };
      assert.equal(pos.pos, 100);
      await pub.put('sluice/pub/src/0', { ...pos, pos: 300 });
      // And a fake key name whose state does not exist (restore would find it corrupt).
      for (let j = 0; j < 8; j++) {
        await pub.put(`sluice/pub/op/${String(j)}/i/s:ghost`, { k: 's:ghost' });
      }
      const { report, out } = await run(recs);
      assert.deepEqual(report.resumed, { records: 100 });
      assert.deepEqual(out, expected(recs));
    });
  }
});

describe('attack: hostile key names', () => {
  const WEIRD: readonly (string | number)[] = [
    '__proto__',
    'constructor',
    'a/k/s:b',
    'op/0/i/x',
    's:x',
    'n:1',
    '1',
    1,
    -0,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'ключ-秘密-🔑',
    '\ud800lone',
    'nul\u0000inside',
    'x'.repeat(300),
    'x'.repeat(299) + 'y',
    'h:' + '0'.repeat(64),
  ];

  it('string and number keys, separators, unicode, __proto__ and long keys keep apart across a restart', async () => {
    const store = memory();
    const recs = WEIRD.flatMap((k, i) =>
      Array.from({ length: 4 }, (_, j) => ({ k, v: i * 10 + j })),
    );
    const sums = (input: readonly { k: string | number; v: number }[]) => {
      const p = new Pipeline({ name: 'weird', state: { store, every: 3 } });
      const fam = p.family('w');
      const out = new Map<string | number, number>();
      p.output(
        from(input, { name: 'in' }).pipe(
          keyBy((r: { k: string | number; v: number }) => r.k, fam, {
            element: (r: { k: string | number; v: number }) => r.v,
          }),
          reduce((a: number, v: number) => a + v, 0),
        ),
        toCallback(
          (s: number, info) => {
            out.set(info.key as string | number, s);
          },
          { perKey: fam },
        ),
      );
      return p.run().then((report) => ({ report, out, fam }));
    };
    await sums(recs.filter((_, i) => i % 4 < 2));
    // Second run: the same events, in the same order, the first half of each key already kept.
    const order = [...recs.filter((_, i) => i % 4 < 2), ...recs.filter((_, i) => i % 4 >= 2)];
    const { report, out, fam } = await sums(order);
    assert.deepEqual(report.failures, []);
    assert.equal(report.resumed?.in, WEIRD.length * 2);
    const want = new Map<string | number, number>();
    for (const r of recs) want.set(r.k, (want.get(r.k) ?? 0) + r.v);
    assert.deepEqual(out, want);
    // Distinct keys get distinct tags; '1' and 1 are different keys.
    assert.notEqual(fam.label('1'), fam.label(1));
    assert.equal(new Set([...want.keys()].map((k) => fam.label(k))).size, want.size);
  });
});

describe('attack: derived tags collide', () => {
  const pname = fc.stringMatching(/^[\w.-]{1,12}$/);
  const tname = fc.stringMatching(/^[\p{L}\p{N}_.:@/-]{1,20}$/u);
  const key = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double());

  it('p.tag and p.family contexts never meet (distinct inputs give distinct tags)', () => {
    const store = memory();
    type Made = { what: string; id: string };
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.tuple(fc.constant('tag' as const), pname, tname),
            fc.tuple(fc.constant('fam' as const), pname, pname, key),
          ),
          { minLength: 2, maxLength: 12 },
        ),
        (specs) => {
          const engine = new Engine();
          const made: Made[] = specs.map((s) => {
            const p = new Pipeline({ name: s[1], engine, state: { store } });
            if (s[0] === 'tag') return { what: JSON.stringify(s), id: p.tag(s[2]).tag.id };
            const k = s[3];
            const which = typeof k === 'number' ? ['n', String(k)] : ['s', k];
            return {
              what: JSON.stringify(['fam', s[1], s[2], ...which]),
              id: (p.family(s[2]).label(k).secrecy[0] as { id: string }).id,
            };
          });
          for (const a of made) {
            for (const b of made) {
              assert.equal(a.what === b.what, a.id === b.id, `${a.what} vs ${b.what}`);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the examples: tenant a:b of family x, tenant b of family x:a, tag named like a family key', () => {
    const store = memory();
    const p = new Pipeline({ name: 'P', state: { store } });
    const x = p.family('x');
    // Family names and pipeline names hold no ':' or '/', so the context cannot be shifted.
    assert.throws(() => p.family('x:a'), { code: 'E_CONFIG' });
    assert.throws(() => p.family('x/s:a'), { code: 'E_CONFIG' });
    assert.throws(() => new Pipeline({ name: 'P/family:x', state: { store } }), {
      code: 'E_CONFIG',
    });
    const tags = [
      x.label('a:b'),
      x.label('b'),
      x.label('a'),
      x.label('s:a'),
      x.label('a/s:b'),
      Label.secrecy(p.tag('family:x/s:a').tag),
      Label.secrecy(p.tag('x/s:a').tag),
      Label.secrecy(p.tag('x:a').tag),
    ];
    assert.equal(new Set(tags).size, tags.length);
    // A different store (seed) gives different tags for the same names.
    const q = new Pipeline({ name: 'P', state: { store: memory() } });
    assert.notEqual(q.family('x').label('a'), x.label('a'));
    assert.notEqual(q.tag('x:a').tag, p.tag('x:a').tag);
    // Without state, the same calls mint random tags, never a derived one.
    const r = new Pipeline({ name: 'P' });
    assert.notEqual(r.tag('x:a').tag, p.tag('x:a').tag);
  });

  it('deriving an interned context again returns the same tag, with its first display name', () => {
    const engine = new Engine();
    const seed = new Uint8Array(32).fill(7);
    const a = engine.deriveTag(seed, 'ctx', 'first');
    const b = engine.deriveTag(seed, 'ctx', 'second');
    // Same identity and same (genuine) privileges: the seed is the authority. The second name
    // is dropped: names are display only (not unique), and nothing in Sluice looks a tag up by
    // name, so this can only make an audit line show the first name.
    assert.equal(a.tag, b.tag);
    assert.equal(b.tag.name, 'first');
    assert.notEqual(engine.createTag('first').tag, a.tag);
  });
});

/** Records at S{bts} keyed by `k`; `between` runs per key before the kept reduce. */
function filtered(store: FacetedStore, recs: readonly Rec[]) {
  const p = new Pipeline({ name: 'filtered', state: { store, every: 1000 } });
  const bts = p.tag('bts');
  const fam = p.family('key');
  const RAW = Label.secrecy(bts.tag);
  p.output(
    from(recs, { label: RAW, name: 'records' }).pipe(
      keyBy((r: Rec) => r.k, fam, { element: (r: Rec) => r.v }),
      filter((v: number) => v > 0),
      reduce((a: number, v: number) => a + v, 0),
    ),
    toCallback(() => undefined, { label: RAW, perKey: fam }),
  );
  return { run: () => p.run(), RAW, fam };
}

describe('attack: what the checkpoint writes below a key instance label', () => {
  it('the key list at the router label reveals nothing decided at a key label (a filter per key)', async () => {
    // The router sees the same keys in both runs; only key-1's (secret) values differ.
    const names = async (secretPositive: boolean) => {
      const store = memory();
      const recs: Rec[] = [
        { k: 'key-0', v: 5 },
        { k: 'key-1', v: secretPositive ? 3 : -3 },
      ];
      const f = filtered(store, recs);
      await f.run();
      const at = await everything(store.at(f.RAW), 'sluice/filtered/op/');
      return at.map((e) => e.value);
    };
    const seen = await names(true);
    assert.deepEqual(await names(false), seen);
    // Both keys are listed (the router routed both), whatever the filter let through.
    assert.deepEqual(seen, [{ k: 's:key-0' }, { k: 's:key-1' }]);
  });

  it('fast-check: runs differing only in key-labelled values leave the same store below each key label', async () => {
    // Per key: a filter, a map that fails on 7 and a reduce (one branch), windows (another),
    // all after one router at S{bts}; only key a's values vary. What is stored at S{bts} (the
    // source, router and operator labels), at public, and at key b's label must not change.
    const run = async (recs: readonly Rec[], every: number) => {
      const store = memory();
      const p = new Pipeline({ name: 'nonint', state: { store, every } });
      const RAW = Label.secrecy(p.tag('bts').tag);
      const fam = p.family('key');
      const keyed = from(recs, { label: RAW, name: 'records' }).pipe(
        keyBy((r: Rec) => r.k, fam, { element: (r: Rec) => r.v }),
      );
      p.output(
        keyed.pipe(
          filter((v: number) => v % 3 !== 0),
          map((v: number) => {
            if (v === 7) throw new Error('seven');
            return v;
          }),
          reduce((a: number, v: number) => a + v, 0),
        ),
        toCallback(() => undefined, { label: RAW, perKey: fam }),
      );
      p.output(
        keyed.pipe(windowCount<number>(2)),
        toCallback(() => undefined, { label: RAW, perKey: fam }),
      );
      await p.run();
      const b = RAW.join(fam.label('b'));
      return {
        public: await everything(store.at(Label.public)),
        raw: await everything(store.at(RAW)),
        b: await everything(store.at(b)),
      };
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }) }),
          { maxLength: 30 },
        ),
        fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (recs, secret, every) => {
          const changed = recs.map((r, i) =>
            r.k === 'a' ? { k: 'a', v: secret[i] as number } : r,
          );
          assert.deepEqual(await run(changed, every), await run(recs, every));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('without a per-key gate the key list is what the router saw (no more)', async () => {
    const store = memory();
    const recs = records(50, 7);
    const k = keptPipeline(store, recs, { name: 'victim', every: 10 });
    await k.run();
    const RAW = Label.secrecy(k.bts.tag);
    const listed = (await everything(store.at(RAW), 'sluice/victim/op/'))
      .filter((e) => e.key.includes('/i/'))
      .map((e) => (e.value as { k: string }).k)
      .sort();
    assert.deepEqual(listed, [...new Set(recs.map((r) => `s:${r.k}`))].sort());
  });
});

/** An NDJSON file of `rows` (read in chunks, so checkpoints commit while the run goes on). */
function ndjson(rows: readonly unknown[]): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-adv-kept-'));
  dirs.push(d);
  const f = join(d, 'in.ndjson');
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

/** Two sources: public numbers (to a public sink) and records at S{bts} scanned per key. */
function twoBranches(
  pubFile: string,
  secretFile: string,
  stateOf: (acc: unknown, v: number) => unknown,
) {
  const p = new Pipeline({ name: 'branches', state: { store: memory(), every: 1 } });
  const bts = p.tag('bts');
  const fam: KeyFamily = p.family('key');
  const RAW = Label.secrecy(bts.tag);
  let pub = 0;
  const perKey: Record<string, number> = {};
  p.output(
    fromNdjson<number>(pubFile, { name: 'public' }).pipe(map((i: number) => i)),
    toCallback(() => {
      pub++;
    }),
  );
  p.output(
    fromNdjson<Rec>(secretFile, { label: RAW, name: 'secret' }).pipe(
      keyBy((r: Rec) => r.k, fam, { element: (r: Rec) => r.v }),
      scan(stateOf, null),
    ),
    toCallback(
      (_: unknown, info) => {
        perKey[String(info.key)] = (perKey[String(info.key)] ?? 0) + 1;
      },
      { label: RAW, perKey: fam },
    ),
  );
  return p.run().then(
    () => ({ pub, key0: perKey['key-0'], failed: '' }),
    (e: unknown) => ({ pub, key0: perKey['key-0'], failed: String(e) }),
  );
}

describe('attack: termination depends on a key secret state', () => {
  const N = 20000;
  const pubFile = ndjson(Array.from({ length: N }, (_, i) => i));
  /** key-1's 4th record is its secret: -1 or -2. */
  const secretFile = (secret: number) =>
    ndjson(
      Array.from({ length: N }, (_, i) => ({ k: `key-${String(i % 2)}`, v: i === 7 ? secret : i })),
    );
  const sticky = (bad: () => unknown) => (acc: unknown, v: number) =>
    typeof acc === 'function' || typeof acc === 'string' || Number.isNaN(acc) || v === -1
      ? bad()
      : v;

  for (const [what, bad] of [
    ['a function (not JSON data)', () => () => 0],
    ['a non-finite number', () => Number.NaN],
    ['more than 1 MiB of JSON', () => 'x'.repeat((1 << 20) + 1)],
  ] as const) {
    it(`key-1's state becoming ${what} changes neither the public sink nor key-0's`, async () => {
      const f = sticky(bad);
      // What sinks saw (the host's own report may differ: the host sees everything).
      const seen = async (secret: number) => {
        const { pub, key0 } = await twoBranches(pubFile, secretFile(secret), f);
        return { pub, key0 };
      };
      assert.deepEqual(await seen(-1), await seen(-2));
    });
  }

  it('the same secret values, JSON all along, change no public output (control)', async () => {
    const f = (_: unknown, v: number) => v;
    const a = await twoBranches(pubFile, secretFile(-1), f);
    assert.deepEqual(a, { pub: N, key0: N / 2, failed: '' });
    assert.deepEqual(await twoBranches(pubFile, secretFile(-2), f), a);
  });
});

describe('attack: resume reports depend on secret state', () => {
  it('report.resumed and the kept positions do not change with secret values (memory, SQLite)', async () => {
    for (const b of BACKENDS) {
      const runWith = async (scale: number) => {
        const store = await b.open();
        const recs = records(500).map((r) => ({ ...r, v: r.v * scale }));
        await keptPipeline(store, recs.slice(0, 250), { name: 'victim', every: 7 }).run();
        const again = keptPipeline(store, recs, { name: 'victim', every: 7 });
        const report = await again.run();
        const pos = await store.at(Label.secrecy(again.bts.tag)).get('sluice/victim/src/0');
        return { resumed: report.resumed, pos };
      };
      assert.deepEqual(await runWith(1), await runWith(1000003));
    }
  });
});

describe('attack: checkpoint timing carries secret state size into public positions', () => {
  it("the positions kept at a public source's label do not depend on secret state sizes", async () => {
    // A store whose commits take time in proportion to what they write, as a real database's
    // do (this wrapper only adds that delay; every write goes to a real memory store).
    const positions = async (big: boolean) => {
      const inner = memory();
      const seen: number[] = [];
      const store = {
        at: (l: Label) => inner.at(l),
        tagSeed: () => inner.tagSeed(),
        commit: async (writes: Parameters<FacetedStore['commit']>[0]) => {
          const size = JSON.stringify(writes.map((w) => w.value)).length;
          await new Promise((r) => setTimeout(r, Math.floor(size / 20000)));
          await inner.commit(writes);
          const src = writes.find((w) => w.key.endsWith('/src/0'));
          seen.push((src?.value as { pos: number }).pos);
        },
      };
      const p = new Pipeline({ name: 'timing', state: { store, every: 500 } });
      const RAW = Label.secrecy(p.tag('bts').tag);
      const fam = p.family('key');
      const rows = Array.from({ length: 20000 }, (_, i) => ({ k: `key-${String(i % 4)}`, v: i }));
      p.output(
        fromNdjson<Rec>(ndjson(rows), { name: 'public-source' }).pipe(
          map((r: Rec) => r, { label: RAW }),
          keyBy((r: Rec) => r.k, fam),
          // The secret: how big each key's state grows.
          scan((a: string, r: Rec) => (big ? a + String(r.v) : String(r.v)), ''),
        ),
        toCallback(() => undefined, { label: RAW, perKey: fam }),
      );
      await p.run();
      return seen;
    };
    assert.deepEqual(await positions(true), await positions(false));
  });
});
