import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { combineLatest } from './combine-latest.js';
import { keyBy } from './key-by.js';

describe('combineLatest', () => {
  it('emits once every input has a value, then on each value; completes when all complete', async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [3, 2],
      ],
      { end: 5 },
    );
    const b = scripted(
      clock,
      [
        [2, 'x'],
        [4, 'y'],
      ],
      { end: 7 },
    );
    const c = scripted(clock, [[2.5, true]], { end: 6 });
    const out = await collect(new Pipeline(), a.pipe(combineLatest(b, c)), { clock });
    assert.deepEqual(out.events, [
      ['v', [1, 'x', true]],
      ['v', [2, 'x', true]],
      ['v', [2, 'y', true]],
      ['c'],
    ]);
    assert.ok(Object.isFrozen(out.values[0]));
    assert.equal(clock.now, 7);
  });

  it('values before every input has one only update the latest', async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      { end: 5 },
    );
    const b = scripted(clock, [[4, 'x']], { end: 5 });
    const out = await collect(new Pipeline(), a.pipe(combineLatest(b)), { clock });
    assert.deepEqual(out.values, [[3, 'x']]);
    assert.equal(out.completed, true);
  });

  it('completes at once when an input ends without a value', async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [5, 2],
      ],
      { end: 9 },
    );
    const b = scripted<number>(clock, [], { end: 3 });
    const out = await collect(new Pipeline(), a.pipe(combineLatest(b)), { clock });
    assert.deepEqual(out.events, [['c']]);
  });

  it("an input's error ends the output", async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [5, 2],
      ],
      { end: 9 },
    );
    const b = scripted(clock, [[2, 'x']], { error: 3 });
    const out = await collect(new Pipeline(), a.pipe(combineLatest(b)), { clock });
    assert.deepEqual(out.values, [[1, 'x']]);
    assert.equal(out.errors.length, 1);
    assert.equal(out.completed, false);
  });

  it('refuses keyed inputs with a ConfigError when the pipeline is built', () => {
    const p = new Pipeline();
    const keyed = from([{ c: 'AA' }]).pipe(keyBy((v) => v.c, p.family('carrier')));
    assert.throws(() => from([1]).pipe(combineLatest(keyed)), ConfigError);
    assert.throws(() => keyed.pipe(combineLatest(from([1]))), /combineLatest: its source is keyed/);
  });

  describe('security', () => {
    it('the check rejects a public sink fed with a secret partner (control flow)', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([10], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([1, 2]).pipe(combineLatest(from([0]), secret)));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(paths.some((x) => x.includes('secret =(partner 2, control flow)=> combineLatest')));
    });

    it('passes with public partners', () => {
      const p = new Pipeline();
      sinkTo(p, from([1, 2]).pipe(combineLatest(from([0]), from([3]))));
      assert.equal(p.check().ok, true);
    });
  });
});
