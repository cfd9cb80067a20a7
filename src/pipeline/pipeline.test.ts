import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowViolationError } from '../errors.js';
import { Label } from '../labels.js';
import { filter } from './operators/filter.js';
import { keyBy } from './operators/key-by.js';
import { map } from './operators/map.js';
import { merge } from './operators/merge.js';
import { reduce } from './operators/reduce.js';
import { scan } from './operators/scan.js';
import { takeUntil } from './operators/take-until.js';
import { tap } from './operators/tap.js';
import { Pipeline } from './pipeline.js';
import { toCallback } from './sinks/to-callback.js';
import { from } from './sources/from.js';
import type { SinkInfo } from './sink.js';

function collect<T>() {
  const values: T[] = [];
  const infos: SinkInfo[] = [];
  let completed = false;
  const errors: unknown[] = [];
  return {
    values,
    infos,
    errors,
    get completed() {
      return completed;
    },
    sink: (label?: Label) =>
      toCallback<T>(
        (v, info) => {
          values.push(v);
          infos.push(info);
        },
        {
          ...(label === undefined ? {} : { label }),
          onComplete: () => (completed = true),
          onError: (e) => errors.push(e),
        },
      ),
  };
}

describe('pipeline: basic operators', () => {
  it('map, filter, scan, reduce compute what RxJS would', async () => {
    const p = new Pipeline();
    const src = from([1, 2, 3, 4, 5, 6]);
    const a = collect<number>();
    const b = collect<number>();
    p.output(
      src.pipe(
        filter((x: number) => x % 2 === 0),
        map((x: number) => x * 10),
        scan((acc: number, x: number) => acc + x, 0),
      ),
      a.sink(),
    );
    p.output(src.pipe(reduce((acc: number, x: number) => acc + x, 0)), b.sink());
    const report = await p.run();
    assert.deepEqual(a.values, [20, 60, 120]);
    assert.deepEqual(b.values, [21]);
    assert.ok(a.completed && b.completed);
    assert.deepEqual(report.failures, []);
  });

  it('reduce of an empty stream emits its seed', async () => {
    const p = new Pipeline();
    const c = collect<number>();
    p.output(from<number>([]).pipe(reduce((a: number, x: number) => a + x, 7)), c.sink());
    await p.run();
    assert.deepEqual(c.values, [7]);
  });

  it('values are deeply frozen where they fan out or cross a label boundary', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const made = from([1]).pipe(map((n: number) => ({ inner: { n } })));
    const shared = collect<{ inner: { n: number } }>();
    const other = collect<{ inner: { n: number } }>();
    p.output(made, shared.sink());
    p.output(made, other.sink());
    const raised = collect<{ inner: { n: number } }>();
    p.output(
      from([2]).pipe(map((n: number) => ({ inner: { n } }))),
      raised.sink(Label.secrecy(alice.tag)),
    );
    await p.run();
    for (const v of [shared.values[0]!, raised.values[0]!]) {
      assert.ok(Object.isFrozen(v) && Object.isFrozen(v.inner));
      assert.throws(() => {
        (v.inner as { n: number }).n = 9;
      }, TypeError);
    }
    assert.equal(shared.values[0], other.values[0]);
  });

  it('an operator that throws ends its stream with an error at its label; others go on', async () => {
    const p = new Pipeline();
    const src = from([1, 2, 3]);
    const bad = collect<number>();
    const good = collect<number>();
    p.output(
      src.pipe(
        map((x: number) => {
          if (x === 2) throw new Error('boom');
          return x;
        }),
      ),
      bad.sink(),
    );
    p.output(src, good.sink());
    const report = await p.run();
    assert.deepEqual(bad.values, [1]);
    assert.equal(bad.errors.length, 1);
    assert.equal(bad.completed, false);
    assert.deepEqual(good.values, [1, 2, 3]);
    assert.equal(report.failures.length, 1);
    assert.match(report.failures[0]!.operator, /^map#/);
  });

  it('merge interleaves and completes after all inputs; takeUntil cuts off', async () => {
    const p = new Pipeline();
    const m = collect<number>();
    p.output(from([1, 2]).pipe(merge(from([3]))), m.sink());
    const t = collect<number>();
    p.output(from([1, 2, 3]).pipe(takeUntil(from([0]))), t.sink());
    await p.run();
    assert.deepEqual(m.values.sort(), [1, 2, 3]);
    assert.ok(m.completed);
    // The notifier's source runs after the main source has pushed everything (sync sources run
    // in wiring order), so takeUntil sees 1, 2, 3 before the cut.
    assert.deepEqual(t.values, [1, 2, 3]);
    assert.ok(t.completed);
  });

  it('tap sees every value and passes it on', async () => {
    const p = new Pipeline();
    const seen: number[] = [];
    const c = collect<number>();
    p.output(from([1, 2]).pipe(tap((x: number) => seen.push(x))), c.sink());
    await p.run();
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(c.values, [1, 2]);
  });
});

