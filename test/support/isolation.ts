/** Test support for isolated units: settle a mix of in-process and isolated units. */
import type { Engine } from '../../src/index.js';
import type { IsolatedUnit } from '../../src/isolation.js';

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
