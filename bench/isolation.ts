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
 * "tier 1 (piped)" is the tier-1 chain with pipes between its guests (src/isolation/pipe.ts).
 *
 * Tier 0 against none is also given paired by round (the machine's load changes between
 * rounds): `tier0_ratio` / `tier0_part_ratio` (median of the rounds' none ÷ tier 0 events/s) and
 * `tier0_cpu_ratio` / `tier0_part_cpu_ratio` (median of the rounds' tier 0 ÷ none CPU per event
 * on the busiest thread, where these chains run; 10 ms ticks, so ±10 % per run). Each run starts
 * 50 ms after the previous one, so that its workers and child processes have ended.
 *
 * Then the probe cost (probe-cost.ts): one trivial tier-0 unit with probes on (managed) and
 * off; `probes_ratio` (reading `ev.parts`) and `probes_ratio_get` (`ev.get`) in the JSON line
 * are with ÷ without.
 */
import { availableParallelism } from 'node:os';
import { Engine, Label, type UnitContext } from '../src/index.js';
import { isolatedUnit, pipe, type IsolatedUnit, type Tier } from '../src/isolation.js';
import { probeCost } from './probe-cost.js';
import { machine, median, sig, timeNsAsync } from './stats.js';
import { cpuSince, threadCpu } from './thread-cpu.js';

const ROUNDS = 5;
const EVENTS: Record<string, number> = {
  none: 400_000,
  t0: 400_000,
  t0p: 400_000,
  t0one: 400_000,
  t1: 100_000,
  t1p: 200_000,
  t2: 100_000,
};
/** Events through each chain before it is timed (the JIT of a fresh worker warms up on them). */
const WARM = 30_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

type Mode = 'none' | Tier | 'parts' | 'part' | 'piped';

const keyOf = (mode: Mode): string =>
  mode === 'none'
    ? 'none'
    : mode === 'parts'
      ? 't0p'
      : mode === 'part'
        ? 't0one'
        : mode === 'piped'
          ? 't1p'
          : `t${String(mode)}`;
const nameOf = (mode: Mode): string =>
  mode === 'none'
    ? 'none'
    : mode === 'parts'
      ? 'tier 0 (parts)'
      : mode === 'part'
        ? 'tier 0 (publishPart)'
        : mode === 'piped'
          ? 'tier 1 (piped)'
          : `tier ${String(mode)}`;

const hopSource = (from: string, to: string, mode: Mode): string =>
  mode === 'parts'
    ? `unit.subscribe('${from}', (ev) => unit.publish('${to}', { x: ev.parts.x + 1 }));`
    : mode === 'part'
      ? `unit.subscribe('${from}', (ev) => unit.publishPart('${to}', 'x', ev.get('x') + 1));`
      : `unit.subscribe('${from}', (ev) => unit.publish('${to}', { x: ev.get('x') + 1 }));`;

interface Run {
  /** Events per second (wall clock). */
  readonly eps: number;
  /** CPU per event, all threads of this process (tier 2's child not counted), and the busiest thread. */
  readonly cpuNs: number;
  readonly busiestNs: number;
}

async function chain(mode: Mode): Promise<Run> {
  gc();
  // Let the previous run's workers and child processes end before this one starts.
  await new Promise((r) => setTimeout(r, 50));
  const n = EVENTS[keyOf(mode)] ?? 0;
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
      const tier = mode === 'parts' || mode === 'part' ? 0 : mode === 'piped' ? 1 : mode;
      const source = hopSource(from, to, mode);
      isolated.push(await isolatedUnit(engine, { name, label: A, tier, source }));
    }
  }
  const [a, b, c] = isolated;
  if (mode === 'piped' && a !== undefined && b !== undefined && c !== undefined) {
    await pipe(a, 'ab', b);
    await pipe(b, 'bc', c);
  }
  const src = engine.unit({ name: 'source', label: A });
  // Warm-up through the same chain (x = -3 comes out as 0), then the timed run.
  for (let i = 0; i < WARM; i++) {
    if (!src.publish('in', src.event().add('x', -3))) await src.ready();
    if ((i & 1023) === 1023) for (const u of isolated) await u.ready();
  }
  for (const u of isolated) await u.idle();
  await engine.idle();
  received = 0;
  sum = 0;
  const cpu0 = threadCpu();
  const ns = await timeNsAsync(async () => {
    for (let i = 0; i < n; i++) {
      if (!src.publish('in', src.event().add('x', i))) await src.ready();
      if ((i & 1023) === 1023) for (const u of isolated) await u.ready();
    }
    await finished;
  });
  const cpu = cpuSince(cpu0);
  for (const u of isolated) await u.stop();
  if (received !== n || sum !== (n * (n - 1)) / 2 + 3 * n) {
    throw new Error(`chain lost events: received ${String(received)} of ${String(n)}`);
  }
  return {
    eps: (n / ns) * 1e9,
    cpuNs: (cpu.totalMs * 1e6) / n,
    busiestNs: (cpu.busiestMs * 1e6) / n,
  };
}

