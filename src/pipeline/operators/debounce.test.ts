import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Pipeline } from '../pipeline.js';
import { fromAsync } from '../sources/from-async.js';
import { collect, sinkTo, sleep } from '../../../test/support/pipeline-harness.js';
import { debounce } from './debounce.js';
import { keyBy } from './key-by.js';

/** Values with pauses: a number is a value, `{ wait }` sleeps, `{ fail }` throws. */
type Step<T> = T | { readonly wait: number } | { readonly fail: true };
function timed<T>(steps: readonly Step<T>[]): AsyncIterable<T> {
  return (async function* () {
    for (const s of steps) {
      if (typeof s === 'object' && s !== null && 'wait' in s) await sleep(s.wait);
      else if (typeof s === 'object' && s !== null && 'fail' in s) throw new Error('source failed');
      else yield s as T;
    }
  })();
}

describe('debounce', () => {
  it('emits a value once `ms` pass without another; the pending value first on completion', async () => {
    const t0 = Date.now();
    const stamps: number[] = [];
    const p = new Pipeline();
    const s = fromAsync(timed<number>([1, 2, 3, { wait: 150 }, 4, { wait: 150 }, 5, 6]));
    const c = await collect(p, s.pipe(debounce(30)));
    stamps.push(Date.now() - t0);
    assert.deepEqual(c.events, [['v', 3], ['v', 4], ['v', 6], ['c']]);
    // Completion does not wait for the timer: 6 is flushed at once (well under 2 × 150 + 30).
    assert.ok((stamps[0] as number) < 300 + 30 + 100);
  });

  it('a value that arrives before the timer fires replaces the pending one', async () => {
    const s = fromAsync(timed<number>([1, { wait: 5 }, 2, { wait: 5 }, 3, { wait: 80 }]));
    const c = await collect(new Pipeline(), s.pipe(debounce(50)));
    assert.deepEqual(c.values, [3]);
  });

  it('an error drops the pending value and ends the output', async () => {
    const s = fromAsync(timed<number>([1, { wait: 60 }, 2, { fail: true }]));
    const c = await collect(new Pipeline(), s.pipe(debounce(20)));
    assert.deepEqual(c.values, [1]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, false);
  });

  it('per key in a keyed section: each key debounces alone, flushed in key order', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const s = fromAsync(
      timed<{ u: string; v: number }>([
        { u: 'b', v: 1 },
        { u: 'a', v: 2 },
        { u: 'b', v: 3 },
        { wait: 80 },
        { u: 'b', v: 4 },
        { u: 'a', v: 5 },
      ]),
    ).pipe(
      keyBy((x) => x.u, fam),
      debounce(20),
    );
    const c = await collect(p, s, { perKey: fam });
    const got = c.values.map((x) => x.v);
    // 2 and 3 fire from their timers (in either order: timers of different keys); 5, 4 on completion.
    assert.deepEqual(new Set(got.slice(0, 2)), new Set([2, 3]));
    assert.deepEqual(got.slice(2), [5, 4]);
    for (const [i, x] of c.values.entries()) assert.equal(c.infos[i]?.label, fam.label(x.u));
  });

  it('stopping the run clears the timers and drops the pending value', async () => {
    const p = new Pipeline();
    const s = fromAsync(timed<number>([1, { wait: 200 }]));
    const c = sinkTo(p, s.pipe(debounce(40)));
    const run = p.start();
    await sleep(10);
    run.stop();
    await sleep(80);
    assert.deepEqual(c.values, []);
    // The source still ends after its wait; a stopped run flushes nothing.
    await run.done;
    assert.deepEqual(c.values, []);
  });

  it('refuses a bad delay with a ConfigError', () => {
    for (const ms of [-1, Number.NaN, Infinity, '5']) {
      assert.throws(() => debounce(ms as number), ConfigError);
    }
  });
});
