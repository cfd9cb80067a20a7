/**
 * `npm run bench -- flights [--rows N] [--file PATH] [--runs R]`: DELAYEDFLIGHTS (the labelled
 * pipeline of `sluice demo flights`) on a generated ASA file (default 7,009,728 rows, the size
 * of 2008.csv, seed 2008; generated once into the temp dir). Prints rows/s, MB/s and the peak
 * RSS while streaming, per run and as medians; the last line is one JSON object.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFlightsCsv } from '../src/demo/flights/csv-rows.js';
import { runDelayedFlights } from '../src/demo/flights/delayed-flights.js';
import { generateAsaFile, ROWS_2008 } from '../src/demo/flights/generate-asa.js';
import { machine, median, sig } from './stats.js';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** The baseline: the same job as a plain loop over the same reader (no pipeline, no labels). */
async function plain(file: string): Promise<number> {
  const reader = readFlightsCsv(file);
  const acc = new Map<string, { n: number; sum: number }>();
  for await (const b of reader) {
    for (let i = 0; i < b.length; i++) {
      const d = b.arrDelays[i] as number;
      if (!(d > 0)) continue;
      const c = b.carriers[i] as string;
      const a = acc.get(c);
      if (a === undefined) acc.set(c, { n: 1, sum: d });
      else {
        a.n++;
        a.sum += d;
      }
    }
  }
  if (acc.size === 0) throw new Error('no delayed flights');
  return reader.stats.rows;
}

export async function main(): Promise<void> {
  const rows = Number(arg('--rows') ?? ROWS_2008);
  const runs = Number(arg('--runs') ?? 3);
  const file = arg('--file') ?? join(tmpdir(), `sluice-asa-${String(rows)}.csv`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${String(rows)} rows, seed 2008)…\n`);
    let last = 0;
    await generateAsaFile(file, {
      rows,
      onProgress: (d, t) => {
        if (d - last >= t / 10 || d === t) {
          last = d;
          process.stderr.write(`  ${((d / t) * 100).toFixed(0)}%\n`);
        }
      },
    });
  }
  const mb = statSync(file).size / 1e6;
  const rates: number[] = [];
  const cpuRates: number[] = [];
  const plainRates: number[] = [];
  const mbs: number[] = [];
  let peak = 0;
  for (let r = 0; r < runs; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    let runPeak = 0;
    const sample = setInterval(() => {
      runPeak = Math.max(runPeak, process.memoryUsage.rss());
    }, 20);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const report = await runDelayedFlights({
      input: file,
      k: 20,
      onProgress: () => {
        runPeak = Math.max(runPeak, process.memoryUsage.rss());
      },
    });
    const s = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    cpuRates.push(report.rows / ((cu.user + cu.system) / 1e6));
    clearInterval(sample);
    const p0 = performance.now();
    const plainRows = await plain(file);
    plainRates.push(plainRows / ((performance.now() - p0) / 1000));
    peak = Math.max(peak, runPeak);
    rates.push(report.rows / s);
    mbs.push(mb / s);
    process.stderr.write(
      `run ${String(r + 1)}/${String(runs)}: ${String(report.rows)} rows in ${s.toFixed(2)} s, ${sig(report.rows / s / 1e6).toString()} M rows/s, ${sig(mb / s).toString()} MB/s, peak RSS ${(runPeak / 2 ** 20).toFixed(0)} MB; plain loop ${sig((plainRates[r] as number) / 1e6).toString()} M rows/s\n`,
    );
  }
  const rps = median(rates);
  const plainRps = median(plainRates);
  console.log(`flights bench: ${machine()}`);
  console.log(
    `  DELAYEDFLIGHTS with labels on ${String(rows)} rows (${mb.toFixed(0)} MB): median ${sig(rps / 1e6).toString()} M rows/s, ${sig(median(mbs)).toString()} MB/s over ${String(runs)} runs; peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`,
  );
  console.log(
    `  per CPU-second ${sig(median(cpuRates) / 1e6).toString()} M rows/s; plain loop over the same reader (no pipeline, no labels) ${sig(plainRps / 1e6).toString()} M rows/s: pipeline / plain ${sig(rps / plainRps).toString()}×`,
  );
  console.log(
    JSON.stringify({
      bench: 'flights',
      rows,
      rows_per_s: Math.round(rps),
      mb_per_s: Number(median(mbs).toFixed(1)),
      peak_rss_mb: Math.round(peak / 2 ** 20),
    }),
  );
}
