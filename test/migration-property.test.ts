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
  let w = 0;
  for (let i = 0; i < 20000; i++) w += i;
  const k = 's' + ev.parts.p + (w < 0 ? '!' : '');
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

async function run(
  events: readonly Ev[],
  moves: readonly Move[],
  start: ManagedTier,
): Promise<unknown[]> {
  const engine = new Engine();
  const got: unknown[] = [];
  engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
  const u = await managedUnit(engine, {
    name: 'm',
    tier: start,
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
    // While a move is under way, a few events per turn of the event loop and a short sleep
    // every 16: the stream keeps flowing through the start of the new tier, the pause (the old
    // tier drains its backlog, then a round trip) and the switch-over.
    if (inFlight > 0 && i % 16 === 15) await new Promise((r) => setTimeout(r, 1));
    else if (inFlight > 0 && i % 4 === 3) await new Promise((r) => setImmediate(r));
    else if (i % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(moving);
  buffered.push(...u.history.map((h) => h.buffered));
  for (let i = 0; i < 3; i++) await u.idle();
  await u.stop();
  return got;
}

describe('migration property', () => {
  it('random streams through a unit migrated at random points: the same outputs in the same order', async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ p: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: -3, max: 9 }) }),
          { minLength: 150, maxLength: 500 },
        ),
        // Moves early in the stream, while events still flow; a move from tier 1–3 (the
        // unit's first tier, or an earlier move's) waits in its pause for the old tier to
        // drain, so events arrive and are buffered then.
        fc.array(
          fc.record({ at: fc.nat({ max: 63 }), to: fc.constantFrom<ManagedTier>(0, 1, 2, 3) }),
          { minLength: 1, maxLength: 3 },
        ),
        fc.constantFrom<ManagedTier>(0, 1, 2, 3),
        async (events, moves, start) => {
          const reference = await run(events, [], 0);
          const moved = await run(events, moves, start);
          assert.deepEqual(moved, reference);
        },
      ),
      { numRuns: 10 },
    );
    // How often the pause itself buffered events depends on timing: while the old tier drains,
    // the engine's backpressure (the unit's backlog valve) may hold new events upstream instead,
    // so on an idle machine no event may reach the pause at all (CI saw that once). Reported,
    // not asserted; the outputs above are asserted either way.
    t.diagnostic(`events buffered in pauses: ${buffered.join(' ')}`);
  });
});
