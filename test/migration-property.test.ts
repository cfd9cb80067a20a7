/**
 * Property: a stateful unit fed a random event stream from three producers, moved between
 * tiers at random points while the stream keeps flowing, delivers exactly the outputs, in
 * exactly the order, of the same unit never moved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../src/index.js';
import { loopbackTransport, managedUnit, type ManagedTier } from '../src/isolation.js';

const SOURCE = `unit.subscribe('in', (ev) => {
  const k = 's' + ev.parts.p;
  const sum = (unit.state.get(k) ?? 0) + ev.parts.v;
  unit.state.set(k, sum);
  if (ev.parts.v < 0) return;
  unit.publish('out', { p: ev.parts.p, sum, t: Date.now() });
  if (ev.parts.v % 2 === 1) unit.publish('out', { p: ev.parts.p, twice: ev.parts.v });
});`;

interface Ev {
  p: number;
  v: number;
}
interface Move {
  at: number;
  to: ManagedTier;
}

/** Events buffered during the pauses of every move so far (to show the pause is exercised). */
const buffered: number[] = [];

async function run(events: readonly Ev[], moves: readonly Move[]): Promise<unknown[]> {
  const engine = new Engine();
  const got: unknown[] = [];
  engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
  const u = await managedUnit(engine, {
    name: 'm',
    tier: 0,
    source: SOURCE,
    deterministic: true,
    transport: () => loopbackTransport(),
  });
  const producers = [0, 1, 2].map((p) => engine.unit({ name: `p${String(p)}` }));
  const moving: Promise<unknown>[] = [];
  let inFlight = 0;
  for (let i = 0; i < events.length; i++) {
    for (const m of moves) {
      if (m.at % events.length !== i) continue;
      inFlight++;
      moving.push(u.migrate(m.to).finally(() => inFlight--));
    }
    const e = events[i];
    const src = producers[e?.p ?? 0];
    if (e === undefined || src === undefined) continue;
    src.publish('in', src.event().add('p', e.p).add('v', e.v));
    // While a move is under way, about one event per millisecond: the stream keeps flowing
    // through the start of the new tier, the pause and the switch-over.
    if (inFlight > 0) await new Promise((r) => setTimeout(r, 0));
    else if (i % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(moving);
  buffered.push(...u.history.map((h) => h.buffered));
  for (let i = 0; i < 3; i++) await u.idle();
  await u.stop();
  return got;
}

describe('migration property', () => {
  it('random streams through a unit migrated at random points: the same outputs in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ p: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: -3, max: 9 }) }),
          { minLength: 1, maxLength: 400 },
        ),
        fc.array(fc.record({ at: fc.nat(), to: fc.constantFrom<ManagedTier>(0, 1, 2, 3) }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (events, moves) => {
          const reference = await run(events, []);
          const moved = await run(events, moves);
          assert.deepEqual(moved, reference);
        },
      ),
      { numRuns: 10 },
    );
    assert.ok(
      buffered.some((n) => n > 0),
      'some moves had events arrive during their pause',
    );
  });
});
