/**
 * Control flow through multi-input operators (DESIGN.md §1 "Reactive control flow"): for random
 * public and secret inputs to combineLatest, zip and sample feeding a public sink, either the
 * static check rejects the pipeline, or the public sink's output is identical when only the
 * secret streams' values change (same timing, same counts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Label } from '../src/labels.js';
import { combineLatest } from '../src/pipeline/operators/combine-latest.js';
import { map } from '../src/pipeline/operators/map.js';
import { sample } from '../src/pipeline/operators/sample.js';
import { zip } from '../src/pipeline/operators/zip.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { Stream } from '../src/pipeline/stream.js';
import { Clock, scripted, sinkTo, type Collected } from './support/pipeline-harness.js';

type Op = 'zip' | 'combineLatest' | 'sample';

interface InputPlan {
  readonly secret: boolean;
  /** Steps at which the input emits (the same in both runs). */
  readonly steps: readonly number[];
  readonly end: number;
  /** Values in run A and run B (B differs only for secret inputs). */
  readonly a: readonly number[];
  readonly b: readonly number[];
}

const inputPlan: fc.Arbitrary<InputPlan> = fc
  .record({
    secret: fc.boolean(),
    steps: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 6 }),
    extra: fc.nat(5),
    seedA: fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 6, maxLength: 6 }),
    seedB: fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 6, maxLength: 6 }),
  })
  .map(({ secret, steps, extra, seedA, seedB }) => {
    const sorted = [...steps].sort((x, y) => x - y);
    const a = sorted.map((_, i) => seedA[i] as number);
    return {
      secret,
      steps: sorted,
      end: (sorted.at(-1) ?? 0) + extra + 1,
      a,
      b: secret ? sorted.map((_, i) => seedB[i] as number) : a,
    };
  });

const plan = fc.record({
  op: fc.constantFrom<Op>('zip', 'combineLatest', 'sample'),
  inputs: fc.array(inputPlan, { minLength: 2, maxLength: 3 }),
  /** A secret stream always present in the run, combined with the first input into a secret
   * sink: secret activity next to the public output, whatever the check decides. */
  side: inputPlan.map((i) => ({ ...i, secret: true })),
});

async function runOnce(
  op: Op,
  inputs: readonly InputPlan[],
  side: InputPlan,
  which: 'a' | 'b',
): Promise<{ ok: boolean; paths: string[]; pub?: Collected<unknown> }> {
  const p = new Pipeline();
  const alice = p.tag('alice');
  const SECRET = Label.secrecy(alice.tag);
  const clock = new Clock();
  const used = op === 'sample' ? inputs.slice(0, 2) : inputs;
  const streams: Stream<number>[] = used.map((inp, i) =>
    scripted(
      clock,
      inp.steps.map((s, k) => [s + i / 10, inp[which][k] as number] as const),
      { end: inp.end + i / 10 },
      inp.secret ? { label: SECRET, name: `secret${String(i)}` } : { name: `public${String(i)}` },
    ),
  );
  const [first, ...rest] = streams as [Stream<number>, ...Stream<number>[]];
  const out: Stream<unknown> =
    op === 'zip'
      ? first.pipe(zip(...rest))
      : op === 'combineLatest'
        ? first.pipe(combineLatest(...rest))
        : first.pipe(sample(rest[0] as Stream<number>));
  const pub = sinkTo(p, out.pipe(map((x) => x)));
  // Secret inputs are also used where they may go: a sink cleared for them.
  for (const [i, s] of streams.entries()) {
    if (used[i]?.secret === true) sinkTo(p, s, { label: SECRET });
  }
  const sideS = scripted(
    clock,
    side.steps.map((s, k) => [s + 0.05, side[which][k] as number] as const),
    { end: side.end + 0.05 },
    { label: SECRET, name: 'side' },
  );
  sinkTo(
    p,
    first.pipe(
      combineLatest(sideS),
      map(([x, y]) => x + y),
    ),
    { label: SECRET },
  );
  const r = p.check();
  if (!r.ok) return { ok: false, paths: r.violations.flatMap((v) => v.paths.map((x) => x.path)) };
  const done = p.run();
  await clock.run();
  await done;
  return { ok: true, paths: [], pub };
}

describe('control flow through combineLatest, zip and sample', () => {
  it('either the check rejects, or the public output does not depend on secret values', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(plan, async ({ op, inputs, side }) => {
        const used = op === 'sample' ? inputs.slice(0, 2) : inputs;
        const ra = await runOnce(op, inputs, side, 'a');
        // The check is exact here: any secret input (data or control) taints the output.
        assert.equal(ra.ok, !used.some((i) => i.secret));
        if (!ra.ok) {
          assert.ok(ra.paths.some((x) => /^secret\d/.test(x)));
          // A secret partner or notifier is named as control flow (one path per tag: the first
          // input that carries it; zip's and combineLatest's sources are control inputs too).
          if (op !== 'sample' || used[0]?.secret !== true) {
            assert.ok(ra.paths.some((x) => /control flow/.test(x)));
          }
          return;
        }
        const rb = await runOnce(op, inputs, side, 'b');
        assert.deepEqual(rb.pub?.events, ra.pub?.events);
        accepted++;
      }),
      { numRuns: 120 },
    );
    // Both branches of the property were exercised.
    assert.ok(accepted > 0);
  });

  it('a secret notifier or partner is reported as control flow by role', () => {
    for (const op of ['zip', 'combineLatest', 'sample'] as const) {
      const p = new Pipeline();
      const SECRET = Label.secrecy(p.tag('alice').tag);
      const clock = new Clock();
      const pubS = scripted(clock, [[1, 1]]);
      const secS = scripted(clock, [[2, 2]], { end: 3 }, { label: SECRET, name: 'secret' });
      const out: Stream<unknown> =
        op === 'zip'
          ? pubS.pipe(zip(secS))
          : op === 'combineLatest'
            ? pubS.pipe(combineLatest(secS))
            : pubS.pipe(sample(secS));
      sinkTo(p, out);
      const r = p.check();
      assert.equal(r.ok, false);
      const role = op === 'sample' ? 'notifier' : 'partner 1';
      const paths = r.violations.flatMap((v) => v.paths.map((x) => x.path));
      assert.ok(
        paths.some((x) => x.includes(`secret =(${role}, control flow)=> ${op}`)),
        op,
      );
    }
  });
});
