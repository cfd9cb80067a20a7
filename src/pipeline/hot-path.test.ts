import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Label } from '../labels.js';
import { LabelBound } from './label-bound.js';
import { makeNode, type InstanceContext } from './node.js';
import { Gate, KeyLabels } from './operator-base.js';
import { filter } from './operators/filter.js';
import { keyBy } from './operators/key-by.js';
import { map } from './operators/map.js';
import { reduce } from './operators/reduce.js';
import { scan } from './operators/scan.js';
import { Pipeline } from './pipeline.js';
import { NO_KEY, type Receiver } from './receiver.js';
import { Runtime } from './runtime.js';
import { toCallback } from './sinks/to-callback.js';
import { CHUNK } from './source.js';
import { from } from './sources/from.js';

const NOWHERE: Receiver = { next() {}, error() {}, complete() {} };

/** A gate for one instance at `bound`, as `Pipeline.start` would make it. */
function gateAt(p: Pipeline, bound: LabelBound, checks = true) {
  const rt = new Runtime(p.engine.audit, checks);
  const ctx: InstanceContext = {
    rt,
    node: makeNode({ kind: 'probe', inputs: [] }),
    label: bound.base,
    bound,
    out: bound,
    down: NOWHERE,
  };
  return { rt, gate: new Gate(ctx, new KeyLabels(ctx)) };
}

function setup() {
  const p = new Pipeline();
  const A = Label.secrecy(p.tag('alice').tag);
  const B = Label.secrecy(p.tag('bob').tag);
  return { p, A, B, AB: A.join(B) };
}

describe('hot path: the runtime monitor (Gate)', () => {
  it('admits at the instance label what flows to it, refuses and audits what does not', () => {
    const { p, A, B } = setup();
    const { rt, gate } = gateAt(p, new LabelBound(A));
    assert.equal(gate.admit(A, NO_KEY), A);
    assert.equal(gate.admit(Label.public, NO_KEY), A);
    assert.equal(gate.admit(Label.public, NO_KEY), A); // the memo: a pointer compare
    assert.equal(gate.admit(B, NO_KEY), undefined);
    // The memo holds only admitted labels: B is refused again, not let through.
    assert.equal(gate.admit(B, NO_KEY), undefined);
    assert.equal(gate.admit(A, NO_KEY), A);
    assert.deepEqual([...rt.refused.values()], [2]);
    const refusals = p.engine.audit.entries().filter((e) => e.kind === 'refused-flow');
    assert.equal(refusals.length, 2);
  });

  it('with the monitor off (measurement only), admits everything', () => {
    const { p, A, B } = setup();
    const { rt, gate } = gateAt(p, new LabelBound(A), false);
    assert.equal(gate.admit(B, NO_KEY), A);
    assert.equal(rt.refused.size, 0);
  });

  it('property: whatever the order, a label is admitted iff it flows to the instance label', () => {
    const { p, A, B, AB } = setup();
    const labels = [Label.public, A, B, AB];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }),
        (at, seq) => {
          const inst = labels[at] as Label;
          const { gate } = gateAt(p, new LabelBound(inst));
          for (const i of seq) {
            const l = labels[i] as Label;
            assert.equal(gate.admit(l, NO_KEY), l.flowsTo(inst) ? inst : undefined);
          }
        },
      ),
    );
  });

  it('in a keyed section, runs each key at its own label and refuses other keys’ data', () => {
    const { p, A } = setup();
    const fam = p.family('carrier');
    const { rt, gate } = gateAt(p, new LabelBound(A, [fam]));
    const aa = A.join(fam.label('AA'));
    const ua = A.join(fam.label('UA'));
    assert.equal(gate.admit(A, 'AA'), aa);
    assert.equal(gate.admit(aa, 'AA'), aa);
    assert.equal(gate.admit(ua, 'AA'), undefined);
    assert.equal(gate.admit(ua, 'UA'), ua);
    gate.kill('AA');
    assert.equal(gate.admit(aa, 'AA'), undefined);
    assert.equal(gate.admit(ua, 'UA'), ua);
    assert.deepEqual([...rt.refused.values()], [1]);
  });
});

