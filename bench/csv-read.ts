/**
 * Bench: reading an ASA CSV file for (UniqueCarrier, ArrDelay).
 *   node dist/bench/csv-read.js [file] [--rows N]
 * Generates the file (seed 2008) when it does not exist. Prints rows/s (wall) and rows per
 * CPU-second for csv-rows.ts, the split(',') reference and csv-parse (v7, records as arrays of
 * strings, read with its documented `readable`/`read()` loop). Each reads UniqueCarrier and
 * ArrDelay from every row and counts the delayed flights (ArrDelay > 0), their summed delay and
 * their carriers; the three must agree (else it throws). The last line is one JSON object.
 */
import { createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { readFlightsCsv } from '../src/demo/flights/csv-rows.js';
import { ASA_INDEX } from '../src/demo/flights/asa-schema.js';
import { generateAsaFile } from '../src/demo/flights/generate-asa.js';
import { referenceDelayedFlights } from '../src/demo/flights/reference.js';

interface Timing {
  rows: number;
  /** What was read: delayed flights, their summed ArrDelay, distinct carriers among them. */
  delayed: number;
  sum: number;
  carriers: number;
  wallMs: number;
  cpuMs: number;
}

type Read = Omit<Timing, 'wallMs' | 'cpuMs'>;

async function timed(run: () => Promise<Read>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await run();
  const wallMs = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  return { ...r, wallMs, cpuMs: (cu.user + cu.system) / 1000 };
}

function agree(name: string, a: Timing, b: Timing): void {
  if (a.rows !== b.rows || a.delayed !== b.delayed || a.carriers !== b.carriers) {
    throw new Error(`${name} read different rows than csv-rows`);
  }
  if (Math.abs(a.sum - b.sum) > 1e-6 * Math.abs(a.sum)) {
    throw new Error(`${name}: summed ArrDelay differs from csv-rows`);
  }
}

function show(name: string, t: Timing): void {
  const rate = (ms: number): string => (((t.rows / ms) * 1000) / 1e6).toFixed(2);
  console.log(
    `${name.padEnd(12)} ${t.rows} rows  ${(t.wallMs / 1000).toFixed(2)} s  ${rate(t.wallMs)} M rows/s wall  ${rate(t.cpuMs)} M rows/cpu-s`,
  );
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
  let sum = 0;
  const carriers = new Set<string>();
  for await (const b of reader) {
    for (let i = 0; i < b.length; i++) {
      const d = b.arrDelays[i] as number;
      if (d > 0) {
        delayed++;
        sum += d;
        carriers.add(b.carriers[i] as string);
      }
    }
  }
  return { rows: reader.stats.rows, delayed, sum, carriers: carriers.size };
});
show('csv-rows', fast);
const ref = await timed(async () => {
  const r = await referenceDelayedFlights(file);
  let delayed = 0;
  let sum = 0;
  for (const c of r.perCarrier.values()) {
    delayed += c.delayed;
    sum += c.sumArrDelay;
  }
  return { rows: r.rows, delayed, sum, carriers: r.perCarrier.size };
});
show('reference', ref);
agree('reference', ref, fast);

const csvParse = await timed(
  () =>
    new Promise<Read>((resolve, reject) => {
      let rows = 0;
      let delayed = 0;
      let sum = 0;
      const carriers = new Set<string>();
      const parser = parse({ from_line: 2, relax_column_count: true, skip_empty_lines: true });
      parser.on('readable', () => {
        let rec: string[] | null;
        while ((rec = parser.read() as string[] | null) !== null) {
          rows++;
          if (rec.length !== 29) continue;
          const text = rec[ASA_INDEX.ArrDelay] as string;
          const d = text.trim() === '' ? NaN : Number(text);
          if (d > 0) {
            delayed++;
            sum += d;
            carriers.add(rec[ASA_INDEX.UniqueCarrier] as string);
          }
        }
      });
      parser.on('error', reject);
      parser.on('end', () => {
        resolve({ rows, delayed, sum, carriers: carriers.size });
      });
      createReadStream(file).on('error', reject).pipe(parser);
    }),
);
show('csv-parse', csvParse);
agree('csv-parse', csvParse, fast);
const perS = (t: Timing): number => Math.round((t.rows / t.wallMs) * 1000);
console.log(
  JSON.stringify({
    bench: 'csv-read',
    rows: fast.rows,
    csv_rows_per_s: perS(fast),
    reference_rows_per_s: perS(ref),
    csv_parse_rows_per_s: perS(csvParse),
  }),
);
