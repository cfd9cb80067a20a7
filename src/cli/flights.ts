import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDelayedFlights, type DelayedFlightsReport } from '../demo/flights/delayed-flights.js';
import { generateAsaFile } from '../demo/flights/generate-asa.js';
import { writeVegaFlightsCsv } from '../demo/flights/vega-flights.js';
import { CsvInputError } from '../demo/flights/csv-input-error.js';
import { ConfigError } from '../errors.js';
import { FacetedStore } from '../store/faceted-store.js';
import { progressBar } from './progress.js';

export interface FlightsCommand {
  readonly input?: string;
  readonly rows?: number;
  readonly seed: number;
  readonly k: number;
  readonly json?: boolean;
  /** Keep the per-carrier state in a SQLite store here (checkpointed every 100k flights). */
  readonly dataDir?: string;
  /** Continue from the state in dataDir (else it starts afresh). */
  readonly resume?: boolean;
}

const STATE_FILE = 'delayedflights-state.sqlite';

/** The store for --data-dir: emptied first unless --resume. */
async function stateStore(o: FlightsCommand): Promise<FacetedStore | undefined> {
  if (o.dataDir === undefined) {
    if (o.resume === true) throw new ConfigError('--resume needs --data-dir');
    return undefined;
  }
  if (o.resume !== true) {
    for (const f of [STATE_FILE, `${STATE_FILE}-wal`, `${STATE_FILE}-shm`]) {
      await rm(join(o.dataDir, f), { force: true });
    }
  }
  return FacetedStore.sqlite({ dataDir: o.dataDir, file: STATE_FILE });
}

/** `sluice demo flights`: DELAYEDFLIGHTS on a file, on generated rows, or on real BTS data. */
export async function flightsCommand(o: FlightsCommand): Promise<void> {
  let dir: string | undefined;
  let input = o.input;
  let dataset = input ?? '';
  const store = await stateStore(o);
  try {
    if (input === undefined) {
      dir = await mkdtemp(join(tmpdir(), 'sluice-flights-'));
      input = join(dir, 'flights.csv');
      if (o.rows === undefined) {
        const n = await writeVegaFlightsCsv(input);
        dataset = `${String(n)} real BTS flights of Jan-Mar 2001 (vega-datasets flights-20k; carrier = origin airport)`;
      } else {
        const gen = progressBar('generating', 'rows');
        await generateAsaFile(input, {
          rows: o.rows,
          seed: o.seed,
          onProgress: (d, t) => {
            gen.update(d, t);
          },
        });
        gen.stop();
        dataset = `${String(o.rows)} generated ASA rows (seed ${String(o.seed)})`;
      }
    } else if (!existsSync(input)) {
      throw new CsvInputError('E_INPUT_MISSING', `${input}: no such file`);
    }
    const bar = progressBar('delayedflights', 'MB');
    let report: DelayedFlightsReport;
    try {
      report = await runDelayedFlights({
        input,
        k: o.k,
        onProgress: (s) => {
          bar.update(s.bytesRead, s.totalBytes);
        },
        ...(store === undefined ? {} : { state: { store, every: 100_000 } }),
      });
    } finally {
      bar.stop();
    }
    if (o.json === true) {
      console.log(
        JSON.stringify({
          rows: report.rows,
          skipped: report.skipped,
          malformed: report.malformed,
          k: report.k,
          leaderboard: report.leaderboard,
        }),
      );
    } else printFlights(report, dataset);
  } finally {
    await store?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function printFlights(r: DelayedFlightsReport, dataset: string): void {
  const secs = r.ms / 1000;
  console.log(`DELAYEDFLIGHTS on ${dataset}`);
  console.log(
    `${String(r.rows)} rows (${String(r.skipped)} skipped: ArrDelay NA or unparsable; ${String(r.malformed)} malformed) in ${secs.toFixed(2)} s, ${(r.rows / secs / 1e6).toFixed(2)} M rows/s\n`,
  );
  if (r.resumed > 0) {
    console.log(
      `Resumed from the kept state: ${String(r.resumed)} flights were already counted before the restart.\n`,
    );
  }
  console.log(
    `Public leaderboard (declassified: only carriers with ≥ ${String(r.k)} delayed flights):`,
  );
  console.table(
    r.leaderboard.map((x) => ({
      carrier: x.carrier,
      'delayed flights': x.delayed,
      'avg arrival delay (min)': Number(x.avg_arr_delay.toFixed(2)),
    })),
  );
  console.log(
    `Per-carrier reports: ${String(r.reports.length)}, each delivered only to its own carrier's sink (label S{bts, carrier:XX}).`,
  );
  console.log('\nAudit log:');
  console.log(`  releases through the declassifier's policy: ${String(r.audit.released)}`);
  console.log(
    `  withheld by the policy (fewer than ${String(r.k)} delayed flights): ${String(r.audit.withheld)}`,
  );
  console.log(`  notifications refused by the runtime monitor: ${String(r.audit.refused)}`);
}
