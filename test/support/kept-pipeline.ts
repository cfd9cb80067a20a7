/**
 * A keyed reduce pipeline that keeps its state in a store (Pipeline({ state })), shared by the
 * kept-state tests and the child process they kill: records `{k, v}` at S{bts}, keyed by `k`
 * (family `key`), summed per key, each result delivered to a per-key sink.
 */
import { Label } from '../../src/labels.js';
import {
  from,
  fromNdjson,
  keyBy,
  Pipeline,
  reduce,
  tap,
  toCallback,
  type KeyFamily,
  type RunReport,
} from '../../src/operators.js';
import type { TagGrant } from '../../src/index.js';
import type { FacetedStore } from '../../src/store.js';

export interface Rec {
  readonly k: string;
  readonly v: number;
}

export interface Agg {
  readonly n: number;
  readonly sum: number;
}

export interface KeptRun {
  readonly pipeline: Pipeline;
  readonly bts: TagGrant;
  readonly keys: KeyFamily;
  /** Per key, the last result its sink received. */
  readonly results: Record<string, Agg>;
  run(): Promise<RunReport>;
}

export interface KeptOptions {
  readonly every?: number;
  readonly name?: string;
  /** Called every `progressEvery` events with the count so far (this run's events only). */
  readonly onProgress?: (n: number) => void;
  readonly progressEvery?: number;
}

export function keptPipeline(
  store: FacetedStore | undefined,
  input: string | readonly Rec[],
  o: KeptOptions = {},
): KeptRun {
  const p = new Pipeline({
    name: o.name ?? 'kept-test',
    ...(store === undefined ? {} : { state: { store, every: o.every ?? 1000 } }),
  });
  const bts = p.tag('bts');
  const keys = p.family('key');
  const RAW = Label.secrecy(bts.tag);
  const src =
    typeof input === 'string'
      ? fromNdjson<Rec>(input, { label: RAW, name: 'records' })
      : from(input, { label: RAW, name: 'records' });
  let seen = 0;
  const every = o.progressEvery ?? 1000;
  const results: Record<string, Agg> = {};
  const sums = src.pipe(
    tap(() => {
      if (++seen % every === 0) o.onProgress?.(seen);
    }),
    keyBy((r: Rec) => r.k, keys, { element: (r: Rec) => r.v }),
    reduce((a: Agg, v: number): Agg => ({ n: a.n + 1, sum: a.sum + v }), { n: 0, sum: 0 }),
  );
  p.output(
    sums,
    toCallback(
      (a: Agg, info) => {
        results[String(info.key)] = a;
      },
      { label: RAW, perKey: keys },
    ),
  );
  return { pipeline: p, bts, keys, results, run: () => p.run() };
}

/** What the pipeline computes, by plain JavaScript. */
export function expected(recs: readonly Rec[]): Record<string, Agg> {
  const out: Record<string, Agg> = {};
  for (const r of recs) {
    const a = out[r.k] ?? { n: 0, sum: 0 };
    out[r.k] = { n: a.n + 1, sum: a.sum + r.v };
  }
  return out;
}
