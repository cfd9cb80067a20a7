import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../index.js';
import { managedUnit, type ManagedUnit } from './managed-unit.js';
import { loopbackTransport } from './tier3-transport.js';
import type { ManagedTier } from './unit-backend.js';

/** Counts per key in unit.state; every output names its producer, sequence and running count. */
const COUNTER = `unit.subscribe('in', (ev) => {
  const k = 'p' + ev.parts.p;
  const n = (unit.state.get(k) ?? 0) + 1;
  unit.state.set(k, n);
  unit.publish('out', { p: ev.parts.p, i: ev.parts.i, n, t: Date.now() });
});`;

interface Out {
  p: number;
  i: number;
  n: number;
  t: number;
}

async function rig(tier: ManagedTier) {
  const engine = new Engine();
  const got: Out[] = [];
  engine.unit({ name: 'c' }, (ctx) =>
    ctx.subscribe('out', (ev) => got.push(ev.toJSON() as unknown as Out)),
  );
  const u = await managedUnit(engine, {
    name: 'm',
    tier,
    source: COUNTER,
    deterministic: true,
    transport: () => loopbackTransport(),
  });
  const producers = [engine.unit({ name: 'p0' }), engine.unit({ name: 'p1' })];
  const sent = [0, 0];
  const publish = async (n: number): Promise<void> => {
    for (let k = 0; k < n; k++) {
      const p = k % 2;
      const src = producers[p];
      const i = sent[p] ?? 0;
      if (src === undefined) continue;
      sent[p] = i + 1;
      src.publish('in', src.event().add('p', p).add('i', i));
      if (k % 64 === 63) await new Promise((r) => setImmediate(r));
    }
  };
  return { engine, got, u, publish };
}

function assertExactlyOnceInOrder(got: readonly Out[], total: number): void {
  assert.equal(got.length, total);
  for (const p of [0, 1]) {
    const mine = got.filter((o) => o.p === p);
    assert.deepEqual(
      mine.map((o) => o.i),
      mine.map((_, k) => k),
    );
    // The state moved: the running count never restarts.
    assert.deepEqual(
      mine.map((o) => o.n),
      mine.map((_, k) => k + 1),
    );
  }
  // The logical clock moved too.
  assert.deepEqual(
    got.map((o) => o.t),
    got.map((_, k) => k + 1),
  );
}

async function settled(u: ManagedUnit): Promise<void> {
  for (let i = 0; i < 3; i++) await u.idle();
}

