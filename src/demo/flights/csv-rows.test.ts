import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ASA_HEADER } from './asa-schema.js';
import { CsvInputError } from './csv-input-error.js';
import { readFlightsCsv, type FlightsCsvOptions } from './csv-rows.js';
import { asaChunks, generateAsaFile } from './generate-asa.js';
import { referenceDelayedFlights, type DelayedFlightsResult } from './reference.js';

/** DELAYEDFLIGHTS over csv-rows batches, the same shape as the reference. */
async function viaCsvRows(
  path: string,
  options?: FlightsCsvOptions,
): Promise<DelayedFlightsResult> {
  const reader = readFlightsCsv(path, options);
  const acc = new Map<string, { delayed: number; sum: number }>();
  let inBatches = 0;
  for await (const b of reader) {
    assert.equal(b.carriers.length, b.length);
    assert.equal(b.arrDelays.length, b.length);
    inBatches += b.length;
    for (let i = 0; i < b.length; i++) {
      const d = b.arrDelays[i]!;
      if (d > 0) {
        const c = b.carriers[i]!;
        const a = acc.get(c) ?? { delayed: 0, sum: 0 };
        a.delayed++;
        a.sum += d;
        acc.set(c, a);
      }
    }
  }
  const { rows, skipped, malformed } = reader.stats;
  assert.equal(inBatches, rows - malformed, 'batches hold every well-formed row');
  const perCarrier = new Map(
    [...acc].map(([c, a]) => [
      c,
      { delayed: a.delayed, sumArrDelay: a.sum, avgArrDelay: a.sum / a.delayed },
    ]),
  );
  return { rows, skipped, malformed, perCarrier };
}

function assertSame(a: DelayedFlightsResult, b: DelayedFlightsResult): void {
  assert.equal(a.rows, b.rows, 'rows');
  assert.equal(a.skipped, b.skipped, 'skipped');
  assert.equal(a.malformed, b.malformed, 'malformed');
  assert.deepEqual([...a.perCarrier.keys()].sort(), [...b.perCarrier.keys()].sort());
  for (const [carrier, x] of a.perCarrier) {
    const y = b.perCarrier.get(carrier)!;
    assert.equal(x.delayed, y.delayed, `${carrier} delayed`);
    assert.ok(Math.abs(x.avgArrDelay - y.avgArrDelay) <= 1e-9, `${carrier} avg`);
  }
}

const row = (carrier: string, delay: string, extra = ''): string =>
  `2008,1,3,4,2003,1955,2211,2225,${carrier},335,N712SW,128,150,116,${delay},8,IAD,TPA,810,4,8,0,,0,NA,NA,NA,NA,NA${extra}`;

