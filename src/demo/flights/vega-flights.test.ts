import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ASA_COLUMN_COUNT, ASA_INDEX } from './asa-schema.js';
import { CsvInputError } from './csv-input-error.js';
import { readFlightsCsv } from './csv-rows.js';
import { referenceDelayedFlights } from './reference.js';
import {
  locateVegaDatasets,
  readVegaFlights,
  vegaFlightToAsaRow,
  writeVegaFlightsCsv,
} from './vega-flights.js';

describe('vega-datasets flights', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-vega-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converts one record to an ASA row', () => {
    const row = vegaFlightToAsaRow({
      date: '2001/01/01 00:47',
      delay: 66,
      distance: 1750,
      origin: 'DTW',
      destination: 'LAS',
    }).split(',');
    assert.equal(row.length, ASA_COLUMN_COUNT);
    assert.deepEqual(row.slice(0, 5), ['2001', '1', '1', '1', '47']); // Jan 1 2001: Monday
    assert.equal(row[ASA_INDEX.UniqueCarrier], 'DTW');
    assert.equal(row[ASA_INDEX.ArrDelay], '66');
    assert.equal(row[ASA_INDEX.Dest], 'LAS');
    assert.equal(row[ASA_INDEX.Distance], '1750');
    assert.equal(row[ASA_INDEX.CRSDepTime], 'NA');
    const na = vegaFlightToAsaRow(
      { date: '2001/03/31 00:00', delay: -9, distance: 83, origin: 'CLT', destination: 'GSO' },
      'na',
    ).split(',');
    assert.equal(na[ASA_INDEX.UniqueCarrier], 'NA');
    assert.equal(na[ASA_INDEX.DepTime], '2400');
    assert.equal(na[ASA_INDEX.DayOfWeek], '6'); // Saturday
  });

  it('reports clearly when the package is absent', async () => {
    const nowhere = new URL('file:///nonexistent-sluice-dir/x.js');
    assert.equal(locateVegaDatasets(nowhere), undefined);
    await assert.rejects(
      readVegaFlights({ from: nowhere }),
      (e: unknown) =>
        e instanceof CsvInputError && /vega-datasets is not installed/.test(e.message),
    );
  });

  it('reads the real flights-20k file; csv-rows agrees with the reference', async () => {
    assert.ok(locateVegaDatasets() !== undefined, 'vega-datasets is a dependency: npm install');
    const flights = await readVegaFlights();
    assert.equal(flights.length, 20_000);
    const file = join(dir, 'vega.csv');
    assert.equal(await writeVegaFlightsCsv(file), 20_000);
    const ref = await referenceDelayedFlights(file);
    assert.deepEqual([ref.rows, ref.skipped, ref.malformed], [20_000, 0, 0]);
    assert.ok(ref.perCarrier.size > 100, 'one group per origin airport');
    const acc = new Map<string, { delayed: number; sum: number }>();
    const reader = readFlightsCsv(file, { chunkSize: 10_007 });
    for await (const b of reader) {
      for (let i = 0; i < b.length; i++) {
        const d = b.arrDelays[i]!;
        if (d > 0) {
          const a = acc.get(b.carriers[i]!) ?? { delayed: 0, sum: 0 };
          a.delayed++;
          a.sum += d;
          acc.set(b.carriers[i]!, a);
        }
      }
    }
    assert.equal(reader.stats.rows, 20_000);
    assert.equal(acc.size, ref.perCarrier.size);
    for (const [k, a] of acc) {
      const r = ref.perCarrier.get(k)!;
      assert.equal(a.delayed, r.delayed);
      assert.ok(Math.abs(a.sum / a.delayed - r.avgArrDelay) <= 1e-9);
    }
  });
});
