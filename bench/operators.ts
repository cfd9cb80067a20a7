/**
 * `npm run bench -- operators`: filter/map/reduce over 10 M numbers, in one process, alternating
 * rounds: Sluice with labels (secret source, operators at their inferred labels, sink cleared at
 * the secret label, runtime monitor on), Sluice with the monitor off, RxJS 7 and `@most/core`.
 *
 * Every contender reads the same pre-built array of N numbers (0 … N-1) through its own
 * array source: Sluice `from(array)`, RxJS `from(array)`, and for `@most/core` (which has no
 * array source) a `newStream` that pushes the array in one scheduled task, as most's own
 * benchmarks do. The pipeline is `filter(x => x % 2 === 0)`, `map(x => x + 1)`, and a sum:
 * `reduce` in Sluice and RxJS, a `tap` into an accumulator in `@most/core` (it has no reduce).
 * Every result is checked against the expected sum.
 */
import { filter as mFilter, map as mMap, newStream, runEffects, tap as mTap } from '@most/core';
import { asap, newDefaultScheduler } from '@most/scheduler';
import { from as rxFrom, filter as rxFilter, map as rxMap, reduce as rxReduce } from 'rxjs';
import { Label } from '../src/labels.js';
import { filter, from, map, Pipeline, reduce, toCallback } from '../src/operators.js';
import { machine, median, sig, timeNsAsync } from './stats.js';

const N = 10_000_000;
const ROUNDS = 7;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const even = (x: number): boolean => x % 2 === 0;
const inc = (x: number): number => x + 1;
const add = (a: number, x: number): number => a + x;

/** Σ over even x < N of (x + 1). */
const EXPECTED = (N / 2) * (N / 2 - 1) + N / 2;

function check(name: string, got: number): void {
  if (got !== EXPECTED) {
    throw new Error(`${name}: sum ${String(got)}, expected ${String(EXPECTED)}`);
  }
}

async function sluice(data: readonly number[], checks: boolean): Promise<number> {
  const p = new Pipeline({ checks });
  const alice = p.tag('alice');
  const SECRET = Label.secrecy(alice.tag);
  let sum = -1;
  p.output(
    from(data, { label: SECRET }).pipe(filter(even), map(inc), reduce(add, 0)),
    toCallback<number>(
      (v) => {
        sum = v;
      },
      { label: SECRET },
    ),
  );
  const report = await p.run();
  if (report.failures.length > 0 || Object.keys(report.refused).length > 0) {
    throw new Error('sluice: the run failed or refused notifications');
  }
  return sum;
}

function rxjs(data: readonly number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    rxFrom(data)
      .pipe(rxFilter(even), rxMap(inc), rxReduce(add, 0))
      .subscribe({ next: resolve, error: reject });
  });
}

async function most(data: readonly number[]): Promise<number> {
  const source = newStream<number>((sink, scheduler) =>
    asap(
      {
        run(t: number) {
          for (let i = 0; i < data.length; i++) sink.event(t, data[i] as number);
          sink.end(t);
        },
        error(t: number, e: Error) {
          sink.error(t, e);
        },
        dispose() {
          /* nothing to release */
        },
      },
      scheduler,
    ),
  );
  let sum = 0;
  await runEffects(
    mTap(
      (x: number) => {
        sum += x;
      },
      mMap(inc, mFilter(even, source)),
    ),
    newDefaultScheduler(),
  );
  return sum;
}

type Contender = readonly [name: string, run: (data: readonly number[]) => Promise<number>];

const CONTENDERS: readonly Contender[] = [
  ['sluice', (d) => sluice(d, true)],
  ['sluice-nolabels', (d) => sluice(d, false)],
  ['rxjs', rxjs],
  ['most', most],
];

/** Events per second (input events) for one run, wall clock and per CPU-second (the latter
 * is less disturbed when other processes share the machine), checking the result. */
async function once(c: Contender, data: readonly number[]): Promise<[wall: number, cpu: number]> {
  gc();
  let got = -1;
  const c0 = process.cpuUsage();
  const ns = await timeNsAsync(async () => {
    got = await c[1](data);
  });
  const cu = process.cpuUsage(c0);
  check(c[0], got);
  return [(N / ns) * 1e9, (N / (cu.user + cu.system)) * 1e6];
}

const meps = (x: number): string => `${sig(x / 1e6).toString()} M ev/s`;

export async function main(): Promise<void> {
  const data = Array.from({ length: N }, (_, i) => i);
  console.log(
    `operators bench: ${machine()}; filter/map/reduce over ${String(N)} numbers (a pre-built array), ${String(ROUNDS)} rounds, alternating`,
  );
  for (const c of CONTENDERS) {
    process.stderr.write(`warm-up ${c[0]}\n`);
    await once(c, data);
  }
  const runs = new Map<string, number[]>(CONTENDERS.map((c) => [c[0], []]));
  const cpuRuns = new Map<string, number[]>(CONTENDERS.map((c) => [c[0], []]));
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (const c of CONTENDERS) {
      const [eps, cpu] = await once(c, data);
      runs.get(c[0])?.push(eps);
      cpuRuns.get(c[0])?.push(cpu);
      line.push(`${c[0]} ${meps(eps)}`);
    }
    process.stderr.write(`round ${String(r + 1)}/${String(ROUNDS)}: ${line.join(', ')}\n`);
  }
  const med = (name: string): number => median(runs.get(name) ?? []);
  const s = med('sluice');
  const sn = med('sluice-nolabels');
  const rx = med('rxjs');
  const mo = med('most');
  for (const c of CONTENDERS) {
    const all = (runs.get(c[0]) ?? []).map((x) => sig(x / 1e6).toString()).join(', ');
    const cpu = meps(median(cpuRuns.get(c[0]) ?? []));
    console.log(`  ${c[0].padEnd(16)} median ${meps(med(c[0]))}  (runs: ${all}; per CPU-s ${cpu})`);
  }
  const cpuOf = (name: string): number => median(cpuRuns.get(name) ?? []);
  console.log(
    `  per CPU-second: sluice (labels) / rxjs ${sig(cpuOf('sluice') / cpuOf('rxjs')).toString()}x`,
  );
  console.log(
    `  sluice (labels) / rxjs ${sig(s / rx).toString()}x, / most ${sig(s / mo).toString()}x, labels off / on ${sig(sn / s).toString()}x`,
  );
  console.log(
    JSON.stringify({
      bench: 'operators',
      sluice_eps: Math.round(s),
      sluice_nolabels_eps: Math.round(sn),
      rxjs_eps: Math.round(rx),
      most_eps: Math.round(mo),
      vs_rxjs: sig(s / rx),
    }),
  );
}
