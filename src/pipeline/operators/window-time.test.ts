import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { collect } from '../../../test/support/pipeline-harness.js';
import { keyBy } from './key-by.js';
import { windowTime, type TimeWindow } from './window-time.js';

interface Ev {
  readonly t: number;
  readonly u?: string;
}
const ev = (...ts: number[]): Ev[] => ts.map((t) => ({ t }));
const times = (ws: readonly TimeWindow<Ev>[]) =>
  ws.map((w) => [w.start, w.end, w.values.map((v) => v.t)]);

describe('windowTime', () => {
  it('tumbling: a window is emitted when the watermark reaches its end, the rest on completion', async () => {
    const p = new Pipeline();
    const c = await collect(
      p,
      from(ev(1, 5, 12, 25)).pipe(windowTime<Ev>({ size: 10, timeOf: (v) => v.t })),
    );
    assert.deepEqual(times(c.values), [
      [0, 10, [1, 5]],
      [10, 20, [12]],
      [20, 30, [25]],
    ]);
    assert.equal(c.events.at(-1)?.[0], 'c');
    assert.ok(c.values.every((w) => Object.isFrozen(w) && Object.isFrozen(w.values)));
  });

  it('a window ends exclusive: an event at its end closes it and opens the next', async () => {
    const c = await collect(
      new Pipeline(),
      from(ev(0, 9.5, 10)).pipe(windowTime<Ev>({ size: 10, timeOf: (v) => v.t })),
    );
    assert.deepEqual(times(c.values), [
      [0, 10, [0, 9.5]],
      [10, 20, [10]],
    ]);
  });

  it('sliding: windows start every `slide`; an event is in each window that covers it', async () => {
    const c = await collect(
      new Pipeline(),
      from(ev(1, 7, 12)).pipe(windowTime<Ev>({ size: 10, slide: 5, timeOf: (v) => v.t })),
    );
    assert.deepEqual(times(c.values), [
      [-5, 5, [1]],
      [0, 10, [1, 7]],
      [5, 15, [7, 12]],
      [10, 20, [12]],
    ]);
  });

  it('hopping: slide > size leaves gaps whose events belong to no window', async () => {
    const c = await collect(
      new Pipeline(),
      from(ev(1, 6, 11, 27)).pipe(windowTime<Ev>({ size: 5, slide: 10, timeOf: (v) => v.t })),
    );
    assert.deepEqual(times(c.values), [
      [0, 5, [1]],
      [10, 15, [11]],
    ]);
  });

  it('keeps out-of-order events whose windows are open; drops late ones and audits them', async () => {
    const p = new Pipeline();
    const c = await collect(
      p,
      from(ev(5, 3, 14, 8, 12, 31)).pipe(
        windowTime<Ev>({ size: 10, timeOf: (v) => v.t, name: 'w' }),
      ),
    );
    assert.deepEqual(times(c.values), [
      [0, 10, [5, 3]],
      [10, 20, [14, 12]],
      [30, 40, [31]],
    ]);
    const late = p.engine.audit.entries().filter((e) => e.unit === 'w' && /late event/.test(e.op));
    assert.equal(late.length, 1);
    assert.equal(late[0]?.kind, 'refused-flow');
    assert.deepEqual(c.report.refused, {});
  });

  it('per key in a keyed section: own windows and watermark, own label, flushed in key order', async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const xs: Ev[] = [
      { u: 'b', t: 1 },
      { u: 'a', t: 2 },
      { u: 'b', t: 100 },
      { u: 'a', t: 3 },
    ];
    const s = from(xs).pipe(
      keyBy((x) => x.u as string, fam),
      windowTime<Ev>({ size: 10, timeOf: (v) => v.t }),
    );
    const c = await collect(p, s, { perKey: fam });
    // b's event at 100 closes b's window only; a's events at 2 and 3 share a window.
    assert.deepEqual(times(c.values), [
      [0, 10, [1]],
      [0, 10, [2, 3]],
      [100, 110, [100]],
    ]);
    assert.deepEqual(
      c.infos.map((i) => i.key),
      ['b', 'a', 'b'],
    );
    assert.equal(c.infos[1]?.label, fam.label('a'));
  });

  it('a timeOf that throws or returns a non-finite number ends the stream', async () => {
    for (const timeOf of [
      (v: Ev) => (v.t === 2 ? Number.NaN : v.t),
      (v: Ev) => {
        if (v.t === 2) throw new Error('bad');
        return v.t;
      },
    ]) {
      const c = await collect(
        new Pipeline(),
        from(ev(1, 2, 30)).pipe(windowTime({ size: 10, timeOf })),
      );
      assert.deepEqual(c.values, []);
      assert.equal(c.errors.length, 1);
      assert.equal(c.completed, false);
    }
  });

  it("a key's bad time ends that key only", async () => {
    const p = new Pipeline();
    const fam = p.family('user');
    const xs: Ev[] = [
      { u: 'a', t: 1 },
      { u: 'b', t: 1 },
      { u: 'b', t: -Infinity },
      { u: 'a', t: 2 },
    ];
    const s = from(xs).pipe(
      keyBy((x) => x.u as string, fam),
      windowTime<Ev>({ size: 10, timeOf: (v) => v.t }),
    );
    const c = await collect(p, s, { perKey: fam });
    assert.deepEqual(times(c.values), [[0, 10, [1, 2]]]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.completed, true);
  });

  it('refuses bad options with a ConfigError', () => {
    const timeOf = (v: Ev) => v.t;
    for (const o of [
      undefined,
      null,
      { size: 0, timeOf },
      { size: 10, slide: -1, timeOf },
      { size: Infinity, timeOf },
      { size: 10 },
      { size: 10, timeOf, label: 'public' },
    ]) {
      assert.throws(() => from(ev(1)).pipe(windowTime(o as never)), ConfigError);
    }
  });
});
