import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { keyBy } from './key-by.js';
import { skipUntil } from './skip-until.js';

describe('skipUntil', () => {
  it('drops values until the notifier emits, then passes them; completes with the source', async () => {
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, 1],
        [3, 2],
        [5, 3],
      ],
      { end: 6 },
    );
    const n = scripted(
      clock,
      [
        [2, 'go'],
        [4, 'again'],
      ],
      { end: 9 },
    );
    const c = await collect(new Pipeline(), src.pipe(skipUntil(n)), { clock });
    assert.deepEqual(c.events, [['v', 2], ['v', 3], ['c']]);
  });

  it('a notifier that completes without emitting lets nothing through', async () => {
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, 1],
        [3, 2],
      ],
      { end: 4 },
    );
    const n = scripted<string>(clock, [], { end: 2 });
    const c = await collect(new Pipeline(), src.pipe(skipUntil(n)), { clock });
    assert.deepEqual(c.events, [['c']]);
  });

  it("the notifier's error before it emitted ends the output; after, it is ignored", async () => {
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, 1],
        [3, 2],
      ],
      { end: 4 },
    );
    const c = await collect(
      new Pipeline(),
      src.pipe(skipUntil(scripted(clock, [], { error: 2 }))),
      { clock },
    );
    assert.equal(c.values.length, 0);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, false);

    const clock2 = new Clock();
    const src2 = scripted(
      clock2,
      [
        [1, 1],
        [3, 2],
        [5, 3],
      ],
      { end: 6 },
    );
    const n2 = scripted(clock2, [[2, 'go']], { error: 4 });
    const c2 = await collect(new Pipeline(), src2.pipe(skipUntil(n2)), { clock: clock2 });
    assert.deepEqual(c2.events, [['v', 2], ['v', 3], ['c']]);
  });

  it("the source's error ends the output", async () => {
    const clock = new Clock();
    const src = scripted(clock, [[3, 1]], { error: 4 });
    const n = scripted(clock, [[2, 'go']], { end: 2 });
    const c = await collect(new Pipeline(), src.pipe(skipUntil(n)), { clock });
    assert.equal(c.events.length, 2);
    assert.deepEqual(c.events[0], ['v', 1]);
    assert.equal(c.events[1]?.[0], 'e');
  });

  it('in a keyed section the notifier opens every key; values keep their key and label', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const clock = new Clock();
    const src = scripted(
      clock,
      [
        [1, { u: 'a', v: 1 }],
        [3, { u: 'b', v: 2 }],
        [4, { u: 'a', v: 3 }],
      ],
      { end: 5 },
    ).pipe(keyBy((x) => x.u, fam));
    const n = scripted(clock, [[2, 0]], { end: 2 });
    const c = await collect(p, src.pipe(skipUntil(n)), { clock, perKey: fam });
    assert.deepEqual(
      c.values.map((x) => x.v),
      [2, 3],
    );
    assert.deepEqual(
      c.infos.map((i) => [i.key, i.label]),
      [
        ['b', fam.label('b')],
        ['a', fam.label('a')],
      ],
    );
  });

  it('refuses a keyed notifier and a non-stream with a ConfigError', () => {
    const p = new Pipeline();
    const keyed = from([{ c: 'AA' }]).pipe(keyBy((v) => v.c, p.family('carrier')));
    assert.throws(() => from([1]).pipe(skipUntil(keyed)), /skipUntil: its notifier is keyed/);
    assert.throws(() => skipUntil(null as never), ConfigError);
  });

  describe('security', () => {
    it('the check rejects a public sink when the notifier is secret (the suspension leak)', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([0], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([1, 2]).pipe(skipUntil(secret)));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(paths.some((x) => x.includes('secret =(notifier, control flow)=> skipUntil')));
    });

    it('passes with a public notifier', () => {
      const p = new Pipeline();
      sinkTo(p, from([1, 2]).pipe(skipUntil(from([0]))));
      assert.equal(p.check().ok, true);
    });
  });
});
