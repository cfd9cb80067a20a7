import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { buffer } from './buffer.js';
import { keyBy } from './key-by.js';
import { map } from './map.js';

describe('buffer', () => {
  it('emits the values collected at each notification (even none) and the rest at the end', async () => {
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, 1],
        [2, 2],
        [5, 3],
      ],
      { end: 7 },
    );
    const n = scripted(
      clock,
      [
        [3, 0],
        [4, 0],
      ],
      { end: 6 },
    );
    const c = await collect(new Pipeline(), src.pipe(buffer(n)), { clock });
    assert.deepEqual(c.events, [['v', [1, 2]], ['v', []], ['v', [3]], ['c']]);
    assert.ok(c.values.every((b) => Object.isFrozen(b)));
  });

  it("the notifier's error ends the output", async () => {
    const clock = new Clock();
    const src = scripted(clock, [[1, 1]], { end: 8 });
    const n = scripted(clock, [], { error: 3 });
    const c = await collect(new Pipeline(), src.pipe(buffer(n)), { clock });
    assert.equal(c.events.length, 1);
    assert.equal(c.events[0]?.[0], 'e');
  });

  it('in a keyed section each key has its buffer, emitted in key order at its label', async () => {
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
    ).pipe(
      keyBy((x) => x.u, fam),
      map((x) => x.v),
    );
    const n = scripted(clock, [[4, 0]], { end: 4 });
    const c = await collect(p, src.pipe(buffer(n)), { clock, perKey: fam });
    assert.deepEqual(c.values, [[2], [1, 3], [], [4]]);
    assert.deepEqual(
      c.infos.map((i) => [i.key, i.label]),
      [
        ['a', fam.label('a')],
        ['b', fam.label('b')],
        ['a', fam.label('a')],
        ['b', fam.label('b')],
      ],
    );
  });

  it("a key's error ends that key only (its buffer is dropped)", async () => {
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
        return x.v;
      }),
    );
    const n = scripted(clock, [[4, 0]], { end: 4 });
    const c = await collect(p, src.pipe(buffer(n)), { clock, perKey: fam });
    assert.deepEqual(c.values, [[1], []]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, true);
  });

  it('refuses a keyed notifier and a non-stream with a ConfigError', () => {
    const p = new Pipeline();
    const keyed = from([{ c: 'AA' }]).pipe(keyBy((v) => v.c, p.family('carrier')));
    assert.throws(() => from([1]).pipe(buffer(keyed)), /buffer: its notifier is keyed/);
    assert.throws(() => buffer([1] as never), ConfigError);
  });

  describe('security', () => {
    it('the check rejects a public sink when the notifier is secret', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([0], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([1, 2]).pipe(buffer(secret)));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(paths.some((x) => x.includes('secret =(notifier, control flow)=> buffer')));
    });

    it('passes with a public notifier', () => {
      const p = new Pipeline();
      sinkTo(p, from([1, 2]).pipe(buffer(from([0]))));
      assert.equal(p.check().ok, true);
    });
  });
});
