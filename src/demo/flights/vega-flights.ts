/**
 * Real BTS on-time records from the npm package `vega-datasets`, converted to ASA-schema
 * CSV rows. We read its data files from node_modules and never import the package (its JS
 * entry fetches from the internet).
 *
 * Source: `data/flights-20k.json` (and the 2k/5k/10k files of the same shape), 20,000
 * flights of January–March 2001 sampled by vega-datasets' `scripts/flights.py`:
 * `{date: "2001/01/01 00:47", delay, distance, origin, destination}` where `date` is the
 * actual departure time, `delay` is ArrDelay in minutes, cancelled and diverted flights are
 * dropped. (`flights-200k.json` has only delay/distance/time, so it cannot be used.)
 *
 * Carrier: the data has no carrier. We do not invent one: by default UniqueCarrier is set
 * to the Origin airport code (e.g. "DTW"), so the per-carrier DELAYEDFLIGHTS job becomes a
 * per-origin-airport job on real data (each airport a tenant with its own label; the rows
 * stay real). `carrier: 'na'` writes `NA` instead (every row then falls in one "NA" group).
 *
 * Mapping: Year/Month/DayofMonth/DayOfWeek and DepTime from `date` (so for the few flights
 * departing after midnight the date is the departure date, not the scheduled date);
 * ArrDelay ← delay; Origin, Dest, Distance; Cancelled = Diverted = 0; every other column NA.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ASA_COLUMN_COUNT, ASA_HEADER, ASA_INDEX } from './asa-schema.js';
import { CsvInputError } from './csv-input-error.js';

export interface VegaFlight {
  readonly date: string;
  readonly delay: number;
  readonly distance: number;
  readonly origin: string;
  readonly destination: string;
}

export type VegaFlightsFile =
  'flights-2k.json' | 'flights-5k.json' | 'flights-10k.json' | 'flights-20k.json';

export interface VegaFlightsOptions {
  /** Which file of the package (default flights-20k.json). */
  readonly file?: VegaFlightsFile;
  /** UniqueCarrier from the Origin airport (default) or NA. */
  readonly carrier?: 'origin' | 'na';
  /** Where to start resolving node_modules (default: this module). */
  readonly from?: string | URL;
}

/**
 * The directory of the installed vega-datasets package, or undefined when it is absent.
 * Its package.json is not in its `exports`, so `require.resolve('vega-datasets/package.json')`
 * throws ERR_PACKAGE_PATH_NOT_EXPORTED; we search the resolver's node_modules paths.
 */
export function locateVegaDatasets(from: string | URL = import.meta.url): string | undefined {
  const paths = createRequire(from).resolve.paths('vega-datasets') ?? [];
  for (const dir of paths) {
    const root = join(dir, 'vega-datasets');
    if (existsSync(join(root, 'package.json'))) return root;
  }
  return undefined;
}

const DATE = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/;
const CODE = /^[A-Z0-9]{3,4}$/;

function isVegaFlight(r: unknown): r is VegaFlight {
  if (typeof r !== 'object' || r === null) return false;
  const f = r as Record<string, unknown>;
  return (
    typeof f.date === 'string' &&
    DATE.test(f.date) &&
    Number.isInteger(f.delay) &&
    Number.isInteger(f.distance) &&
    typeof f.origin === 'string' &&
    CODE.test(f.origin) &&
    typeof f.destination === 'string' &&
    CODE.test(f.destination)
  );
}

/** Read and validate the records of one vega-datasets flights file. */
export async function readVegaFlights(options: VegaFlightsOptions = {}): Promise<VegaFlight[]> {
  const root = locateVegaDatasets(options.from);
  if (root === undefined) {
    throw new CsvInputError(
      'E_INPUT_NOT_FOUND',
      'the npm package vega-datasets is not installed (it is the source of the real flights data)',
    );
  }
  const path = join(root, 'data', options.file ?? 'flights-20k.json');
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new CsvInputError('E_INPUT_UNREADABLE', `cannot read ${path} as JSON (${String(err)})`);
  }
  if (!Array.isArray(data)) {
    throw new CsvInputError('E_INPUT_UNREADABLE', `${path} is not a JSON array`);
  }
  const bad = data.findIndex((r) => !isVegaFlight(r));
  if (bad >= 0) {
    throw new CsvInputError(
      'E_INPUT_UNREADABLE',
      `${path}: record ${bad} is not {date, delay, distance, origin, destination}`,
    );
  }
  return data as VegaFlight[];
}

/** One vega flight as an ASA CSV row (no line terminator). */
export function vegaFlightToAsaRow(f: VegaFlight, carrier: 'origin' | 'na' = 'origin'): string {
  const m = DATE.exec(f.date);
  if (m === null)
    throw new CsvInputError('E_INPUT_UNREADABLE', 'a flight date is not YYYY/MM/DD hh:mm');
  const [year, month, day, hh, mm] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const dow = ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
  const fields: (string | number)[] = new Array<string | number>(ASA_COLUMN_COUNT).fill('NA');
  fields[ASA_INDEX.Year] = year;
  fields[ASA_INDEX.Month] = month;
  fields[ASA_INDEX.DayofMonth] = day;
  fields[ASA_INDEX.DayOfWeek] = dow;
  fields[ASA_INDEX.DepTime] = hh * 100 + mm === 0 ? 2400 : hh * 100 + mm;
  fields[ASA_INDEX.UniqueCarrier] = carrier === 'origin' ? f.origin : 'NA';
  fields[ASA_INDEX.ArrDelay] = f.delay;
  fields[ASA_INDEX.Origin] = f.origin;
  fields[ASA_INDEX.Dest] = f.destination;
  fields[ASA_INDEX.Distance] = f.distance;
  fields[ASA_INDEX.Cancelled] = 0;
  fields[ASA_INDEX.Diverted] = 0;
  return fields.join(',');
}

/** Write the vega flights as an ASA CSV file (header + one row per flight); returns the row count. */
export async function writeVegaFlightsCsv(
  outPath: string,
  options: VegaFlightsOptions = {},
): Promise<number> {
  const flights = await readVegaFlights(options);
  const carrier = options.carrier ?? 'origin';
  const lines = [ASA_HEADER, ...flights.map((f) => vegaFlightToAsaRow(f, carrier))];
  await writeFile(outPath, lines.join('\n') + '\n', 'latin1');
  return flights.length;
}