export async function main(): Promise<void> {
  const modes = ['none', 0, 'part', 'parts', 1, 'piped', 2] as const;
  const runs = new Map<string, number[]>(modes.map((m) => [String(m), []]));
  const cpus = new Map<string, Run[]>(modes.map((m) => [String(m), []]));
  console.log(
    `isolation bench: ${machine()}; ${String(ROUNDS)} rounds; events per run ${JSON.stringify(EVENTS)}`,
  );
  for (const m of modes) await chain(m); // warm-up (and lockdown)
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (const m of modes) {
      const run = await chain(m);
      const eps = run.eps;
      runs.get(String(m))?.push(eps);
      cpus.get(String(m))?.push(run);
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
  const t1p = med('piped');
  const t2 = med('2');
  // Same-round ratios (the machine's load changes between rounds): their median.
  const ratio = (m: string): number => {
    const xs = runs.get(m) ?? [];
    const ns = runs.get('none') ?? [];
    return median(xs.map((x, i) => x / (ns[i] ?? Number.NaN)));
  };
  console.log(
    `  median: none ${sig(none / 1e3).toString()} k ev/s, tier 0 ${sig(t0 / 1e3).toString()}, tier 0 (publishPart) ${sig(t0one / 1e3).toString()}, tier 0 (parts) ${sig(t0p / 1e3).toString()}, tier 1 ${sig(t1 / 1e3).toString()}, tier 1 (piped) ${sig(t1p / 1e3).toString()}, tier 2 ${sig(t2 / 1e3).toString()}`,
  );
  console.log(
    `  tier 0 overhead (none / tier 0) ${sig(none / t0).toString()}x (goal ≤ 1.1), with unit.publishPart ${sig(none / t0one).toString()}x, with ev.parts ${sig(none / t0p).toString()}x; tier 1 / none ${sig(t1 / none).toString()}, tier 1 (piped) / none ${sig(t1p / none).toString()} (goal ≥ 0.5; median of same-round ratios ${sig(ratio('piped')).toString()}, unpiped ${sig(ratio('1')).toString()})`,
  );
  // CPU per event (all threads) and on the busiest thread: what the run cost, whatever the
  // scheduler did; on an idle machine with `cores` cores the chain could run at most at
  // 1 / max(total / cores, busiest) events per second.
  const cores = availableParallelism();
  const bound = (m: string): number => {
    const rs = cpus.get(m) ?? [];
    const total = median(rs.map((r) => r.cpuNs));
    const busiest = median(rs.map((r) => r.busiestNs));
    console.log(
      `  ${nameOf(m === 'none' ? 'none' : m === 'parts' ? 'parts' : m === 'part' ? 'part' : m === 'piped' ? 'piped' : (Number(m) as Tier))}: CPU ${sig(total).toString()} ns/event in all, ${sig(busiest).toString()} on the busiest thread`,
    );
    return 1e9 / Math.max(total / cores, busiest);
  };
  // Tier 0 against none, paired by round: wall clock, and CPU per event of the busiest thread
  // (the chain runs on one thread: what it cost, however much the machine's load held it up).
  const busiest = (m: string): number[] => (cpus.get(m) ?? []).map((r) => r.busiestNs);
  const cpuRatio = (m: string): number => {
    const ns = busiest('none');
    return median(busiest(m).map((x, i) => x / (ns[i] ?? Number.NaN)));
  };
  const t0Ratio = 1 / ratio('0');
  const t0PartRatio = 1 / ratio('part');
  console.log(
    `  tier 0 / none, same-round medians: wall clock ${sig(t0Ratio).toString()}x (publishPart ${sig(t0PartRatio).toString()}x), CPU of the busiest thread ${sig(cpuRatio('0')).toString()}x (publishPart ${sig(cpuRatio('part')).toString()}x)`,
  );
  const noneBound = bound('none');
  bound('0');
  bound('1');
  const pipedBound = bound('piped');
  console.log(
    `  CPU-bound estimate on an idle ${String(cores)}-core machine: tier 1 (piped) / none ${sig(pipedBound / noneBound).toString()}`,
  );
  const probes = await probeCost(3);
  console.log(
    JSON.stringify({
      bench: 'isolation',
      none_eps: Math.round(none),
      tier0_eps: Math.round(t0),
      tier1_eps: Math.round(t1),
      tier1_piped_eps: Math.round(t1p),
      tier2_eps: Math.round(t2),
      tier0_overhead: sig(none / t0),
      tier0_part_eps: Math.round(t0one),
      tier0_part_overhead: sig(none / t0one),
      tier0_ratio: sig(t0Ratio),
      tier0_part_ratio: sig(t0PartRatio),
      tier0_cpu_ratio: sig(cpuRatio('0')),
      tier0_part_cpu_ratio: sig(cpuRatio('part')),
      probes_ratio: probes.ratio,
      probes_ratio_get: probes.ratioGet,
      tier1_piped_ratio: sig(ratio('piped')),
      tier1_piped_cpu_bound_ratio: sig(pipedBound / noneBound),
    }),
  );
}
