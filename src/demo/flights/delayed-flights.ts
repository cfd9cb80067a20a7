/**
 * DELAYEDFLIGHTS (the SecureStreams benchmark application) as a labelled Sluice pipeline:
 *
 *   parse (ASA CSV, label S{bts}) → map to (carrier, arrival delay) → filter delayed
 *     → keyBy carrier (each carrier's instance at S{bts, carrier:XX}) → reduce (count, sum)
 *     ├→ per-carrier report, each delivered only to a sink cleared for that carrier
 *     └→ declassify (holding bts- and the carrier family; policy: only aggregates over ≥ k
 *        delayed flights, only carrier/delayed/avg fields) → public leaderboard
 *
 * The raw feed is confidential to its owner (tag `bts`); each carrier's figures are
 * confidential to that carrier (family `carrier`). Only the declassifier, through its declared
 * policy, lets anything reach the public leaderboard; each release is audited.
 */
import { Label } from '../../labels.js';
import type { AuditEntry } from '../../engine/audit-log.js';
import { Pipeline } from '../../pipeline/pipeline.js';
import { declassify } from '../../pipeline/operators/declassify.js';
import { filter } from '../../pipeline/operators/filter.js';
import { keyBy } from '../../pipeline/operators/key-by.js';
import { map } from '../../pipeline/operators/map.js';
import { reduce } from '../../pipeline/operators/reduce.js';
import { minRecords, type ReleasePolicy } from '../../pipeline/operators/release-policy.js';
import { toCallback } from '../../pipeline/sinks/to-callback.js';
import { source } from '../../pipeline/source.js';
import type { StateOptions } from '../../pipeline/state/state-store.js';
import type { Stream } from '../../pipeline/stream.js';
import { readFlightsCsv, type CsvReadStats } from './csv-rows.js';

/** A parsed row: the two columns DELAYEDFLIGHTS reads. */
export interface FlightRow {
  readonly UniqueCarrier: string;
  readonly ArrDelay: number;
}

interface Delay {
  readonly carrier: string;
  readonly delay: number;
}

interface CarrierAggregate {
  readonly delayed: number;
  readonly sum: number;
}

/** The declassifier's second policy: release only the carrier (the key whose tag it removes),
 * the count and the mean: never the sum or anything else the aggregate might hold. */
const LEADERBOARD_ROW: ReleasePolicy<CarrierAggregate, LeaderboardRow> = {
  describe: 'only carrier, delayed-flight count and mean ArrDelay',
  release: (a, key) => ({
    carrier: String(key),
    delayed: a.delayed,
    avg_arr_delay: a.sum / a.delayed,
  }),
};

export interface LeaderboardRow {
  readonly carrier: string;
  readonly delayed: number;
  readonly avg_arr_delay: number;
}

export interface CarrierReport {
  readonly carrier: string;
  readonly delayed: number;
  readonly sum_arr_delay: number;
  readonly avg_arr_delay: number;
  /** The label the report was delivered at (display form). */
  readonly label: string;
}

export interface DelayedFlightsOptions {
  readonly input: string;
  /** The declassifier releases only carriers with at least k delayed flights. */
  readonly k: number;
  /** Called after each batch with the reader's counts (for a progress bar). */
  readonly onProgress?: (stats: CsvReadStats) => void;
  /** Keep the per-carrier state in a store, resuming from its last checkpoint if it has one. */
  readonly state?: StateOptions;
}

export interface DelayedFlightsReport {
  readonly rows: number;
  readonly skipped: number;
  readonly malformed: number;
  readonly bytes: number;
  readonly k: number;
  /** The public, declassified view, by average delay (descending), then carrier. */
  readonly leaderboard: readonly LeaderboardRow[];
  /** Each carrier's full report, as delivered to that carrier's own sink. */
  readonly reports: readonly CarrierReport[];
  /** Audit entries of refusals and releases during the run (no values). */
  readonly audit: {
    readonly released: number;
    readonly withheld: number;
    readonly refused: number;
  };
  readonly auditEntries: readonly AuditEntry[];
  readonly ms: number;
  /** With `state`: flights (after the NA filter) processed before a restart, from the store. */
  readonly resumed: number;
}

