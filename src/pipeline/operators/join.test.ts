import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { Clock, collect, scripted, sinkTo } from '../../../test/support/pipeline-harness.js';
import { join, type JoinOptions } from './join.js';
import { keyBy } from './key-by.js';

interface L {
  readonly k: string;
  readonly t: number;
  readonly id: string;
}
const opts = (within: number): JoinOptions<L, L, string> => ({
  keyOf: (a) => a.k,
  otherKeyOf: (b) => b.k,
  timeOf: (a) => a.t,
  otherTimeOf: (b) => b.t,
  within,
  combine: (a, b) => `${a.id}+${b.id}`,
});
const l = (id: string, k: string, t: number): L => ({ id, k, t });

describe('join', () => {
  it('joins values with the same key whose times differ by at most `within` (inclusive)', async () => {
    const clock = new Clock();
    const left = scripted(
      clock,
      [
        [1, l('a1', 'x', 1)],
        [3, l('a2', 'y', 2)],
        [5, l('a3', 'x', 10)],
      ],
      { end: 8 },
    );
    const right = scripted(
      clock,
      [
        [2, l('b1', 'x', 4)],
        [4, l('b2', 'x', 5)],
        [6, l('b3', 'y', 7)],
        [7, l('b4', 'x', 13)],
      ],
      { end: 9 },
    );
    const c = await collect(new Pipeline(), left.pipe(join(right, opts(3))), { clock });
    // a1(1)–b1(4): |3| ≤ 3; a1–b2(5): 4 > 3; a3(10)–b2(5): 5; b4(13)–a3(10): 3; y: |2-7| = 5.
    assert.deepEqual(c.events, [['v', 'a1+b1'], ['v', 'a3+b4'], ['c']]);
  });

  it('emits every match of a value, in the order the earlier ones arrived; default combine is a pair', async () => {
    const clock = new Clock();
    const left = scripted(
      clock,
      [
        [1, l('a1', 'x', 1)],
        [2, l('a2', 'x', 2)],
      ],
      { end: 4 },
    );
    const right = scripted(clock, [[3, l('b1', 'x', 2)]], { end: 4 });
    const c = await collect(
      new Pipeline(),
      left.pipe(join(right, { ...opts(5), combine: undefined as never })),
      { clock },
    );
    const pairs = c.values as unknown as [L, L][];
    assert.deepEqual(
      pairs.map(([a, b]) => `${a.id}+${b.id}`),
      ['a1+b1', 'a2+b1'],
    );
    assert.ok(pairs.every((x) => Object.isFrozen(x)));
  });

  it('drops late values (older than the latest on their input) and audits them', async () => {
    const p = new Pipeline();
    const clock = new Clock();
    const left = scripted(
      clock,
      [
        [1, l('a1', 'x', 10)],
        [2, l('a2', 'x', 5)],
      ],
      { end: 4 },
    );
    const right = scripted(clock, [[3, l('b1', 'x', 5)]], { end: 4 });
    const c = await collect(p, left.pipe(join(right, { ...opts(1), name: 'j' })), { clock });
    assert.deepEqual(c.values, []);
    const late = p.engine.audit.entries().filter((e) => e.unit === 'j' && /late/.test(e.op));
    assert.equal(late.length, 1);
  });

  it('matches a brute-force join for any in-order inputs and interleaving (buffers evicted by watermark)', async () => {
    const side = fc
      .array(fc.record({ k: fc.constantFrom('x', 'y'), dt: fc.nat(4), step: fc.nat(40) }), {
        maxLength: 12,
      })
      .map((xs) => {
        let t = 0;
        const steps = xs.map((x) => x.step + 1).sort((a, b) => a - b);
        return xs.map((x, i) => ({ k: x.k, t: (t += x.dt), step: steps[i] as number }));
      });
    await fc.assert(
      fc.asyncProperty(side, side, fc.nat(5), async (as, bs, within) => {
        const A = as.map((a, i) => ({ ...l(`a${String(i)}`, a.k, a.t), step: a.step }));
        const B = bs.map((b, i) => ({ ...l(`b${String(i)}`, b.k, b.t), step: b.step + 0.5 }));
        const clock = new Clock();
        const left = scripted(
          clock,
          A.map((a) => [a.step, a] as const),
          { end: 50 },
        );
        const right = scripted(
          clock,
          B.map((b) => [b.step, b] as const),
          { end: 50 },
        );
        const c = await collect(new Pipeline(), left.pipe(join(right, opts(within))), { clock });
        const expected: string[] = [];
        for (const a of A) {
          for (const b of B) {
            if (a.k === b.k && Math.abs(a.t - b.t) <= within) expected.push(`${a.id}+${b.id}`);
          }
        }
        assert.deepEqual([...c.values].sort(), expected.sort());
      }),
      { numRuns: 40 },
    );
  });

  it('joins long backlogs (evicting and compacting as the watermark moves)', async () => {
    const n = 3000;
    const xs = Array.from({ length: n }, (_, i) => l(String(i), i % 2 === 0 ? 'e' : 'o', i));
    const c = await collect(new Pipeline(), from(xs).pipe(join(from(xs), opts(2))));
    // Same parity within 2: i with i - 2, i, i + 2.
    assert.equal(c.values.length, 3 * n - 4);
    assert.equal(c.values.filter((x) => x === '1500+1500').length, 1);
  });

  it('completes when both inputs complete', async () => {
    const clock = new Clock();
    const left = scripted(clock, [[1, l('a1', 'x', 1)]], { end: 2 });
    const right = scripted(clock, [[3, l('b1', 'x', 1)]], { end: 5 });
    const c = await collect(new Pipeline(), left.pipe(join(right, opts(0))), { clock });
    assert.deepEqual(c.events, [['v', 'a1+b1'], ['c']]);
    assert.equal(clock.now, 5);
  });

  it('a function that throws, or a bad key or time, ends the output', async () => {
    const bad: Partial<JoinOptions<L, L, string>>[] = [
      { keyOf: () => ({}) as never },
      { otherTimeOf: () => Number.NaN },
      {
        combine: () => {
          throw new Error('bad');
        },
      },
    ];
    for (const b of bad) {
      const c = await collect(
        new Pipeline(),
        from([l('a', 'x', 1)]).pipe(join(from([l('b', 'x', 1)]), { ...opts(1), ...b })),
      );
      assert.deepEqual(c.values, []);
      assert.equal(c.errors.length, 1);
      assert.equal(c.completed, false);
    }
  });

  it('refuses bad options and keyed inputs with a ConfigError', () => {
    const o = opts(1);
    for (const b of [
      null,
      { ...o, within: -1 },
      { ...o, within: Infinity },
      { ...o, keyOf: 1 },
      { ...o, otherKeyOf: undefined },
      { ...o, timeOf: 'x' },
      { ...o, otherTimeOf: null },
      { ...o, combine: 3 },
    ]) {
      assert.throws(() => join(from([]), b as never), ConfigError);
    }
    assert.throws(() => join(3 as never, o), ConfigError);
    const p = new Pipeline();
    const keyed = from([l('a', 'x', 1)]).pipe(keyBy((v) => v.k, p.family('k')));
    assert.throws(() => from([l('a', 'x', 1)]).pipe(join(keyed, o)), /join partner is keyed/);
    assert.throws(() => keyed.pipe(join(from([]), o)), /source is keyed/);
  });

  describe('security', () => {
    it('the check rejects a public sink fed by a join with a secret partner (control flow)', () => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const secret = from([l('b', 'x', 1)], { label: Label.secrecy(alice.tag), name: 'secret' });
      sinkTo(p, from([l('a', 'x', 1)]).pipe(join(secret, opts(1))));
      const r = p.check();
      assert.equal(r.ok, false);
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(paths.some((x) => x.includes('secret =(join partner, control flow)=> join')));
    });

    it('passes with a public partner', () => {
      const p = new Pipeline();
      sinkTo(p, from([l('a', 'x', 1)]).pipe(join(from([l('b', 'x', 1)]), opts(1))));
      assert.equal(p.check().ok, true);
    });
  });
});