describe('hot path: from(array), map, filter, scan, reduce', () => {
  it('from(array) emits every value in order across chunk boundaries, as from(iterable)', async () => {
    const n = CHUNK * 2 + 5;
    const values = Array.from({ length: n }, (_, i) => i);
    const run = async (src: Iterable<number>) => {
      const { p, A } = setup();
      const got: number[] = [];
      p.output(
        from(src, { label: A }).pipe(
          filter((x: number) => x % 3 !== 0),
          map((x: number) => x * 2),
        ),
        toCallback<number>((v) => got.push(v), { label: A }),
      );
      await p.run();
      return got;
    };
    const fromArray = await run(values);
    const fromIterable = await run(values.values());
    assert.equal(fromArray.length, n - Math.ceil(n / 3));
    assert.deepEqual(fromArray, fromIterable);
    const last = (n - 1) % 3 === 0 ? n - 2 : n - 1;
    assert.equal(fromArray.at(-1), last * 2);
  });

  for (const [what, values] of [
    ['an array', () => Array.from({ length: CHUNK * 4 }, (_, i) => i)],
    ['an iterable', () => Array.from({ length: CHUNK * 4 }, (_, i) => i).values()],
  ] as const) {
    it(`from(${what}) stops after the chunk in which the run was stopped`, async () => {
      const { p } = setup();
      let seen = 0;
      p.output(
        from<number>(values()),
        toCallback(() => {
          seen++;
        }),
      );
      const run = p.start(); // the first chunk is pushed synchronously
      run.stop();
      await run.done;
      assert.equal(seen, CHUNK);
    });
  }

  it('an array with its own iterator is read through it', async () => {
    const { p } = setup();
    const odd = [1, 2, 3];
    Object.defineProperty(odd, Symbol.iterator, { value: () => [9][Symbol.iterator]() });
    const got: number[] = [];
    p.output(
      from(odd),
      toCallback<number>((v) => got.push(v)),
    );
    await p.run();
    assert.deepEqual(got, [9]);
  });

  it('scan emits each accumulation; reduce the last, or the seed on an empty input', async () => {
    const { p, A } = setup();
    const scans: number[] = [];
    const sums: number[] = [];
    const empty: number[] = [];
    p.output(
      from([1, 2, 3], { label: A }).pipe(scan((a: number, x: number) => a + x, 10)),
      toCallback<number>((v) => scans.push(v), { label: A }),
    );
    p.output(
      from([1, 2, 3], { label: A }).pipe(reduce((a: number, x: number) => a + x, 0)),
      toCallback<number>((v) => sums.push(v), { label: A }),
    );
    p.output(
      from<number>([]).pipe(reduce((a: number, x: number) => a + x, 7)),
      toCallback<number>((v) => empty.push(v)),
    );
    await p.run();
    assert.deepEqual(scans, [11, 13, 16]);
    assert.deepEqual(sums, [6]);
    assert.deepEqual(empty, [7]);
  });

  it('a throwing accumulator fails the unkeyed stream at the operator label', async () => {
    const { p, A } = setup();
    const got: number[] = [];
    const errors: string[] = [];
    p.output(
      from([1, 2, 3], { label: A }).pipe(
        scan((a: number, x: number) => {
          if (x === 2) throw new Error('boom');
          return a + x;
        }, 0),
      ),
      toCallback<number>((v) => got.push(v), {
        label: A,
        onError: (_e, info) => errors.push(info.label === A ? 'at A' : 'elsewhere'),
      }),
    );
    const report = await p.run();
    assert.deepEqual(got, [1]);
    assert.deepEqual(errors, ['at A']);
    assert.equal(report.failures.length, 1);
  });

  it('keyed reduce: one result per key at its label, in key order; a failing key ends alone', async () => {
    const { p, A } = setup();
    const fam = p.family('k');
    const got: [string | number | undefined, number][] = [];
    p.output(
      from([5, 1, 4, 2, 3, 10], { label: A }).pipe(
        keyBy((x: number) => (x === 10 ? 'z' : x % 2), fam),
        reduce((a: number, x: number) => {
          if (x === 10) throw new Error('boom');
          return a + x;
        }, 0),
      ),
      toCallback<number>((v, info) => got.push([info.key, v]), { label: A, perKey: fam }),
    );
    const report = await p.run();
    assert.deepEqual(got, [
      [0, 6],
      [1, 9],
    ]);
    assert.equal(report.failures.length, 1);
  });

  it('values returned by user functions are frozen before they cross a label boundary', async () => {
    const { p, A } = setup();
    const got: { x: number[] }[] = [];
    p.output(
      from([1, 2]).pipe(map((x: number) => ({ x: [x] }))),
      toCallback<{ x: number[] }>((v) => got.push(v), { label: A }),
    );
    await p.run();
    assert.equal(got.length, 2);
    for (const v of got) {
      assert.ok(Object.isFrozen(v));
      assert.ok(Object.isFrozen(v.x));
    }
  });
});