/** The parse stage: ASA rows from `path`, each emitted once (rows with NA delay are counted). */
function flightRows(
  path: string,
  label: Label,
  onProgress: ((s: CsvReadStats) => void) | undefined,
  stats: { last?: CsvReadStats },
): Stream<FlightRow> {
  return source<FlightRow>(
    'parse-asa-csv',
    { label, name: 'parse' },
    async (e) => {
      const reader = readFlightsCsv(path);
      for await (const b of reader) {
        const { carriers, arrDelays } = b;
        for (let i = 0; i < b.length; i++) {
          const d = arrDelays[i] as number;
          if (d === d) e.emit({ UniqueCarrier: carriers[i] as string, ArrDelay: d });
        }
        stats.last = reader.stats;
        onProgress?.(reader.stats);
        if (e.stopped) return;
        await e.pause();
      }
      stats.last = reader.stats;
    },
    true,
  ); // the same file gives the same rows: a restarted run skips those it had processed
}

export async function runDelayedFlights(o: DelayedFlightsOptions): Promise<DelayedFlightsReport> {
  const t0 = performance.now();
  const p = new Pipeline({
    name: 'delayedflights',
    ...(o.state === undefined ? {} : { state: o.state }),
  });
  const bts = p.tag('bts');
  const carriers = p.family('carrier');
  const RAW = Label.secrecy(bts.tag);
  const stats: { last?: CsvReadStats } = {};

  const perCarrier = flightRows(o.input, RAW, o.onProgress, stats).pipe(
    map((r: FlightRow): Delay => ({ carrier: r.UniqueCarrier, delay: r.ArrDelay }), {
      name: 'to-carrier-delay',
    }),
    filter((f: Delay) => f.delay > 0, { name: 'delayed' }),
    // Each carrier's instance receives only the delay (a number: nothing to freeze as it
    // crosses into the carrier's label); the carrier is the instance's key.
    keyBy((f: Delay) => f.carrier, carriers, {
      name: 'by-carrier',
      element: (f: Delay) => f.delay,
    }),
    reduce(
      (acc: CarrierAggregate, delay: number): CarrierAggregate => ({
        delayed: acc.delayed + 1,
        sum: acc.sum + delay,
      }),
      { delayed: 0, sum: 0 },
      { name: 'per-carrier' },
    ),
  );

  const reports: CarrierReport[] = [];
  p.output(
    perCarrier,
    toCallback(
      (a: CarrierAggregate, info) => {
        reports.push({
          carrier: String(info.key),
          delayed: a.delayed,
          sum_arr_delay: a.sum,
          avg_arr_delay: a.sum / a.delayed,
          label: info.label.toString(),
        });
      },
      { label: RAW, perKey: carriers, name: 'carrier-report' },
    ),
  );

  const leaderboard: LeaderboardRow[] = [];
  p.output(
    perCarrier.pipe(
      declassify<CarrierAggregate, LeaderboardRow>({
        name: 'leaderboard-release',
        privileges: [bts.minus],
        families: [carriers],
        policy: [minRecords(o.k, (a: CarrierAggregate) => a.delayed), LEADERBOARD_ROW],
      }),
    ),
    toCallback((r: LeaderboardRow) => leaderboard.push(r), { name: 'public-leaderboard' }),
  );

  const since = p.engine.audit.entries().length;
  const run = await p.run();
  if (run.failures.length > 0) {
    throw run.failures[0]?.error instanceof Error ? run.failures[0].error : new Error('failed');
  }
  const entries = p.engine.audit.entries().slice(since);
  const count = (k: string) => entries.filter((e) => e.kind === k).length;
  const s = stats.last as CsvReadStats;
  leaderboard.sort((a, b) => b.avg_arr_delay - a.avg_arr_delay || (a.carrier < b.carrier ? -1 : 1));
  return {
    rows: s.rows,
    skipped: s.skipped,
    malformed: s.malformed,
    bytes: s.bytesRead,
    k: o.k,
    leaderboard,
    reports,
    audit: {
      released: count('released'),
      withheld: count('refused-release'),
      refused: count('refused-flow'),
    },
    auditEntries: entries.filter((e) => e.kind === 'refused-release' || e.kind === 'refused-flow'),
    ms: performance.now() - t0,
    resumed: run.resumed?.parse ?? 0,
  };
}
