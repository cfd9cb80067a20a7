/**
 * `npm run bench -- migration`: time to move a managed unit holding 10 k keys of state from
 * tier 0 to tier 1, and from tier 0 to tier 2, while a producer keeps publishing (a burst of
 * events every turn of the event loop, before, during and after the move), and a count of
 * events lost or handled twice (each input carries a sequence number; each output echoes it).
 *
 * The figure is the outage a consumer sees: from the pause (input buffered while the old
 * tier drains, the state moves and the new tier takes over) to the first output of the new
 * tier (which has taken the state and caught up on the buffer first). The new tier is started
 * before the pause (pre-warmed), so the unit keeps running during the start. The producer
 * respects the unit's backpressure (`ready()`). The baseline, measured in the same process,
 * is the cold start of
 * the same tier, which a move without pre-warming would add to the outage.
 */
import { Engine } from '../src/index.js';
import { managedUnit, type ManagedTier } from '../src/isolation.js';
import { probeCost } from './probe-cost.js';
import { machine, median, sig } from './stats.js';

const ROUNDS = 5;
const KEYS = 10_000;
const BURST = 20;

const SOURCE = `
unit.subscribe('fill', (ev) => unit.state.set('k' + ev.parts.i, { v: ev.parts.i, s: 'value-' + ev.parts.i }));
unit.subscribe('in', (ev) => {
  unit.state.set('count', (unit.state.get('count') ?? 0) + 1);
  unit.publish('out', { seq: ev.parts.seq });
});`;

interface Round {
  /** From the pause to the new tier's first output (the outage a consumer sees). */
  outageMs: number;
  pauseMs: number;
  totalMs: number;
  startMs: number;
  keys: number;
  sent: number;
  lost: number;
  duplicated: number;
}

async function round(to: ManagedTier): Promise<Round> {
  const engine = new Engine();
  const seen = new Map<number, number>();
  let pausedAt = -1;
  let outageMs = -1;
  engine.unit({ name: 'sink' }, (ctx) =>
    ctx.subscribe('out', (ev) => {
      const s = ev.get('seq') as number;
      seen.set(s, (seen.get(s) ?? 0) + 1);
      // The first output after the move comes from the new tier (the old one was drained).
      if (pausedAt >= 0 && outageMs < 0) outageMs = performance.now() - pausedAt;
    }),
  );
  const u = await managedUnit(engine, { name: 'mover', tier: 0, source: SOURCE });
  u.onMigrated((r) => {
    pausedAt = performance.now() - r.pauseMs;
  });
  const src = engine.unit({ name: 'producer' });
  for (let i = 0; i < KEYS - 1; i++) {
    if (!src.publish('fill', src.event().add('i', i))) await src.ready();
  }
  await u.idle();
  let seq = 0;
  let producing = true;
  const producer = (async () => {
    while (producing) {
      for (let k = 0; k < BURST; k++) src.publish('in', src.event().add('seq', seq++));
      await u.ready(); // a well-behaved producer: backpressure from the unit
      await new Promise((r) => setImmediate(r));
    }
  })();
  await new Promise((r) => setTimeout(r, 20)); // under load before the move
  const rec = await u.migrate(to);
  await new Promise((r) => setTimeout(r, 50)); // and after it
  producing = false;
  await producer;

  for (let i = 0; i < 3; i++) await u.idle();
  await u.stop();
  let lost = 0;
  let duplicated = 0;
  for (let s = 0; s < seq; s++) {
    const n = seen.get(s) ?? 0;
    if (n === 0) lost++;
    else duplicated += n - 1;
  }
  // Baseline: a cold start of the same tier, in the same process.
  const t0 = performance.now();
  const cold = await managedUnit(new Engine(), { name: 'cold', tier: to, source: SOURCE });
  const startMs = performance.now() - t0;
  await cold.stop();
  if (rec === undefined) throw new Error('the unit did not move');
  return {
    outageMs,
    pauseMs: rec.pauseMs,
    totalMs: rec.totalMs,
    startMs,
    keys: rec.keys,
    sent: seq,
    lost,
    duplicated,
  };
}

export async function main(): Promise<void> {
  console.log(
    `migration bench: ${machine()}; ${String(ROUNDS)} rounds per move; ${String(KEYS)} keys of state; producer: ${String(BURST)} events per event-loop turn`,
  );
  await round(1); // warm-up (SES lockdown, JIT)
  const results = new Map<ManagedTier, Round[]>([
    [1, []],
    [2, []],
  ]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const to of [1, 2] as const) {
      const x = await round(to);
      results.get(to)?.push(x);
      console.log(
        `  round ${String(r + 1)} 0 → ${String(to)}: outage ${sig(x.outageMs).toString()} ms, pause ${sig(x.pauseMs).toString()} ms, whole move ${sig(x.totalMs).toString()} ms, cold start ${sig(x.startMs).toString()} ms, ${String(x.keys)} keys, ${String(x.sent)} events sent, lost ${String(x.lost)}, duplicated ${String(x.duplicated)}`,
      );
    }
  }
  const probes = await probeCost(3);
  const med = (to: ManagedTier, f: (x: Round) => number): number =>
    median((results.get(to) ?? []).map(f));
  const sum = (f: (x: Round) => number): number =>
    [...results.values()].flat().reduce((a, x) => a + f(x), 0);
  for (const to of [1, 2] as const) {
    const outage = med(to, (x) => x.outageMs);
    const start = med(to, (x) => x.startMs);
    console.log(
      `  median 0 → ${String(to)}: outage ${sig(outage).toString()} ms (goal < 50 ms for 0 → 1), host pause ${sig(med(to, (x) => x.pauseMs)).toString()} ms, whole move ${sig(med(to, (x) => x.totalMs)).toString()} ms; cold start of tier ${String(to)} ${sig(start).toString()} ms; outage / cold start ${sig(outage / start).toString()}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'migration',
      tier0_to_1_ms: sig(med(1, (x) => x.outageMs)),
      tier0_to_2_ms: sig(med(2, (x) => x.outageMs)),
      lost: sum((x) => x.lost),
      duplicated: sum((x) => x.duplicated),
      probes_ratio: probes.ratio,
    }),
  );
}
