import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { keyBy } from './key-by.js';
import { map } from './map.js';
import { sample } from './sample.js';

describe('sample', () => {
  it('emits the latest value when the notifier emits, once per new value', async () => {
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, 1],
        [2, 2],
        [5, 3],
        [7, 4],
      ],
      { end: 8 },
    );
    const n = scripted(
      clock,
      [
        [3, 0],
        [4, 0],
        [6, 0],
      ],
      { end: 6 },
    );
    const c = await collect(new Pipeline(), src.pipe(sample(n)), { clock });
    // 4 arrives after the notifier ended: never sampled; the output ends with the source.
    assert.deepEqual(c.events, [['v', 2], ['v', 3], ['c']]);
    assert.equal(clock.now, 8);
  });

  it("the notifier's error ends the output", async () => {
    const clock = new Clock();
    const src = scripted(clock, [[1, 1]], { end: 8 });
    const n = scripted(clock, [[2, 0]], { error: 3 });
    const c = await collect(new Pipeline(), src.pipe(sample(n)), { clock });
    assert.equal(c.events.length, 2);
    assert.deepEqual(c.events[0], ['v', 1]);
    assert.equal(c.events[1]?.[0], 'e');
  });

  it('in a keyed section samples every key, in key order, each at its label', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, { u: 'b', v: 1 }],
        [2, { u: 'a', v: 2 }],
        [3, { u: 'b', v: 3 }],
        [5, { u: 'b', v: 4 }],
      ],
      { end: 7 },
    ).pipe(keyBy((x) => x.u, fam));
    const n = scripted(
      clock,
      [
        [4, 0],
        [6, 0],
      ],
      { end: 6 },
    );
    const c = await collect(p, src.pipe(sample(n)), { clock, perKey: fam });
    assert.deepEqual(
      c.values.map((x) => x.v),
      [2, 3, 4],
    );
    assert.deepEqual(
      c.infos.map((i) => [i.key, i.label]),
      [
        ['a', fam.label('a')],
        ['b', fam.label('b')],
        ['b', fam.label('b')],
      ],
    );
  });

  it("a key's error ends that key only and drops its latest value", async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, { u: 'a', v: 1 }],
        [1, { u: 'b', v: 5 }],
        [2, { u: 'b', v: 2 }],
      ],
      { end: 5 },
    ).pipe(
      keyBy((x) => x.u, fam),
      map((x) => {
        if (x.v === 2) throw new Error('bad');
        return x;
      }),
    );
    const n = scripted(clock, [[4, 0]], { end: 4 });
    const c = await collect(p, src.pipe(sample(n)), { clock, perKey: fam });
    assert.deepEqual(c.values, [{ u: 'a', v: 1 }]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, true);
  });

  it('refuses a keyed notifier and a non-stream with a ConfigError', () => {
    const p = new Pipeline();
    const keyed = from([{ c: 'AA' }]).pipe(keyBy((v) => v.c, p.family('carrier')));
    assert.throws(() => from([1]).pipe(sample(keyed)), /sample: its notifier is keyed/);
    assert.throws(() => sample({} as never), ConfigError);
  });

  describe('security', () => {
    it('the check rejects a public sink when the notifier is secret', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([0], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([1, 2]).pipe(sample(secret)));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(paths.some((x) => x.includes('secret =(notifier, control flow)=> sample')));
    });

    it('passes with a public notifier', () => {
      const p = new Pipeline();
      sinkTo(p, from([1, 2]).pipe(sample(from([0]))));
      assert.equal(p.check().ok, true);
    });
  });
});