describe('pipeline: labels', () => {
  it('outputs carry the operator label; a sink below it is rejected before anything runs', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const SECRET = Label.secrecy(alice.tag);
    const c = collect<number>();
    let ran = false;
    p.output(
      from([1, 2], { label: SECRET }).pipe(
        map((x: number) => {
          ran = true;
          return x;
        }),
      ),
      c.sink(),
    );
    const report = p.check();
    assert.equal(report.ok, false);
    assert.match(report.violations[0]!.message, /clearance public/);
    assert.match(report.violations[0]!.paths[0]!.path, /^from#\d+ → map#\d+ → toCallback#\d+$/);
    await assert.rejects(p.run(), FlowViolationError);
    assert.equal(ran, false);
    assert.deepEqual(c.values, []);
  });

  it('a sink cleared at the label receives the values with their label', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const SECRET = Label.secrecy(alice.tag);
    const c = collect<number>();
    p.output(from([1, 2], { label: SECRET }).pipe(map((x: number) => x + 1)), c.sink(SECRET));
    await p.run();
    assert.deepEqual(c.values, [2, 3]);
    assert.ok(c.infos.every((i) => i.label === SECRET));
  });

  it('an operator declared below its input is a violation naming the operator', () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    p.output(
      from([1], { label: Label.secrecy(alice.tag) }).pipe(
        map((x: number) => x, { label: Label.public, name: 'leaky-map' }),
      ),
      toCallback(() => undefined),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.match(r.violations[0]!.message, /leaky-map has the fixed label public/);
  });

  it('per-value labels above the source bound are refused by the monitor and audited', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const SECRET = Label.secrecy(alice.tag);
    const c = collect<number>();
    p.output(
      from([1, 2, 3], { labelOf: (x: number) => (x === 2 ? SECRET : Label.public) }),
      c.sink(),
    );
    const report = await p.run();
    assert.deepEqual(c.values, [1, 3]);
    assert.equal(Object.values(report.refused)[0], 1);
    const entry = p.engine.audit.entries().find((e) => e.kind === 'refused-flow');
    assert.ok(entry);
    assert.doesNotMatch(JSON.stringify(entry), /"2"|: ?2[,}]/);
  });

  it('keyBy: each key instance sees only its key, at its key label', async () => {
    const p = new Pipeline();
    const tenants = p.family('tenant');
    const c = collect<{ n: number; sum: number }>();
    p.output(
      from([
        { t: 'a', x: 1 },
        { t: 'b', x: 10 },
        { t: 'a', x: 2 },
      ]).pipe(
        keyBy((r: { t: string; x: number }) => r.t, tenants),
        reduce(
          (acc: { n: number; sum: number }, r: { t: string; x: number }) => ({
            n: acc.n + 1,
            sum: acc.sum + r.x,
          }),
          { n: 0, sum: 0 },
        ),
      ),
      toCallback(
        (v: { n: number; sum: number }, info) => {
          c.values.push(v);
          c.infos.push(info);
        },
        { perKey: tenants },
      ),
    );
    await p.run();
    assert.deepEqual(c.values, [
      { n: 2, sum: 3 },
      { n: 1, sum: 10 },
    ]);
    assert.deepEqual(
      c.infos.map((i) => i.key),
      ['a', 'b'],
    );
    assert.equal(c.infos[0]!.label, tenants.label('a'));
    assert.equal(c.infos[1]!.label, tenants.label('b'));
  });

  it('keyed data may not reach a sink that is not per key', () => {
    const p = new Pipeline();
    const tenants = p.family('tenant');
    p.output(
      from([{ t: 'a' }]).pipe(keyBy((r: { t: string }) => r.t, tenants)),
      toCallback(() => undefined),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.match(r.violations[0]!.paths[0]!.what, /family 'tenant'/);
  });
});

describe('pipeline: keyBy element selector', () => {
  it('each key instance receives the selected element, at its key label', async () => {
    const p = new Pipeline();
    const fam = p.family('k');
    const got: [unknown, unknown, string][] = [];
    p.output(
      from([
        { k: 'a', x: 1 },
        { k: 'b', x: 5 },
        { k: 'a', x: 2 },
      ]).pipe(
        keyBy((r: { k: string; x: number }) => r.k, fam, { element: (r) => r.x }),
        reduce((s: number, x: number) => s + x, 0),
      ),
      toCallback(
        (v, info) => got.push([info.key, v, String(info.label === fam.label(info.key!))]),
        {
          perKey: fam,
        },
      ),
    );
    await p.run();
    assert.deepEqual(got, [
      ['a', 3, 'true'],
      ['b', 5, 'true'],
    ]);
    assert.throws(
      () => keyBy((r: { k: string }) => r.k, fam, { element: 3 as never }),
      /element must be a function/,
    );
  });
});

describe('pipeline: sinks that throw', () => {
  it('a throwing onComplete or onError is reported and never stops the other sinks', async () => {
    const p = new Pipeline();
    const src = from([1, 2]);
    const good: unknown[] = [];
    p.output(
      src,
      toCallback(() => undefined, {
        onComplete: () => {
          throw new Error('complete handler');
        },
      }),
    );
    p.output(
      src,
      toCallback((x) => good.push(x), { onComplete: () => good.push('done') }),
    );
    const bad = src.pipe(
      map(() => {
        throw new Error('op');
      }),
    );
    p.output(
      bad,
      toCallback(() => undefined, {
        onError: () => {
          throw new Error('error handler');
        },
      }),
    );
    const report = await p.run();
    assert.deepEqual(good, [1, 2, 'done']);
    const kinds = p.engine.audit.entries().filter((e) => e.kind === 'sink-error');
    assert.equal(kinds.length, 2);
    assert.equal(report.failures.length, 3);
  });
});
