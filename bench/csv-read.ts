/**
 * Bench: reading an ASA CSV file for (UniqueCarrier, ArrDelay).
 *   node dist/bench/csv-read.js [file] [--rows N]
 * Generates the file (seed 2008) when it does not exist. Prints rows/s (wall) and rows per
 * CPU-second for csv-rows.ts, the split(',') reference and, when installed, csv-parse.
 * The last line is one JSON object.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFlightsCsv } from '../src/demo/flights/csv-rows.js';
import { generateAsaFile } from '../src/demo/flights/generate-asa.js';
import { referenceDelayedFlights } from '../src/demo/flights/reference.js';

interface Timing {
  rows: number;
  wallMs: number;
  cpuMs: number;
}

async function timed(run: () => Promise<number>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rows = await run();
  const wallMs = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  return { rows, wallMs, cpuMs: (cu.user + cu.system) / 1000 };
}

function show(name: string, t: Timing): void {
  const rate = (ms: number): string => (((t.rows / ms) * 1000) / 1e6).toFixed(2);
  console.log(
    `${name.padEnd(12)} ${t.rows} rows  ${(t.wallMs / 1000).toFixed(2)} s  ${rate(t.wallMs)} M rows/s wall  ${rate(t.cpuMs)} M rows/cpu-s`,
  );
}

type CsvParse = (
  options: Record<string, unknown>,
) => NodeJS.ReadWriteStream & AsyncIterable<string[]>;

async function loadCsvParse(): Promise<CsvParse | undefined> {
  try {
    const req = createRequire(import.meta.url);
    const mod = (await import(req.resolve('csv-parse'))) as { parse: CsvParse };
    return mod.parse;
  } catch {
    return undefined;
  }
}

const args = process.argv.slice(2);
const rowsAt = args.indexOf('--rows');
const rows = rowsAt >= 0 ? Number(args[rowsAt + 1]) : 1_000_000;
const file =
  args.find((a, i) => !a.startsWith('--') && (rowsAt < 0 || i !== rowsAt + 1)) ??
  join(tmpdir(), `asa-${rows}.csv`);
if (!existsSync(file)) {
  const g = await generateAsaFile(file, { rows, seed: 2008 });
  console.log(
    `generated ${file}: ${g.rows} rows, ${(g.bytes / 1e6).toFixed(0)} MB in ${(g.ms / 1000).toFixed(1)} s`,
  );
}

const fast = await timed(async () => {
  const reader = readFlightsCsv(file);
  let delayed = 0;
  for await (const b of reader) {
    for (let i = 0; i < b.length; i++) if (b.arrDelays[i]! > 0) delayed++;
  }
  return reader.stats.rows + 0 * delayed;
});
show('csv-rows', fast);
const ref = await timed(async () => (await referenceDelayedFlights(file)).rows);
show('reference', ref);

const parse = await loadCsvParse();
let csvParse: Timing | undefined;
if (parse) {
  csvParse = await timed(async () => {
    let n = 0;
    const parser = createReadStream(file).pipe(parse({ from_line: 2, relax_column_count: true }));
    for await (const rec of parser as AsyncIterable<string[]>) {
      if (rec.length === 29 && Number(rec[14]) > 0) n += 0;
      n++;
    }
    return n;
  });
  show('csv-parse', csvParse);
} else {
  console.log(
    'csv-parse     not installed: no comparison (it is not a dependency; not installed on purpose)',
  );
}
const perS = (t: Timing | undefined): number | null =>
  t ? Math.round((t.rows / t.wallMs) * 1000) : null;
console.log(
  JSON.stringify({
    bench: 'csv-read',
    rows: fast.rows,
    csv_rows_per_s: perS(fast),
    reference_rows_per_s: perS(ref),
    csv_parse_rows_per_s: perS(csvParse),
  }),
);
