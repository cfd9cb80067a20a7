/** Test support for isolated units: settle a mix of in-process and isolated units. */
import type { Engine } from '../../src/index.js';
import {
  isolatedUnit,
  managedUnit,
  type IsolatedUnit,
  type IsolatedUnitSpec,
  type Tier,
} from '../../src/isolation.js';

/** Wait until the engine and every unit are idle twice in a row (outputs may feed inputs). */
export async function settle(engine: Engine, units: readonly IsolatedUnit[]): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    const before = engine.stats().delivered;
    await engine.idle();
    for (const u of units) await u.idle();
    await new Promise((r) => setImmediate(r));
    quiet = engine.stats().delivered === before ? quiet + 1 : 0;
  }
}

/**
 * Start a unit in `kind` (a tier, or 'managed': a managed tier-0 unit), call `feed`, wait until
 * every event is handled and its outputs published, and stop the unit.
 */
export async function runFed(
  engine: Engine,
  kind: Tier | 'managed',
  spec: Omit<IsolatedUnitSpec, 'tier'>,
  feed: () => void,
): Promise<void> {
  if (kind === 'managed') {
    const u = await managedUnit(engine, { ...spec, tier: 0 });
    feed();
    await u.idle();
    await u.stop();
  } else {
    const u = await isolatedUnit(engine, { ...spec, tier: kind });
    feed();
    await settle(engine, [u]);
    await u.stop();
  }
}
