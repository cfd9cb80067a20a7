import { availableParallelism, cpus } from 'node:os';
/** Small helpers shared by the benchmarks: medians, timing, printing. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Nanoseconds elapsed while running `fn`. */
export function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

export async function timeNsAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0);
}

/** Round to 3 significant figures for printing. */
export function sig(x: number): number {
  return Number(x.toPrecision(3));
}

export function machine(): string {
  return `node ${process.version}, ${String(availableParallelism())} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`;
}
