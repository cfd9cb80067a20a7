/**
 * The classic reactive leaks as pipelines (Luo: suspension and preemption), implicit flows
 * through filter and keyed routing, and a non-interference property over random pipelines:
 * changing only secret inputs never changes what a public sink receives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FlowViolationError } from '../src/errors.js';
import { Label } from '../src/labels.js';
import {
  declassify,
  filter,
  from,
  keyBy,
  map,
  merge,
  minRecords,
  Pipeline,
  reduce,
  scan,
  skipUntil,
  takeUntil,
  zip,
  mergeMap,
  toCallback,
  type Stream,
} from '../src/operators.js';

describe('reactive control-flow leaks are stopped', () => {
  it('suspension: a public output that waits on a secret stream before emitting is rejected', async () => {
    // Luo's `when(secret) { output(public) }`, three ways: skipUntil(secret), zip with a secret
    // partner (each output waits for the partner's next value), and an inner public stream
    // started by each secret event (mergeMap).
    const attempts: ((s: Stream<number>) => Stream<unknown>)[] = [
      (secret) => from([1, 2, 3]).pipe(skipUntil(secret)),
      (secret) => from([1, 2, 3]).pipe(zip(secret)),
      (secret) => secret.pipe(mergeMap(() => [1, 2, 3])),
    ];
    for (const attempt of attempts) {
      const p = new Pipeline();
      const s = p.tag('s');
      const got: unknown[] = [];
      p.output(
        attempt(from([7], { label: Label.secrecy(s.tag), name: 'secret' })),
        toCallback((x) => got.push(x)),
      );
      const r = p.check();
      assert.equal(r.ok, false);
      assert.match(r.violations[0]!.paths[0]!.path, /^secret /);
      await assert.rejects(p.run(), FlowViolationError);
      assert.deepEqual(got, []);
    }
  });

  it('preemption: a public output cut off by a secret stream (takeUntil(secret)) is rejected', async () => {
    const p = new Pipeline();
    const alarm = p.tag('alarm');
    const got: number[] = [];
    p.output(
      from([1, 2, 3]).pipe(takeUntil(from([true], { label: Label.secrecy(alarm.tag) }))),
      toCallback((x: number) => got.push(x)),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.match(r.violations[0]!.paths[0]!.path, /=\(notifier, control flow\)=> takeUntil/);
    await assert.rejects(p.run(), FlowViolationError);
    assert.deepEqual(got, []);
  });

  it('implicit flow through filter on a secret part is rejected', () => {
    const p = new Pipeline();
    const med = p.tag('medical');
    const patients = from([{ name: 'a', hiv: true }], { label: Label.secrecy(med.tag) });
    // The names are "public" data, but which names pass depends on the secret diagnosis.
    p.output(
      patients.pipe(
        filter((x: { name: string; hiv: boolean }) => x.hiv),
        map((x: { name: string }) => x.name),
      ),
      toCallback(() => undefined),
    );
    assert.equal(p.check().ok, false);
  });

  it('implicit flow through which key a keyed operator routes to is rejected', () => {
    const p = new Pipeline();
    const salary = p.tag('salary');
    const buckets = p.family('bucket');
    const staff = from([{ salary: 90_000 }], { label: Label.secrecy(salary.tag) });
    // A per-bucket sink cleared only for its bucket: the bucket is chosen by a secret salary,
    // so each bucket instance runs at S{salary} ⊔ bucket and may not reach the sink.
    p.output(
      staff.pipe(
        keyBy((s: { salary: number }) => (s.salary > 50_000 ? 'high' : 'low'), buckets),
        reduce((n: number) => n + 1, 0),
      ),
      toCallback(() => undefined, { perKey: buckets }),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.ok(r.violations[0]!.paths.some((x) => /'salary'/.test(x.what)));
  });

  it('a key family cannot be released without holding it', () => {
    const p = new Pipeline();
    const tenants = p.family('tenant');
    p.output(
      from([{ t: 'a' }]).pipe(
        keyBy((x: { t: string }) => x.t, tenants),
        reduce((n: number) => n + 1, 0),
        declassify({ policy: minRecords(1, () => 1) }),
      ),
      toCallback(() => undefined),
    );
    assert.equal(p.check().ok, false);
  });
});

/** A random pipeline shape mixing one public and one secret source. */
type Shape = 'merge' | 'takeUntil' | 'notifierPublic' | 'scanMerged' | 'perValue' | 'publicOnly';

function build(shape: Shape, pub: number[], sec: number[], SECRET: Label): Stream<number> {
  const P = from(pub);
  const S = from(sec, { label: SECRET });
  switch (shape) {
    case 'merge':
      return P.pipe(merge(S.pipe(map((x: number) => x * 2))));
    case 'takeUntil':
      return P.pipe(takeUntil(S.pipe(filter((x: number) => x > 50))));
    case 'notifierPublic':
      return P.pipe(takeUntil(from<number>([])));
    case 'scanMerged':
      return S.pipe(
        merge(P),
        scan((a: number, x: number) => a + x, 0),
      );
    case 'perValue':
      // One source holding both: the secret values are labelled per value; the monitor refuses
      // them at the source bound (public), whatever their content.
      return from([...pub.map((v) => ({ v, s: false })), ...sec.map((v) => ({ v, s: true }))], {
        labelOf: (x: { s: boolean }) => (x.s ? SECRET : Label.public),
      }).pipe(map((x: { v: number }) => x.v));
    case 'publicOnly':
      return P.pipe(
        filter((x: number) => x % 2 === 0),
        map((x: number) => x + 1),
      );
  }
}

async function publicView(shape: Shape, pub: number[], sec: number[]) {
  const p = new Pipeline();
  const SECRET = Label.secrecy(p.tag('secret').tag);
  const seen: unknown[] = [];
  p.output(
    build(shape, pub, sec, SECRET),
    toCallback((x: number) => seen.push(x), {
      onComplete: () => seen.push('complete'),
      onError: () => seen.push('error'),
    }),
  );
  if (!p.check().ok) return { rejected: true, seen };
  await p.run();
  return { rejected: false, seen };
}

describe('non-interference of pipelines (property)', () => {
  it('changing only secret inputs never changes what a public sink sees', async () => {
    const shapes: Shape[] = [
      'merge',
      'takeUntil',
      'notifierPublic',
      'scanMerged',
      'perValue',
      'publicOnly',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...shapes),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 12 }),
        async (shape, pub, sec1, sec2) => {
          const a = await publicView(shape, pub, sec1);
          const b = await publicView(shape, pub, sec2);
          assert.equal(a.rejected, b.rejected);
          assert.deepEqual(a.seen, b.seen);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the shapes that mix in secret data are exactly the rejected ones', async () => {
    const expect: Record<Shape, boolean> = {
      merge: true,
      takeUntil: true,
      notifierPublic: false,
      scanMerged: true,
      perValue: false,
      publicOnly: false,
    };
    for (const [shape, rejected] of Object.entries(expect)) {
      const v = await publicView(shape as Shape, [1, 2], [3]);
      assert.equal(v.rejected, rejected, shape);
    }
    // perValue runs: only the public values arrive.
    assert.deepEqual((await publicView('perValue', [1, 2], [3, 4])).seen, [1, 2, 'complete']);
  });
});
