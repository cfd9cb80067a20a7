/**
 * `npm run bench -- isolation`: events/s through a chain of 3 units (source → a → b → c →
 * counter), each hop a new event with one part, with a, b, c as plain in-process units
 * ("none") and as isolated units in tiers 0, 1 and 2, running the same code, in one process,
 * alternating rounds; medians. Unit start-up is not timed. SES lockdown happens in the warm-up,
 * before any timed round, so every contender runs in the same locked-down process.
 *
 * The isolated hop reads its input with `ev.get('x')`, as the plain unit does with
 * `view.get('x')`, and publishes `{ x: … }`; "tier 0 (publishPart)" is the same hop publishing
 * with `unit.publishPart(to, 'x', …)` (no object built per event: the same work as the plain
 * unit's `ctx.event().add('x', …)`), `tier0_part_eps`/`tier0_part_overhead` in the JSON line;
 * "tier 0 (parts)" reads `ev.parts.x` (a frozen projection built per event), printed only.
 *
 * Then the probe cost (probe-cost.ts): one trivial tier-0 unit with probes on (managed) and
 * off; `probes_ratio` (reading `ev.parts`) and `probes_ratio_get` (`ev.get`) in the JSON line
 * are with ÷ without.
 */
import { Engine, Label, type UnitContext } from '../src/index.js';
import { isolatedUnit, type IsolatedUnit, type Tier } from '../src/isolation.js';
import { probeCost } from './probe-cost.js';
import { machine, median, sig, timeNsAsync } from './stats.js';

const ROUNDS = 5;
const EVENTS: Record<string, number> = {
  none: 400_000,
  t0: 400_000,
  t0p: 400_000,
  t0one: 400_000,
  t1: 100_000,
  t2: 100_000,
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

type Mode = 'none' | Tier | 'parts' | 'part';

const hopSource = (from: string, to: string, mode: Mode): string =>
  mode === 'parts'
    ? `unit.subscribe('${from}', (ev) => unit.publish('${to}', { x: ev.parts.x + 1 }));`
    : mode === 'part'
      ? `unit.subscribe('${from}', (ev) => unit.publishPart('${to}', 'x', ev.get('x') + 1));`
      : `unit.subscribe('${from}', (ev) => unit.publish('${to}', { x: ev.get('x') + 1 }));`;

const NAMES: Record<string, string> = {
  none: 'none',
  parts: 'tier 0 (parts)',
  part: 'tier 0 (publishPart)',
};
const nameOf = (m: Mode): string => NAMES[String(m)] ?? `tier ${String(m)}`;

async function chain(mode: Mode): Promise<number> {
  gc();
  const key =
    mode === 'none'
      ? 'none'
      : mode === 'parts'
        ? 't0p'
        : mode === 'part'
          ? 't0one'
          : `t${String(mode)}`;
  const n = EVENTS[key] ?? 0;
  const engine = new Engine({ highWater: 2048 });
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  let received = 0;
  let sum = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  engine.unit({ name: 'counter', label: A }, (ctx) => {
    ctx.subscribe('out', (ev) => {
      sum += ev.get('x') as number;
      if (++received === n) done();
    });
  });
  const hops: [string, string, string][] = [
    ['a', 'in', 'ab'],
    ['b', 'ab', 'bc'],
    ['c', 'bc', 'out'],
  ];
  const isolated: IsolatedUnit[] = [];
  for (const [name, from, to] of hops) {
    if (mode === 'none') {
      engine.unit({ name, label: A }, (ctx: UnitContext) => {
        ctx.subscribe(from, (ev) => {
          ctx.publish(to, ctx.event().add('x', (ev.get('x') as number) + 1));
        });
      });
    } else {
      const tier = mode === 'parts' || mode === 'part' ? 0 : mode;
      const source = hopSource(from, to, mode);
      isolated.push(await isolatedUnit(engine, { name, label: A, tier, source }));
    }
  }
  const src = engine.unit({ name: 'source', label: A });
  const ns = await timeNsAsync(async () => {
    for (let i = 0; i < n; i++) {
      if (!src.publish('in', src.event().add('x', i))) await src.ready();
      if ((i & 1023) === 1023) for (const u of isolated) await u.ready();
    }
    await finished;
  });
  for (const u of isolated) await u.stop();
  if (received !== n || sum !== (n * (n - 1)) / 2 + 3 * n) {
    throw new Error(`chain lost events: received ${String(received)} of ${String(n)}`);
  }
  return (n / ns) * 1e9;
}

export async function main(): Promise<void> {
  const modes = ['none', 0, 'part', 'parts', 1, 2] as const;
  const runs = new Map<string, number[]>(modes.map((m) => [String(m), []]));
  console.log(
    `isolation bench: ${machine()}; ${String(ROUNDS)} rounds; events per run ${JSON.stringify(EVENTS)}`,
  );
  for (const m of modes) await chain(m); // warm-up (and lockdown)
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (const m of modes) {
      const eps = await chain(m);
      runs.get(String(m))?.push(eps);
      line.push(`${nameOf(m)} ${sig(eps / 1e3).toString()} k ev/s`);
    }
    console.log(`  round ${String(r + 1)}: ${line.join(', ')}`);
  }
  const med = (m: string): number => median(runs.get(m) ?? []);
  const none = med('none');
  const t0 = med('0');
  const t0p = med('parts');
  const t0one = med('part');
  const t1 = med('1');
  const t2 = med('2');
  console.log(
    `  median: none ${sig(none / 1e3).toString()} k ev/s, tier 0 ${sig(t0 / 1e3).toString()}, tier 0 (publishPart) ${sig(t0one / 1e3).toString()}, tier 0 (parts) ${sig(t0p / 1e3).toString()}, tier 1 ${sig(t1 / 1e3).toString()}, tier 2 ${sig(t2 / 1e3).toString()}`,
  );
  console.log(
    `  tier 0 overhead (none / tier 0) ${sig(none / t0).toString()}x (goal ≤ 1.1), with unit.publishPart ${sig(none / t0one).toString()}x, with ev.parts ${sig(none / t0p).toString()}x; tier 1 / none ${sig(t1 / none).toString()} (goal ≥ 0.5)`,
  );
  const probes = await probeCost(3);
  console.log(
    JSON.stringify({
      bench: 'isolation',
      none_eps: Math.round(none),
      tier0_eps: Math.round(t0),
      tier1_eps: Math.round(t1),
      tier2_eps: Math.round(t2),
      tier0_overhead: sig(none / t0),
      tier0_part_eps: Math.round(t0one),
      tier0_part_overhead: sig(none / t0one),
      probes_ratio: probes.ratio,
      probes_ratio_get: probes.ratioGet,
    }),
  );
}
