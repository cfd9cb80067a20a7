import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FULL_TIMING_MS, ProbeWindow, SAMPLE, WINDOW } from './probe-window.js';
import type { WindowStats } from './protocol.js';

/** A window fed by hand: `clock` is what the window reads when an untimed event closes it. */
function setup(seed = 12345): { w: ProbeWindow; out: WindowStats[]; clock: { t: number } } {
  const out: WindowStats[] = [];
  const clock = { t: 0 };
  const w = new ProbeWindow(
    (s) => out.push(s),
    () => clock.t,
    seed,
  );
  return { w, out, clock };
}

/** One window of events `dt` ms apart, each taking `ms(i)` when timed; returns how many were timed. */
function feed(w: ProbeWindow, clock: { t: number }, dt: number, ms: (i: number) => number): number {
  let timed = 0;
  for (let i = 0; i < WINDOW; i++) {
    const t0 = clock.t;
    clock.t += dt;
    if (w.timeNext()) {
      timed++;
      w.recordTimed(t0, ms(i), 1, false, 0);
    } else w.record(1, false, 0);
  }
  return timed;
}

describe('probe window', () => {
  it('times every event of the first window, and sums it up', () => {
    const { w, out, clock } = setup();
    const timed = feed(w, clock, 0.001, (i) => (i % 2 === 0 ? 0.0001 : 0.0003));
    assert.equal(timed, WINDOW);
    assert.equal(out.length, 1);
    const s = out[0] as WindowStats;
    assert.equal(s.events, WINDOW);
    assert.equal(s.outputs, WINDOW);
    assert.ok(Math.abs(s.serviceMeanMs - 0.0002) < 1e-12);
    assert.ok(Math.abs(s.serviceSpreadMs - 0.0002) < 1e-12);
    assert.equal(s.serviceMaxMs, 0.0003);
  });

  it('after a fast window, times about one event in SAMPLE, chosen at random; statistics over the timed ones', () => {
    const { w, out, clock } = setup();
    feed(w, clock, 0.001, () => 0.0005);
    const timed = [1, 2, 3, 4].map(() => feed(w, clock, 0.001, () => 0.0007));
    const all = timed.reduce((a, b) => a + b, 0);
    // Fixed seed: deterministic here; about 4 × 64 / SAMPLE in all, and not every event.
    assert.ok(all > (4 * WINDOW) / SAMPLE / 2 && all < ((4 * WINDOW) / SAMPLE) * 2, String(all));
    assert.ok(timed.every((n) => n < WINDOW));
    for (const s of out.slice(1)) {
      assert.equal(s.events, WINDOW);
      assert.equal(s.outputs, WINDOW);
      if (s.serviceMaxMs > 0) assert.ok(Math.abs(s.serviceMeanMs - 0.0007) < 1e-12);
    }
    // Two seeds choose different events.
    const a = setup(1);
    const b = setup(2);
    feed(a.w, a.clock, 0.001, () => 0);
    feed(b.w, b.clock, 0.001, () => 0);
    const pick = (x: ProbeWindow): boolean[] => Array.from({ length: 256 }, () => x.timeNext());
    assert.notDeepEqual(pick(a.w), pick(b.w));
  });

  it('a slow window (a busy-waiting or stalling unit, or a slow stream) makes the next one timed in full', () => {
    const { w, out, clock } = setup();
    feed(w, clock, 0.001, () => 0.0005);
    // A sampled window in which the events are slow: whatever was timed, the span shows it.
    const sampled = feed(w, clock, FULL_TIMING_MS * 2, () => FULL_TIMING_MS);
    assert.ok(sampled < WINDOW);
    assert.ok((out[1]?.spanMs ?? 0) >= FULL_TIMING_MS * WINDOW);
    assert.equal(
      feed(w, clock, 0.001, () => 0.0005),
      WINDOW,
    );
    // …and a fast one after it goes back to sampling.
    assert.ok(feed(w, clock, 0.001, () => 0.0005) < WINDOW);
  });

  it('counts errors and not-found reads of every event, timed or not', () => {
    const { w, out, clock } = setup();
    feed(w, clock, 0.001, () => 0);
    for (let i = 0; i < WINDOW; i++) {
      if (w.timeNext()) w.recordTimed(clock.t, 0, 2, i % 4 === 0, 3);
      else w.record(2, i % 4 === 0, 3);
    }
    const s = out[1] as WindowStats;
    assert.equal(s.errors, WINDOW / 4);
    assert.equal(s.notFound, 3 * WINDOW);
    assert.equal(s.outputs, 2 * WINDOW);
    assert.equal(s.outputSpread, 0);
  });
});
