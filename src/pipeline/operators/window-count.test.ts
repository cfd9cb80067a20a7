import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { collect } from '../../../test/support/pipeline-harness.js';
import { keyBy } from './key-by.js';
import { map } from './map.js';
import { windowCount } from './window-count.js';

const run = async <T>(values: T[], size: number, slide?: number) =>
  (await collect(new Pipeline(), from(values).pipe(windowCount<T>(size, slide)))).values;

describe('windowCount', () => {
  it('tumbling: full windows as they fill, the partial one on completion', async () => {
    assert.deepEqual(await run([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(await run([1, 2, 3], 3), [[1, 2, 3]]);
    assert.deepEqual(await run([], 3), []);
  });

  it('sliding: a window opens every `slide` values (RxJS bufferCount)', async () => {
    assert.deepEqual(await run([1, 2, 3, 4], 3, 1), [[1, 2, 3], [2, 3, 4], [3, 4], [4]]);
    assert.deepEqual(await run([1, 2, 3, 4, 5], 2, 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(await run([1, 2, 3, 4, 5, 6], 4, 2), [
      [1, 2, 3, 4],
      [3, 4, 5, 6],
      [5, 6],
    ]);
  });

  it('hopping: slide > size skips values between windows', async () => {
    assert.deepEqual(await run([1, 2, 3, 4, 5, 6, 7], 2, 3), [[1, 2], [4, 5], [7]]);
  });

  it('windows are frozen arrays; completion follows the last window', async () => {
    const c = await collect(new Pipeline(), from([1, 2, 3]).pipe(windowCount(2)));
    assert.deepEqual(c.events, [['v', [1, 2]], ['v', [3]], ['c']]);
    assert.ok(c.values.every((w) => Object.isFrozen(w)));
  });

  it('per key in a keyed section: own counts, own label, flushed in key order', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const xs = [
      { u: 'b', v: 1 },
      { u: 'a', v: 2 },
      { u: 'b', v: 3 },
      { u: 'a', v: 4 },
      { u: 'b', v: 5 },
      { u: 'a', v: 6 },
      { u: 'b', v: 7 },
    ];
    const s = from(xs).pipe(
      keyBy((x) => x.u, fam),
      map((x) => x.v),
      windowCount(2),
    );
    const c = await collect(p, s, { perKey: fam });
    assert.deepEqual(c.values, [[1, 3], [2, 4], [5, 7], [6]]);
    assert.deepEqual(
      c.infos.map((i) => [i.key, i.label]),
      [
        ['b', fam.label('b')],
        ['a', fam.label('a')],
        ['b', fam.label('b')],
        ['a', fam.label('a')],
      ],
    );
  });

  it("a key's error ends that key only and drops its open window", async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const s = from([
      { u: 'a', v: 1 },
      { u: 'b', v: 2 },
      { u: 'b', v: 0 },
      { u: 'a', v: 3 },
      { u: 'b', v: 4 },
    ]).pipe(
      keyBy((x) => x.u, fam),
      map((x) => {
        if (x.v === 0) throw new Error('bad');
        return x.v;
      }),
      windowCount(3),
    );
    const c = await collect(p, s, { perKey: fam });
    assert.deepEqual(c.values, [[1, 3]]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, true);
  });

  it("the source's error ends the output", async () => {
    const s = from([1, 2, 3]).pipe(
      map((x) => {
        if (x === 3) throw new Error('bad');
        return x;
      }),
      windowCount(2),
    );
    const c = await collect(new Pipeline(), s);
    assert.deepEqual(c.values, [[1, 2]]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, false);
  });

  it('refuses bad sizes with a ConfigError', () => {
    for (const [size, slide] of [
      [0, 1],
      [1.5, 1],
      [2, 0],
      [2, -1],
      [Number.NaN, 1],
      ['2', 1],
    ] as [number, number][]) {
      assert.throws(() => windowCount(size, slide), ConfigError);
    }
  });
});
