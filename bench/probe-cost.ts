/**
 * The cost of probes (issue #5), shared by the isolation and migration benches: events/s
 * through one trivial tier-0 unit (`ev.parts.x + 1`, one output per event) run by
 * `isolatedUnit` (no probes) and by `managedUnit` (probes on, default policy thresholds do not
 * matter: no agent), alternating, 200 k events per run, in one process; medians.
 */
import { Engine } from '../src/index.js';
import { isolatedUnit, managedUnit } from '../src/isolation.js';
import { median, sig } from './stats.js';

const EVENTS = 200_000;

/** Events/s through one tier-0 unit, with probes (managed) or without (isolatedUnit). */
async function throughput(managed: boolean, read: 'parts' | 'get'): Promise<number> {
  const engine = new Engine({ highWater: 2048 });
  let got = 0;
  engine.unit({ name: 'sink' }, (ctx) =>
    ctx.subscribe('out', () => {
      got++;
    }),
  );
  const x = read === 'parts' ? 'ev.parts.x' : "ev.get('x')";
  const spec = {
    name: 'u',
    tier: 0 as const,
    source: `unit.subscribe('in', (ev) => unit.publish('out', { x: ${x} + 1 }));`,
  };
  const u = managed ? await managedUnit(engine, spec) : await isolatedUnit(engine, spec);
  const src = engine.unit({ name: 'src' });
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++)
    if (!src.publish('in', src.event().add('x', i))) await src.ready();
  await u.idle();
  const ms = performance.now() - t0;
  await u.stop();
  if (got !== EVENTS) throw new Error('lost events');
  return (EVENTS / ms) * 1000;
}

export interface ProbeCost {
  /** Events/s without and with probes, and their ratio (with ÷ without), reading `ev.parts`. */
  readonly plain: number;
  readonly probed: number;
  readonly ratio: number;
  /** The same with the unit reading `ev.get('x')`. */
  readonly ratioGet: number;
}

/** `rounds` alternating runs of each; prints one line; returns the medians. */
export async function probeCost(rounds: number): Promise<ProbeCost> {
  const runs = {
    plain: [] as number[],
    probed: [] as number[],
    plainGet: [] as number[],
    probedGet: [] as number[],
  };
  for (let r = 0; r < rounds; r++) {
    runs.plain.push(await throughput(false, 'parts'));
    runs.probed.push(await throughput(true, 'parts'));
    runs.plainGet.push(await throughput(false, 'get'));
    runs.probedGet.push(await throughput(true, 'get'));
  }
  const plain = median(runs.plain);
  const probed = median(runs.probed);
  const ratio = sig(probed / plain);
  const ratioGet = sig(median(runs.probedGet) / median(runs.plainGet));
  console.log(
    `  probe cost, tier 0, one unit (${String(rounds)} runs each, medians): ev.parts: without probes ${sig(plain / 1e3).toString()} k ev/s, managed (probes on) ${sig(probed / 1e3).toString()} k ev/s, ratio ${ratio.toString()}; ev.get: without ${sig(median(runs.plainGet) / 1e3).toString()} k, with ${sig(median(runs.probedGet) / 1e3).toString()} k, ratio ${ratioGet.toString()}`,
  );
  return { plain, probed, ratio, ratioGet };
}
