/**
 * Hardening of isolated units: bounded backlogs (a slow or stuck unit slows the sources that
 * feed it; its memory stays bounded), the CPU-time watchdog (a guest spinning past its budget is
 * stopped, even between batches), and frozen values through `get` in every tier.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, type UnitContext } from '../src/index.js';
import { isolatedUnit, type IsolatedUnit, type IsolationLimits } from '../src/isolation.js';
import { settle } from './support/isolation.js';

/** Publish n events on 'in' as a well-behaved source: await ready() when publish says so. */
async function feed(src: UnitContext, n: number, watch: () => void): Promise<{ waits: number }> {
  let waits = 0;
  for (let i = 0; i < n; i++) {
    watch();
    if (!src.publish('in', src.event().add('x', i))) {
      waits++;
      await src.ready();
    }
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  return { waits };
}

const SMALL: IsolationLimits = { batchSize: 16, maxInFlight: 2, heartbeatMs: 300 };
/** High water of SMALL: 2 × batchSize × maxInFlight. */
const HIGH = 64;

for (const tier of [1, 2] as const) {
  describe(`isolation hardening, tier ${String(tier)}`, () => {
    it('a slow unit slows its source: the backlog stays bounded and no event is lost', async () => {
      const engine = new Engine();
      const got: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.get('x'))));
      // ≈ 0.2–1 ms of work per event: far slower than the source.
      const slow = await isolatedUnit(engine, {
        name: 'slow',
        tier,
        limits: { ...SMALL, eventBudgetMs: 200 },
        source: `unit.subscribe('in', (ev) => { let s = 0; for (let i = 0; i < 3e5; i++) s += i; unit.publish('out', { x: ev.get('x') + s * 0 }); });`,
      });
      const src = engine.unit({ name: 's' });
      let max = 0;
      const n = 1500;
      const { waits } = await feed(src, n, () => (max = Math.max(max, slow.backlog)));
      await settle(engine, [slow]);
      assert.ok(waits > 0, 'the source was told to wait');
      // Bounded by the high-water mark (the source stops there), plus one batch being filled.
      assert.ok(max <= HIGH + SMALL.batchSize!, `backlog reached ${String(max)}`);
      assert.deepEqual(
        got,
        Array.from({ length: n }, (_, i) => i),
      );
      assert.equal(engine.audit.counts()['unit-error'] ?? 0, 0);
      await slow.stop();
    });

    it('a stuck unit holds its source back until the watchdog stops it; the others get every event', async () => {
      const engine = new Engine();
      const got: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('ok', (ev) => got.push(ev.get('x'))));
      const stuck = await isolatedUnit(engine, {
        name: 'stuck',
        tier,
        limits: { ...SMALL, eventBudgetMs: 5 },
        source: `unit.subscribe('in', (ev) => { if (ev.get('x') === 10) for (;;) {} });`,
      });
      const benign = await isolatedUnit(engine, {
        name: 'benign',
        tier,
        source: `unit.subscribe('in', (ev) => unit.publish('ok', { x: ev.get('x') }));`,
      });
      const src = engine.unit({ name: 's' });
      let max = 0;
      const n = 1000;
      const units: IsolatedUnit[] = [stuck, benign];
      const { waits } = await feed(src, n, () => (max = Math.max(max, stuck.backlog)));
      await settle(engine, units);
      assert.ok(waits > 0, 'the source was held back while the unit was stuck');
      assert.ok(max <= HIGH + SMALL.batchSize!, `backlog reached ${String(max)}`);
      assert.equal(stuck.ended, 'cpu');
      const stops = engine.audit.entries().filter((e) => e.kind === 'unit-stopped');
      assert.ok(stops.some((e) => e.unit === 'stuck' && e.op.endsWith(': cpu')));
      assert.deepEqual(
        got,
        Array.from({ length: n }, (_, i) => i),
      );
      await benign.stop();
    });

    it('a guest spinning in promise jobs between batches is stopped by the CPU watchdog', async () => {
      const engine = new Engine();
      const u = await isolatedUnit(engine, {
        name: 'jobs',
        tier,
        limits: { heartbeatMs: 200 },
        // A pure CPU spin in promise jobs: spin returns nothing, so no promise chain grows (a
        // chain of promises resolved with the next one would hit the heap limit first).
        source: `unit.subscribe('in', () => { const spin = () => { void Promise.resolve().then(spin); }; spin(); });`,
      });
      const src = engine.unit({ name: 's' });
      src.publish('in', src.event().add('go', 1));
      await settle(engine, [u]);
      for (let i = 0; i < 200 && u.ended === undefined; i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.equal(u.ended, 'cpu');
      assert.ok(
        engine.audit
          .entries()
          .some((e) => e.kind === 'unit-stopped' && e.unit === 'jobs' && e.op.endsWith(': cpu')),
      );
    });
  });
}

describe('isolation hardening: values through get() are frozen in every tier', () => {
  for (const tier of [0, 1, 2] as const) {
    it(`tier ${String(tier)}`, async () => {
      const engine = new Engine();
      const got: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
      const u = await isolatedUnit(engine, {
        name: 'm',
        tier,
        source: `unit.subscribe('in', (ev) => {
          const o = ev.get('obj');
          const r = {};
          try { o.y = 9; r.top = 'written' } catch { r.top = 'refused' }
          try { o.list.push(9); r.nested = 'written' } catch { r.nested = 'refused' }
          try { Object.getPrototypeOf(ev).get = () => 1; r.cls = 'written' } catch { r.cls = 'refused' }
          try { ev.parts.obj = 1; r.parts = 'written' } catch { r.parts = 'refused' }
          r.same = ev.parts.obj === o || JSON.stringify(ev.parts.obj) === JSON.stringify(o);
          r.absent = ev.get('nope') === undefined && ev.get(7) === undefined;
          r.topic = ev.topic;
          unit.publish('out', r);
        });`,
      });
      const src = engine.unit({ name: 's' });
      src.publish('in', src.event().add('obj', { y: 1, list: [1] }));
      await settle(engine, [u]);
      assert.deepEqual(got, [
        {
          top: 'refused',
          nested: 'refused',
          cls: 'refused',
          parts: 'refused',
          same: true,
          absent: true,
          topic: 'in',
        },
      ]);
      await u.stop();
    });
  }
});
