/**
 * One conformance suite for every faceted-store backend (memory, SQLite, PostgreSQL): the
 * semantics of DESIGN.md §1 "Faceted state", pagination, compare-and-set, batches, bad input.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import { FacetedStore, StoreView, type StoreView as View } from '../src/store.js';
import { closeAll, storeBackends } from './support/store-backends.js';

const engine = new Engine();
const a = engine.createTag('alice').tag;
const b = engine.createTag('bob').tag;
const trusted = engine.createTag('trusted').tag;
const PUB = Label.public;
const A = Label.secrecy(a);
const B = Label.secrecy(b);
const AB = Label.secrecy(a, b);
const HI = Label.integrity(trusted);

after(closeAll);

/** Everything a view can observe about the store (what must match "empty" when hidden). */
async function observe(v: View, keys: readonly string[]) {
  return {
    gets: await Promise.all(keys.map((k) => v.get(k))),
    scan: await v.scan({ limit: 1000 }),
    keys: await v.keys({ limit: 1000 }),
    count: await v.count(),
  };
}

for (const be of storeBackends()) {
  describe(`store conformance: ${be.name}`, () => {
    it('put then get returns a deeply frozen copy', async () => {
      const s = await be.open();
      const v = s.at(PUB);
      const original = { n: 1, list: [1, 'two', { three: true }], nil: null };
      await v.put('k', original);
      original.n = 99;
      const got = (await v.get('k')) as { n: number; list: unknown[] };
      assert.deepEqual(got, { n: 1, list: [1, 'two', { three: true }], nil: null });
      assert.ok(Object.isFrozen(got) && Object.isFrozen(got.list) && Object.isFrozen(got.list[2]));
      assert.equal(await v.get('missing'), undefined);
      for (const x of [0, -1.5, 'str', true, false, null, [], {}, 'nul\u0000inside', '😀']) {
        await v.put('x', x);
        assert.deepEqual(await v.get('x'), x);
      }
    });

    it('a key holding only hidden facets looks exactly like an empty key', async () => {
      const s = await be.open();
      const empty = await be.open();
      await s.at(A).put('k', 1);
      await s.at(AB).put('j', 2);
      await s.at(A).delete('gone');
      const keys = ['k', 'j', 'gone'];
      assert.deepEqual(await observe(s.at(PUB), keys), await observe(empty.at(PUB), keys));
      assert.deepEqual(await observe(s.at(B), keys), await observe(empty.at(B), keys));
      assert.equal(await s.at(A).get('k'), 1);
      assert.equal(await s.at(AB).get('j'), 2);
    });

    it('get returns the newest visible facet; put at L replaces facets at labels ⊒ L only', async () => {
      const s = await be.open();
      await s.at(A).put('k', 'a');
      await s.at(PUB).put('k', 'p1');
      // The public put removed the facet at A (A ⊒ public): A now sees the public value.
      assert.equal(await s.at(A).get('k'), 'p1');
      await s.at(A).put('k', 'a2');
      assert.equal(await s.at(PUB).get('k'), 'p1');
      assert.equal(await s.at(A).get('k'), 'a2');
      assert.equal(await s.at(AB).get('k'), 'a2');
      await s.at(B).put('k', 'b');
      assert.equal(await s.at(A).get('k'), 'a2');
      assert.equal(await s.at(B).get('k'), 'b');
      assert.equal(await s.at(AB).get('k'), 'b', 'newest of the facets that flow to A⊔B');
      await s.at(A).put('k', 'a3');
      assert.equal(await s.at(AB).get('k'), 'a3');
      assert.equal(await s.at(B).get('k'), 'b');
    });

    it('delete writes a tombstone at the deleter label', async () => {
      const s = await be.open();
      await s.at(PUB).put('k', 'p');
      await s.at(A).put('k', 'a');
      await s.at(A).delete('k');
      assert.equal(await s.at(A).get('k'), undefined, 'the tombstone hides the older public facet');
      assert.equal(await s.at(AB).get('k'), undefined);
      assert.equal(await s.at(PUB).get('k'), 'p');
      assert.equal(await s.at(B).get('k'), 'p');
      assert.equal(await s.at(A).count(), 0);
      assert.equal(await s.at(PUB).count(), 1);
      await s.at(PUB).delete('k');
      assert.equal(await s.at(B).get('k'), undefined);
      await s.at(A).put('k', 'back');
      assert.equal(await s.at(A).get('k'), 'back');
    });

    it('integrity: a less trusted writer cannot erase or shadow a more trusted facet', async () => {
      const s = await be.open();
      await s.at(HI).put('config', 'trusted');
      assert.equal(await s.at(PUB).get('config'), 'trusted', 'trusted data may flow down');
      await s.at(PUB).put('config', 'forged');
      await s.at(PUB).delete('config');
      assert.equal(await s.at(HI).get('config'), 'trusted', 'neither put nor delete erased it');
      assert.equal(await s.at(PUB).get('config'), undefined, 'public sees its own tombstone');
      await s.at(PUB).put('config', 'forged again');
      assert.equal(await s.at(PUB).get('config'), 'forged again');
      assert.equal(await s.at(HI).get('config'), 'trusted', 'a trusted reader never sees it');
      assert.deepEqual((await s.at(HI).scan()).items, [{ key: 'config', value: 'trusted' }]);
      assert.equal(await s.at(HI).compareAndSet('config', 'trusted', 'v2'), true);
      assert.equal(
        await s.at(PUB).get('config'),
        'v2',
        'the trusted write replaced the public one',
      );
    });

    it('scan, keys and count paginate in code point order, with prefixes', async () => {
      const s = await be.open();
      const v = s.at(PUB);
      const keys = Array.from({ length: 25 }, (_, i) => `item/${String(i).padStart(2, '0')}`);
      await v.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: i })));
      await v.put('other', 'x');
      await s.at(A).put('item/hidden', 'secret');
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await v.scan({ prefix: 'item/', limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((e) => e.key));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      assert.deepEqual(seen, keys);
      assert.equal(pages, 3);
      assert.equal(await v.count({ prefix: 'item/' }), 25);
      assert.equal(await v.count(), 26);
      assert.equal(await s.at(A).count({ prefix: 'item/' }), 26);
      const k = await v.keys({ limit: 20 });
      assert.deepEqual(k.items, keys.slice(0, 20));
      assert.equal(k.cursor, keys[19]);
      const exact = await v.scan({ prefix: 'item/', limit: 25 });
      assert.equal(exact.cursor, undefined, 'no cursor when nothing is left');
      // Code point order: U+FFFD sorts before U+1F600 (UTF-16 code unit order would not).
      await v.batch([
        { type: 'put', key: 'u/😀', value: 1 },
        { type: 'put', key: 'u/\uFFFD', value: 2 },
        { type: 'put', key: 'u/a', value: 3 },
      ]);
      assert.deepEqual((await v.keys({ prefix: 'u/' })).items, ['u/a', 'u/\uFFFD', 'u/😀']);
    });

    it('compare-and-set sees only the caller projection', async () => {
      const s = await be.open();
      const pub = s.at(PUB);
      await s.at(A).put('k', 'secret');
      assert.equal(await pub.compareAndSet('k', 'secret', 'x'), false);
      assert.equal(await pub.compareAndSet('k', undefined, { v: 1, w: [2] }), true);
      assert.equal(
        await pub.compareAndSet('k', { w: [2], v: 1 }, 'next'),
        true,
        'key order does not matter',
      );
      assert.equal(await pub.compareAndSet('k', 'wrong', 'never'), false);
      assert.equal(await pub.get('k'), 'next');
      assert.equal(await pub.compareAndSet('k', 'next', undefined), true, 'undefined deletes');
      assert.equal(await pub.get('k'), undefined);
      await s.at(A).put('k', 'a');
      assert.equal(await s.at(A).compareAndSet('k', 'a', 'a2'), true);
      assert.equal(await pub.get('k'), undefined);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => pub.compareAndSet('race', undefined, i)),
      );
      assert.equal(results.filter(Boolean).length, 1, 'exactly one concurrent CAS wins');
    });

    it('a batch is one transaction: applied in order, or not at all', async () => {
      const s = await be.open();
      const v = s.at(PUB);
      await v.batch([
        { type: 'put', key: 'a', value: 1 },
        { type: 'put', key: 'b', value: 2 },
        { type: 'delete', key: 'a' },
        { type: 'put', key: 'b', value: 3 },
      ]);
      assert.equal(await v.get('a'), undefined);
      assert.equal(await v.get('b'), 3);
      await assert.rejects(
        v.batch([
          { type: 'put', key: 'c', value: 1 },
          { type: 'put', key: 'd', value: (() => 1) as never },
        ]),
        { code: 'E_STORE_VALUE' },
      );
      assert.equal(await v.get('c'), undefined);
      await assert.rejects(v.batch([{ type: 'nope', key: 'c' } as never]), {
        code: 'E_STORE_INPUT',
      });
      await v.batch([]);
      assert.equal(await v.count(), 1);
    });

    it('bad input gets a clear error that never repeats the value, and writes nothing', async () => {
      const s = await be.open();
      const v = s.at(PUB);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
      const accessor = Object.defineProperty({}, 'x', { get: () => 1, enumerable: true });
      const badValues: unknown[] = [
        undefined,
        () => 1,
        Symbol('s'),
        10n,
        NaN,
        Infinity,
        new Date(),
        new Map(),
        cyclic,
        sparse,
        accessor,
        new Proxy({}, {}),
        { [Symbol('k')]: 1 },
        { nested: { fn: () => 0 } },
        { toJSON: () => 'x' },
        Object.create({ inherited: 1 }) as unknown,
        'x'.repeat(1 << 21),
      ];
      for (const bad of badValues) {
        await assert.rejects(v.put('k', bad as never), (e: Error & { code: string }) => {
          assert.equal(e.code, 'E_STORE_VALUE');
          assert.match(e.message, /JSON data/);
          assert.ok(!e.message.includes('xxxx'));
          return true;
        });
      }
      const badKeys: unknown[] = ['', 'k'.repeat(1025), 'a\u0000b', 'lone\uD800', 7, null, {}];
      for (const key of badKeys) {
        await assert.rejects(v.put(key as string, 1), { code: 'E_STORE_KEY' });
        await assert.rejects(v.get(key as string), { code: 'E_STORE_KEY' });
      }
      await assert.rejects(v.scan({ limit: 0 }), { code: 'E_STORE_INPUT' });
      await assert.rejects(v.scan({ limit: 1001 }), { code: 'E_STORE_INPUT' });
      await assert.rejects(v.scan({ cursor: '' }), { code: 'E_STORE_KEY' });
      await assert.rejects(v.scan(null as never), { code: 'E_STORE_INPUT' });
      await assert.rejects(v.batch('x' as never), { code: 'E_STORE_INPUT' });
      assert.throws(() => s.at({ secrecy: [], integrity: [] } as never), { code: 'E_MALFORMED' });
      assert.throws(() => s.at(Object.create(Label.prototype) as Label), { code: 'E_MALFORMED' });
      const Ctor = StoreView as unknown as new (...args: unknown[]) => StoreView;
      assert.throws(() => new Ctor(Symbol('sluice.store.view'), {}, PUB), {
        code: 'E_STORE_INPUT',
      });
      assert.equal(await v.count(), 0);
      assert.equal(await s.at(AB).count(), 0);
    });

    it('a view exposes its label, not the store or another label', async () => {
      const s = await be.open();
      const v = s.at(A);
      assert.equal(v.label, A);
      assert.equal(s.at(A), v, 'one view per label');
      assert.deepEqual(Object.keys(v), []);
      assert.ok(Object.isFrozen(v));
      assert.equal(s.kind, be.name);
    });

    if (be.name !== 'memory') {
      it('persists across reopen; the schema is created once and migrated', async () => {
        const s = await be.open();
        await s.at(A).put('k', { kept: true });
        await s.at(PUB).put('p', 1);
        await s.close();
        await assert.rejects(s.at(PUB).get('p'), { code: 'E_STORE_CLOSED' });
        const again = await be.reopen();
        assert.deepEqual(await again.at(A).get('k'), { kept: true });
        assert.equal(await again.at(PUB).get('k'), undefined);
        assert.equal(await again.at(PUB).count(), 1);
      });
    } else {
      it('refuses calls after close', async () => {
        const s: FacetedStore = await be.open();
        await s.close();
        await assert.rejects(async () => s.at(PUB).get('p'), { code: 'E_STORE_CLOSED' });
      });
    }
  });
}
