import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { collect, sinkTo, sleep } from '../../../test/support/pipeline-harness.js';
import { keyBy } from './key-by.js';
import { flatMap, mergeMap } from './merge-map.js';

const later = <T>(ms: number, v: T): Promise<T> => new Promise((r) => setTimeout(() => r(v), ms));
async function* ticks<T>(ms: number, ...vs: T[]): AsyncGenerator<T> {
  for (const v of vs) {
    await sleep(ms);
    yield v;
  }
}

describe('mergeMap', () => {
  it('arrays and iterables are emitted at once, in order', async () => {
    const c = await collect(
      new Pipeline(),
      from([1, 2, 3]).pipe(mergeMap((x) => (x === 2 ? new Set([20, 21]) : [x, x * 10]))),
    );
    assert.deepEqual(c.events, [
      ['v', 1],
      ['v', 10],
      ['v', 20],
      ['v', 21],
      ['v', 3],
      ['v', 30],
      ['c'],
    ]);
  });

  it('promises: values as they resolve; completes after the last inner, not with the source', async () => {
    const c = await collect(
      new Pipeline(),
      from([30, 10, 20]).pipe(mergeMap((ms) => later(ms, ms))),
    );
    assert.deepEqual(c.events, [['v', 10], ['v', 20], ['v', 30], ['c']]);
  });

  it('async iterables are drained, interleaved with other inners', async () => {
    const c = await collect(
      new Pipeline(),
      from(['a', 'b']).pipe(
        mergeMap((x) => (x === 'a' ? ticks(30, 'a1', 'a2', 'a3') : ticks(75, 'b1', 'b2'))),
      ),
    );
    assert.deepEqual(c.values, ['a1', 'a2', 'b1', 'a3', 'b2']);
    assert.equal(c.completed, true);
  });

  it('values are frozen', async () => {
    const c = await collect(
      new Pipeline(),
      from([1]).pipe(mergeMap((x) => Promise.resolve({ x }))),
    );
    assert.ok(Object.isFrozen(c.values[0]));
  });

  it('concurrency 1 runs inners one after another (concatMap)', async () => {
    const c = await collect(
      new Pipeline(),
      from([30, 10, 20]).pipe(mergeMap((ms) => later(ms, ms), { concurrency: 1 })),
    );
    assert.deepEqual(c.values, [30, 10, 20]);
    const d = await collect(
      new Pipeline(),
      from([40, 10, 5, 1]).pipe(mergeMap((ms) => later(ms, ms), { concurrency: 2 })),
    );
    // 40 and 10 start; 10 ends → 5 starts; 5 ends → 1 starts; then 40.
    assert.deepEqual(d.values, [10, 5, 1, 40]);
    const e = await collect(
      new Pipeline(),
      from([1, 2, 3]).pipe(mergeMap((x) => (x === 1 ? later(10, x) : [x]), { concurrency: 1 })),
    );
    assert.deepEqual(e.values, [1, 2, 3]);
  });

  it('an error of the function, a rejected promise or a failing async iterable ends the output', async () => {
    const failing = [
      () => {
        throw new Error('f');
      },
      () => Promise.reject(new Error('p')),
      () =>
        (async function* () {
          yield 1;
          await sleep(1);
          throw new Error('it');
        })(),
      () =>
        (function* () {
          yield 1;
          throw new Error('sync');
        })(),
      () => 42 as never,
    ];
    for (const f of failing) {
      const c = await collect(new Pipeline(), from([0]).pipe(mergeMap(f)));
      assert.equal(c.errors.length, 1);
      assert.equal(c.completed, false);
      assert.equal(c.report.failures.length, 1);
    }
    const bad = await collect(new Pipeline(), from([0]).pipe(mergeMap(() => 42 as never)));
    assert.ok(bad.errors[0] instanceof ConfigError);
  });

  it("after an error, other inners' values are dropped", async () => {
    const c = await collect(
      new Pipeline(),
      from([1, 2]).pipe(
        mergeMap((x) => (x === 1 ? later(30, 'late') : Promise.reject(new Error('no')))),
      ),
    );
    assert.deepEqual(c.values, []);
    assert.equal(c.errors.length, 1);
  });

  it("the source's error ends the output at once", async () => {
    const c = await collect(
      new Pipeline(),
      from([1, 2]).pipe(
        mergeMap((x) => {
          if (x === 2) throw new Error('x');
          return later(20, x);
        }),
        mergeMap((x) => [x]),
      ),
    );
    assert.deepEqual(c.values, []);
    assert.equal(c.errors.length, 1);
  });

  it('per key in a keyed section: inners at their key label; an error ends that key only', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const s = from([
      { u: 'a', v: 1 },
      { u: 'b', v: 2 },
      { u: 'b', v: 3 },
      { u: 'a', v: 4 },
    ]).pipe(
      keyBy((x) => x.u, fam),
      mergeMap(
        async (x) => {
          await sleep(x.v * 5);
          if (x.v === 2) throw new Error('b fails');
          return x;
        },
        { concurrency: 1 },
      ),
    );
    const c = await collect(p, s, { perKey: fam });
    // b's 3 was waiting behind b's failed 2: abandoned with its key.
    assert.deepEqual(
      c.values.map((x) => x.v),
      [1, 4],
    );
    assert.ok(c.infos.every((i) => i.key === 'a' && i.label === fam.label('a')));
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, true);
  });

  it('a keyed failure with values waiting and nothing running still completes the output', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const s = from([
      { u: 'a', v: 1 },
      { u: 'a', v: 2 },
    ]).pipe(
      keyBy((x) => x.u, fam),
      mergeMap(
        (x) =>
          x.v === 1
            ? Promise.reject(new Error('no'))
            : (function* () {
                yield x;
              })(),
        { concurrency: 1 },
      ),
    );
    const c = await collect(p, s, { perKey: fam });
    assert.deepEqual(c.values, []);
    assert.equal(c.completed, true);
  });

  it('stopping the run abandons running inners and closes async iterators', async () => {
    const p = new Pipeline();
    let closed = false;
    const c = sinkTo(
      p,
      from([1]).pipe(
        mergeMap(() =>
          (async function* () {
            try {
              for (let i = 0; ; i++) {
                yield i;
                await sleep(5);
              }
            } finally {
              closed = true;
            }
          })(),
        ),
      ),
    );
    const run = p.start();
    await sleep(30);
    run.stop();
    const n = c.values.length;
    await run.done;
    await sleep(30);
    assert.ok(n > 0);
    assert.equal(c.values.length, n);
    assert.equal(closed, true);
    assert.equal(c.completed, false);
  });

  it('flatMap is mergeMap', () => {
    assert.equal(flatMap, mergeMap);
  });

  it('refuses bad arguments with a ConfigError', () => {
    assert.throws(() => mergeMap(3 as never), ConfigError);
    for (const concurrency of [0, 1.5, -1, Number.NaN, '2']) {
      assert.throws(() => mergeMap((x) => [x], { concurrency } as never), ConfigError);
    }
    assert.throws(() => mergeMap((x) => [x], 5 as never), ConfigError);
    assert.doesNotThrow(() => mergeMap((x) => [x], { concurrency: Infinity, name: 'm' }));
  });
});
