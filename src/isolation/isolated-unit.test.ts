import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, Engine, Label } from '../index.js';
import { isolatedUnit, type Tier } from './isolated-unit.js';

async function settle(engine: Engine, u: { idle(): Promise<void> }): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await engine.idle();
    await u.idle();
  }
}

describe('isolatedUnit', () => {
  it('deterministic mode: the same logical clock and random sequence in every tier', async () => {
    const runs: unknown[][] = [];
    for (const tier of [0, 1, 2] as Tier[]) {
      const engine = new Engine();
      const got: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
      const u = await isolatedUnit(engine, {
        name: 'd',
        tier,
        deterministic: true,
        seed: 42,
        source: `unit.subscribe('in', () => unit.publish('out', { t: Date.now(), r: Math.random(), max: Math.max(1, 2) }));`,
      });
      const src = engine.unit({ name: 's' });
      for (let i = 0; i < 5; i++) src.publish('in', src.event().add('i', i));
      await settle(engine, u);
      await u.stop();
      runs.push(got);
    }
    assert.equal(runs[0]?.length, 5);
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
    assert.deepEqual(
      (runs[0] as { t: number }[]).map((g) => g.t),
      [1, 2, 3, 4, 5],
    );
  });

  it('maps tag names to tags on the host; the write rule is enforced there and audited', async () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const A = Label.secrecy(alice.tag);
    const got: unknown[] = [];
    engine.unit({ name: 'c', label: A }, (ctx) =>
      ctx.subscribe('out', (ev) => got.push([ev.get('v'), ev.labelOf('v')?.toString()])),
    );
    const u = await isolatedUnit(engine, {
      name: 'w',
      tier: 0,
      label: A,
      tags: { alice: alice.tag },
      source: `unit.subscribe('in', () => {
        unit.publish('out', { v: 'up' }, { v: { secrecy: ['alice'] } });
        unit.publish('out', { v: 'down' }, { v: { secrecy: [] } });
        unit.publish('out', { v: 'unknown' }, { v: { secrecy: ['mallory'] } });
      });`,
    });
    const src = engine.unit({ name: 's' });
    src.publish('in', src.event().add('go', 1));
    await settle(engine, u);
    assert.deepEqual(got, [['up', A.toString()]]);
    const counts = engine.audit.counts();
    assert.equal(counts['refused-write'], 1);
    assert.equal(counts['unit-error'], 2);
    // No audit entry quotes the unknown tag name the code chose.
    assert.ok(engine.audit.entries().every((e) => !e.op.includes('mallory')));
    await u.stop();
  });

  it('a code that throws while loading, or bad limits, does not start', async () => {
    const engine = new Engine();
    await assert.rejects(isolatedUnit(engine, { name: 'x', tier: 0, source: 'throw 1' }), {
      code: 'E_ISOLATION',
    });
    await assert.rejects(
      isolatedUnit(engine, { name: 'y', tier: 1, source: '', limits: { memoryMb: 0 } }),
      ConfigError,
    );
    await assert.rejects(
      isolatedUnit(engine, { name: 'z', tier: 3 as unknown as Tier, source: '' }),
      ConfigError,
    );
  });

  it('stop() handles what was delivered first, then ends the guest', async () => {
    const engine = new Engine();
    const got: unknown[] = [];
    engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.get('x'))));
    const u = await isolatedUnit(engine, {
      name: 'w',
      tier: 1,
      source: `unit.subscribe('in', (ev) => unit.publish('out', { x: ev.parts.x }));`,
    });
    const src = engine.unit({ name: 's' });
    for (let i = 0; i < 100; i++) src.publish('in', src.event().add('x', i));
    await u.stop();
    await engine.idle();
    assert.equal(got.length, 100);
    assert.equal(u.ended, 'stopped');
    src.publish('in', src.event().add('x', 100));
    await engine.idle();
    assert.equal(got.length, 100);
  });
});