describe('managedUnit: live migration', () => {
  for (const [from, to] of [
    [0, 1],
    [0, 2],
    [1, 2],
    [2, 0],
    [0, 3],
    [3, 1],
  ] as const) {
    it(`${String(from)} → ${String(to)} while a producer keeps publishing: none lost, none twice, order and state kept`, async () => {
      const { engine, got, u, publish } = await rig(from);
      const migrated: unknown[] = [];
      u.onMigrated((r) => migrated.push(r));
      await publish(300);
      const move = u.migrate(to);
      await publish(600); // during the move
      const rec = await move;
      await publish(300);
      await settled(u);
      assertExactlyOnceInOrder(got, 1200);
      assert.equal(u.tier, to);
      assert.equal(rec?.from, from);
      assert.equal(rec?.to, to);
      assert.equal(rec?.keys, 2);
      assert.deepEqual(u.history, [rec]);
      assert.deepEqual(migrated, [rec]);
      const moves = engine.audit.entries().filter((e) => e.kind === 'unit-migrated');
      assert.equal(moves.length, 1);
      assert.match(
        moves[0]?.op ?? '',
        new RegExp(`tier ${String(from)} → ${String(to)} sha256:[0-9a-f]{64}`),
      );
      await u.stop();
      assert.equal(u.ended, 'stopped');
    });
  }

  it('unit.state (get, set, delete, has, keys, size) moves with deletes made during the pre-copy', async () => {
    const source = `unit.subscribe('in', (ev) => {
      const x = ev.parts.x;
      unit.state.set('k' + x, { x });
      unit.state.delete('k' + (x - 2));
      let bad = 'none';
      try { unit.state.set(1, 1) } catch { bad = 'refused' }
      unit.publish('out', { size: unit.state.size, keys: unit.state.keys().join(), has: unit.state.has('k' + (x - 1)), v: unit.state.get('k' + x).x, bad });
    });`;
    const runOnce = async (to: ManagedTier | undefined): Promise<unknown[]> => {
      const engine = new Engine();
      const got: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
      const u = await managedUnit(engine, { name: 'm', tier: 0, source });
      const src = engine.unit({ name: 's' });
      let moving: Promise<unknown> = Promise.resolve();
      for (let x = 0; x < 400; x++) {
        if (x === 100 && to !== undefined) moving = u.migrate(to);
        src.publish('in', src.event().add('x', x));
        if (x > 100 && x % 4 === 0) await new Promise((r) => setImmediate(r));
      }
      await moving;
      await settled(u);
      await u.stop();
      return got;
    };
    const reference = await runOnce(undefined);
    assert.equal(reference.length, 400);
    assert.deepEqual(reference[399], {
      size: 2,
      keys: 'k398,k399',
      has: true,
      v: 399,
      bad: 'refused',
    });
    assert.deepEqual(await runOnce(1), reference);
    assert.deepEqual(await runOnce(2), reference);
  });

  for (const tier of [0, 1] as const) {
    it(`tier ${String(tier)}: probes count outputs and not-found reads (get, parts, in) per window`, async () => {
      const engine = new Engine();
      const u = await managedUnit(engine, {
        name: 'm',
        tier,
        source: `unit.subscribe('in', (ev) => {
          const seen = [ev.get('nope'), ev.parts.nope, 'nope' in ev.parts, ev.get('x'), ev.parts.x, 'x' in ev.parts];
          unit.publish('out', { n: seen.length });
          unit.publish('out', { n: 0 });
        });`,
      });
      const windows: unknown[] = [];
      u.onProbe((v) => windows.push(v));
      const src = engine.unit({ name: 's' });
      for (let i = 0; i < 64; i++) src.publish('in', src.event().add('x', i));
      await settled(u);
      // Tiers 1–3 report their windows just after the batch's answer.
      for (let i = 0; i < 100 && windows.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(windows.length, 1);
      assert.equal(u.probes?.notFound, 3 * 64);
      assert.equal(u.probes?.notFoundPerEvent, 3);
      assert.equal(u.probes?.outputsPerEvent, 2);
      assert.equal(u.probes?.outputSpread, 0);
      assert.equal(u.probes?.errors, 0);
      assert.equal(u.probes?.tier, tier);
      await u.stop();
    });
  }

  it('a move to the tier it is in does nothing; tier 3 without a transport is refused and the unit stays', async () => {
    const engine = new Engine();
    const u = await managedUnit(engine, { name: 'm', tier: 0, source: COUNTER });
    assert.equal(await u.migrate(0), undefined);
    await assert.rejects(u.migrate(3), { code: 'E_ISOLATION' });
    assert.equal(u.tier, 0);
    assert.equal(u.ended, undefined);
    await u.stop();
  });

  it('quarantine keeps input and outputs, in order, until release', async () => {
    const { got, u, publish } = await rig(1);
    await publish(10);
    await settled(u);
    u.quarantine();
    await publish(10);
    await settled(u);
    assert.equal(got.length, 10);
    assert.equal(u.quarantined, true);
    u.release();
    await publish(10);
    await settled(u);
    assertExactlyOnceInOrder(got, 30);
    await u.stop();
  });

  it('a quarantine keeps at most keptInput events, then ends the unit; others lose nothing', async () => {
    const engine = new Engine();
    const bystander: number[] = [];
    engine.unit({ name: 'b' }, (ctx) =>
      ctx.subscribe('in', (ev) => bystander.push(ev.get('i') as number)),
    );
    const got: unknown[] = [];
    engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.get('i'))));
    const u = await managedUnit(engine, {
      name: 'q',
      tier: 0,
      source: COUNTER,
      deterministic: true,
      keptInput: 20,
    });
    const src = engine.unit({ name: 'src' });
    const send = async (from: number, n: number): Promise<void> => {
      for (let i = from; i < from + n; i++) {
        src.publish('in', src.event().add('p', 0).add('i', i));
        // A source that honours backpressure: a quarantine must not hold it up for ever.
        await engine.ready();
      }
      await engine.idle();
    };
    await send(0, 5);
    await u.idle();
    u.quarantine();
    await send(5, 20);
    assert.equal(u.ended, undefined, 'exactly keptInput events are kept');
    await send(25, 15);
    assert.equal(u.ended, 'overflow');
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.deepEqual(
      bystander,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const stopped = engine.audit.entries().filter((e) => e.kind === 'unit-stopped');
    assert.match(stopped.at(-1)?.op ?? '', /quarantine kept 20 events/);
    u.release(); // no effect once ended
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    await assert.rejects(
      managedUnit(engine, { name: 'bad', tier: 0, source: COUNTER, keptInput: 0 }),
      /keptInput must be a positive integer/,
    );
  });

  it('throttle releases outputs evenly at the rate, in order, none lost', async () => {
    const { got, u, publish } = await rig(0);
    u.throttle(500);
    const samples: [number, number][] = [];
    const t0 = performance.now();
    const timer = setInterval(() => samples.push([performance.now(), got.length]), 50);
    await publish(200);
    await settled(u);
    clearInterval(timer);
    const elapsed = performance.now() - t0;
    assertExactlyOnceInOrder(got, 200);
    // 200 outputs at 500/s take at least ~400 ms, and between any two samples no more leave
    // than the rate allows, plus the gate's burst allowance (10) and one.
    assert.ok(elapsed >= 300, `took ${elapsed.toFixed(0)} ms`);
    for (let i = 1; i < samples.length; i++) {
      const [ta, na] = samples[i - 1] ?? [0, 0];
      const [tb, nb] = samples[i] ?? [0, 0];
      assert.ok(
        nb - na <= ((tb - ta) * 500) / 1000 + 11,
        `${String(nb - na)} in ${(tb - ta).toFixed(0)} ms`,
      );
    }
    assert.throws(() => {
      u.throttle(0);
    }, /positive/);
    await u.stop();
  });

  it('kill drops the backlog and ends the unit, audited', async () => {
    const { engine, u, publish } = await rig(1);
    await publish(10);
    u.kill();
    assert.equal(u.ended, 'stopped');
    await publish(10);
    assert.match(
      engine.audit.entries().filter((e) => e.kind === 'unit-stopped')[0]?.op ?? '',
      /by the agent/,
    );
  });
});
