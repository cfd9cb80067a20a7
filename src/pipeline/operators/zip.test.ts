import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { declassify } from './declassify.js';
import { keyBy } from './key-by.js';
import { minRecords } from './release-policy.js';
import { zip } from './zip.js';

describe('zip', () => {
  it('pairs values by index and completes when an ended input has nothing left to pair', async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      { end: 10 },
    );
    const b = scripted(
      clock,
      [
        [4, 'a'],
        [5, 'b'],
      ],
      { end: 6 },
    );
    const c = await collect(new Pipeline(), a.pipe(zip(b)), { clock });
    assert.deepEqual(c.events, [['v', [1, 'a']], ['v', [2, 'b']], ['c']]);
    assert.ok(Object.isFrozen(c.values[0]));
  });

  it('an ended input with values still waiting keeps the output open until they are paired', async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      { end: 4 },
    );
    const b = scripted(
      clock,
      [
        [5, 'x'],
        [6, 'y'],
        [7, 'z'],
        [8, 'w'],
      ],
      { end: 9 },
    );
    const p = new Pipeline();
    const c = await collect(p, a.pipe(zip(b)), { clock });
    // Completes right after [3, 'z'] (step 7): 'w' is never paired.
    assert.deepEqual(c.events, [['v', [1, 'x']], ['v', [2, 'y']], ['v', [3, 'z']], ['c']]);
  });

  it('zips three inputs, in argument order', async () => {
    const c = await collect(
      new Pipeline(),
      from([1, 2]).pipe(zip(from(['a', 'b', 'c']), from([true, false]))),
    );
    assert.deepEqual(c.values, [
      [1, 'a', true],
      [2, 'b', false],
    ]);
    assert.equal(c.completed, true);
  });

  it("an input's error ends the output", async () => {
    const clock = new Clock();
    const a = scripted(
      clock,
      [
        [1, 1],
        [3, 2],
      ],
      { end: 5 },
    );
    const b = scripted(clock, [[2, 'a']], { error: 4 });
    const c = await collect(new Pipeline(), a.pipe(zip(b)), { clock });
    assert.equal(c.events.length, 2);
    assert.deepEqual(c.events[0], ['v', [1, 'a']]);
    assert.equal(c.events[1]?.[0], 'e');
    assert.equal(c.completed, false);
    assert.equal(c.report.failures.length, 1);
  });

  it('takes a trailing options object (name, label)', () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const L = Label.secrecy(alice.tag);
    sinkTo(p, from([1]).pipe(zip(from([2]), { name: 'pairs', label: L })), { label: L });
    const r = p.check();
    assert.equal(r.ok, true);
    assert.ok(r.nodes.some((n) => n.node.name === 'pairs' && n.label.base === L));
  });

  it('refuses keyed inputs with a ConfigError when the pipeline is built', () => {
    const p = new Pipeline();
    const fam = p.family('carrier');
    const keyed = from([{ c: 'AA' }]).pipe(keyBy((v) => v.c, fam));
    assert.throws(() => from([1]).pipe(zip(keyed)), ConfigError);
    assert.throws(() => keyed.pipe(zip(from([1]))), /zip: its source is keyed/);
    assert.throws(() => from([1]).pipe(zip(keyed)), /partner 1 is keyed .*family 'carrier'/);
  });

  it('accepts a stream whose per-key tags were declassified', async () => {
    const p = new Pipeline();
    const fam = p.family('carrier');
    const released = from([{ c: 'AA', n: 1 }]).pipe(
      keyBy((v) => v.c, fam),
      declassify({ families: [fam], policy: minRecords(1, (v: { n: number }) => v.n) }),
    );
    const c = await collect(p, from([1]).pipe(zip(released)));
    assert.deepEqual(c.values, [[1, { c: 'AA', n: 1 }]]);
  });

  it('pairs long backlogs in order', async () => {
    const n = 5000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const c = await collect(new Pipeline(), from(xs).pipe(zip(from(xs.map((x) => -x)))));
    assert.equal(c.values.length, n);
    assert.ok(c.values.every(([a, b], i) => a === i && b === -i));
  });

  it('refuses non-stream partners', () => {
    assert.throws(() => zip(42 as never, from([1])), ConfigError);
  });

  describe('security', () => {
    it('the check rejects a public sink fed by zip with a secret partner (control flow)', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([10, 20], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([1, 2]).pipe(zip(secret)));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(
        paths.some((x) => /^secret =\(partner 1, control flow\)=> zip/.test(x)),
        paths.join(),
      );
    });

    it('passes with a public partner', () => {
      const p = new Pipeline();
      sinkTo(p, from([1, 2]).pipe(zip(from([10, 20]))));
      assert.equal(p.check().ok, true);
    });
  });
});
