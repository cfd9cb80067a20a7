/**
 * Conformance: one unit's code, run in tiers 0, 1 and 2, receives the same projections and
 * delivers the same outputs in the same order; the host enforces labels in every tier.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import { isolatedUnit, measure, type Tier } from '../src/isolation.js';
import { settle } from './support/isolation.js';

const SOURCE = `
let n = 0;
unit.subscribe('in', (ev) => {
  n++;
  const x = ev.parts.x;
  if (x % 3 === 0) return;
  unit.publish('out', { x: x * 2, n, seen: Object.keys(ev.parts).sort().join(',') });
  if (x % 5 === 0) unit.publish('out', { x: -x, n, seen: 'again' });
});
unit.subscribe('reset', () => { n = 0; });
`;

async function runTier(tier: Tier) {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  const got: unknown[] = [];
  engine.unit({ name: 'collector', label: A }, (ctx) => {
    ctx.subscribe('out', (ev) => got.push({ ...ev.toJSON(), label: ev.labelOf('x')?.toString() }));
  });
  const u = await isolatedUnit(engine, { name: 'iso', tier, source: SOURCE });
  const src = engine.unit({ name: 'src' });
  for (let i = 0; i < 40; i++) {
    src.publish('in', src.event().add('x', i).add('secret', i, A));
    if (i === 20) src.publish('reset', src.event().add('r', 1));
  }
  await settle(engine, [u]);
  const audit = engine.audit.entries();
  await u.stop();
  return { got, measurement: u.measurement, audit, tierOf: u.tier };
}

describe('isolation conformance: the same unit in tiers 0, 1, 2', () => {
  it('delivers the same outputs in the same order in every tier; hidden parts never cross', async () => {
    const r0 = await runTier(0);
    const r1 = await runTier(1);
    const r2 = await runTier(2);
    assert.ok(r0.got.length > 20);
    assert.deepEqual(r1.got, r0.got);
    assert.deepEqual(r2.got, r0.got);
    // The public unit never saw the secret part.
    for (const g of r0.got as { seen: string }[]) assert.ok(!g.seen.includes('secret'));
    assert.deepEqual([r0.tierOf, r1.tierOf, r2.tierOf], [0, 1, 2]);
  });

  it('records the measurement (sha256 of the source) in the audit log when a unit starts', async () => {
    for (const tier of [0, 1, 2] as const) {
      const r = await runTier(tier);
      assert.equal(r.measurement, measure(SOURCE));
      assert.match(r.measurement, /^sha256:[0-9a-f]{64}$/);
      const started = r.audit.filter((e) => e.kind === 'unit-isolated');
      assert.equal(started.length, 1);
      assert.equal(started[0]?.op, `start tier ${String(tier)} ${r.measurement}`);
    }
  });
});