describe('readFlightsCsv', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-csv-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('agrees exactly with the reference on a generated file with bad rows', async () => {
    const file = join(dir, 'gen.csv');
    await generateAsaFile(file, { rows: 30_000, seed: 11, badRowRate: 0.01 });
    const ref = await referenceDelayedFlights(file);
    assert.equal(ref.rows, 30_000);
    assert.ok(ref.malformed > 100 && ref.skipped > 300, JSON.stringify(ref));
    assert.equal(ref.perCarrier.size, 20);
    assertSame(await viaCsvRows(file), ref);
    assertSame(await viaCsvRows(file, { chunkSize: 4093, batchSize: 100 }), ref);
  });

  it('handles CRLF, rows split across tiny chunks and a last line without newline', async () => {
    const file = join(dir, 'crlf.csv');
    const body = Buffer.concat([...asaChunks({ rows: 60, seed: 5, eol: '\r\n', badRowRate: 0.1 })]);
    await writeFile(file, Buffer.concat([body, Buffer.from(row('ZZ', '42'))]));
    const ref = await referenceDelayedFlights(file);
    assert.equal(ref.rows, 61);
    assert.equal(ref.perCarrier.get('ZZ')?.delayed, 1);
    assert.ok(ref.malformed > 0);
    // 1–3 bytes per read cut every row and every '\r\n' pair at every point.
    for (const chunkSize of [1, 2, 3, 64, 101, 1 << 20]) {
      assertSame(await viaCsvRows(file, { chunkSize, batchSize: 7 }), ref);
    }
  });

  it('counts NA, unparsable, decimal and odd delays the way the reference does', async () => {
    const file = join(dir, 'odd.csv');
    const lines = [
      ASA_HEADER,
      row('AA', '10'),
      row('AA', '-5'),
      row('AA', '0'),
      row('AA', 'NA'),
      row('AA', ''),
      row('AA', 'abc'),
      row('AA', '1e2'),
      row('AA', '2.5'),
      row('AA', ' 7 '),
      row('AA', '-'),
      row('AA', 'Infinity'),
      row('AA', '1234567890123456789'),
      row('BB', '3', ',extra'),
      'short,row',
      '',
      row('BB', '4'),
    ];
    await writeFile(file, lines.join('\n') + '\n\n');
    const ref = await referenceDelayedFlights(file);
    assert.equal(ref.rows, 15);
    assert.equal(ref.malformed, 2);
    assert.equal(ref.skipped, 5); // NA, '', abc, '-', Infinity
    assert.equal(ref.perCarrier.get('AA')?.delayed, 5); // 10, 1e2, 2.5, 7, 1234567890123456789
    assert.equal(ref.perCarrier.get('BB')?.delayed, 1);
    assertSame(await viaCsvRows(file), ref);
    assertSame(await viaCsvRows(file, { chunkSize: 5 }), ref);

    const reader = readFlightsCsv(file);
    const delays: number[] = [];
    for await (const b of reader) delays.push(...b.arrDelays);
    assert.deepEqual(delays.slice(0, 4), [10, -5, 0, NaN]);
  });

  it('reads a header-only file as zero rows', async () => {
    const file = join(dir, 'header.csv');
    await writeFile(file, ASA_HEADER);
    assert.deepEqual(await viaCsvRows(file), await referenceDelayedFlights(file));
    assert.equal((await viaCsvRows(file)).rows, 0);
  });

  it('refuses an empty file, a missing file, a directory and a non-ASA header clearly', async () => {
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '');
    const code = (c: string) => (e: unknown) => e instanceof CsvInputError && e.code === c;
    await assert.rejects(viaCsvRows(empty), code('E_INPUT_EMPTY'));
    await assert.rejects(referenceDelayedFlights(empty), code('E_INPUT_EMPTY'));
    const missing = join(dir, 'missing.csv');
    await assert.rejects(viaCsvRows(missing), code('E_INPUT_NOT_FOUND'));
    await assert.rejects(viaCsvRows(missing), /no such file/);
    await assert.rejects(referenceDelayedFlights(missing), code('E_INPUT_NOT_FOUND'));
    await assert.rejects(viaCsvRows(dir), code('E_INPUT_UNREADABLE'));
    await assert.rejects(referenceDelayedFlights(dir), code('E_INPUT_UNREADABLE'));

    const other = join(dir, 'other.csv');
    await writeFile(other, 'date,delay,distance\n2001/01/01 00:47,66,1750\n');
    await assert.rejects(viaCsvRows(other), /lacks columns Year, Month/);
    await assert.rejects(referenceDelayedFlights(other), code('E_CSV_HEADER'));
    const noDelay = join(dir, 'nodelay.csv');
    await writeFile(noDelay, ASA_HEADER.replace('ArrDelay', 'ArrivalDelay') + '\n');
    await assert.rejects(viaCsvRows(noDelay, { chunkSize: 3 }), /lacks column ArrDelay$/);
    const swapped = join(dir, 'swapped.csv');
    await writeFile(swapped, ASA_HEADER.replace('Year,Month', 'Month,Year') + '\n');
    await assert.rejects(viaCsvRows(swapped), /column 1 should be Year/);
    const extra = join(dir, 'extra.csv');
    await writeFile(extra, ASA_HEADER + ',Extra\n');
    await assert.rejects(viaCsvRows(extra), /has 30 columns/);
    await assert.rejects(referenceDelayedFlights(extra), code('E_CSV_HEADER'));
  });

  it('refuses an overlong line and a second iteration', async () => {
    const file = join(dir, 'long.csv');
    await writeFile(file, ASA_HEADER + '\n' + 'x'.repeat(5000));
    await assert.rejects(
      viaCsvRows(file, { maxLineLength: 1000, chunkSize: 512 }),
      (e: unknown) => {
        return e instanceof CsvInputError && e.code === 'E_CSV_LINE_TOO_LONG';
      },
    );
    const reader = readFlightsCsv(file);
    reader[Symbol.asyncIterator]();
    assert.throws(() => reader[Symbol.asyncIterator](), CsvInputError);
  });

  it('stops cleanly when the consumer breaks early', async () => {
    const file = join(dir, 'early.csv');
    await generateAsaFile(file, { rows: 5000, seed: 2 });
    const reader = readFlightsCsv(file, { batchSize: 100, chunkSize: 4096 });
    for await (const b of reader) {
      assert.equal(b.length, 100);
      break;
    }
    assert.ok(reader.stats.rows >= 100 && reader.stats.rows < 5000);
    assert.ok(reader.stats.totalBytes > reader.stats.bytesRead);
  });
});
