/**
 * A seeded, reproducible generator of ASA Data Expo 2009 on-time rows (29 columns, header,
 * `NA` for missing values). Same options ⇒ byte-identical output. Rows are sorted by date
 * over one year like 2008.csv; carriers differ in their delay distributions; about 2 % of
 * rows are cancelled or diverted and carry `NA` in ArrDelay.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '../../errors.js';
import { ASA_HEADER } from './asa-schema.js';
import {
  AIRPORTS,
  CARRIERS,
  distanceMiles,
  weightedTable,
  type Airport,
  type CarrierProfile,
} from './asa-tables.js';
import { mulberry32 } from '../prng.js';

export interface GenerateAsaOptions {
  /** Number of data rows (without the header). 7,009,728 is the size of 2008.csv. */
  readonly rows: number;
  /** PRNG seed (default 2008). */
  readonly seed?: number;
  /** Year written in every row (default 2008). */
  readonly year?: number;
  /**
   * Fraction of rows made deliberately bad, for testing readers (default 0): a third have a
   * column missing, a third an extra column, a third an unparsable ArrDelay.
   */
  readonly badRowRate?: number;
  /** Bytes per chunk handed to the file stream (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Line terminator (default '\n'). */
  readonly eol?: '\n' | '\r\n';
  /** Called after each chunk with the rows generated so far and the total. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

interface Day {
  readonly month: number;
  readonly day: number;
  /** 1 = Monday … 7 = Sunday. */
  readonly dow: number;
}

/** 2008.csv's row count. */
export const ROWS_2008 = 7_009_728;

function checkOptions(o: GenerateAsaOptions): void {
  if (!Number.isSafeInteger(o.rows) || o.rows < 0) {
    throw new ConfigError(`rows must be a non-negative integer, got ${String(o.rows)}`);
  }
  const bad = o.badRowRate ?? 0;
  if (!(bad >= 0 && bad <= 1)) throw new ConfigError('badRowRate must be between 0 and 1');
  const chunk = o.chunkBytes ?? 1 << 20;
  if (!Number.isSafeInteger(chunk) || chunk < 1) {
    throw new ConfigError('chunkBytes must be a positive integer');
  }
}

/** hh:mm (minutes since midnight, any integer) → the ASA hhmm integer, midnight as 2400. */
function hhmm(minutes: number): number {
  const m = ((minutes % 1440) + 1440) % 1440;
  const v = Math.floor(m / 60) * 100 + (m % 60);
  return v === 0 ? 2400 : v;
}

/** Write the decimal digits of integer n at pos; returns the position after them. */
function putInt(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0) {
    buf[pos++] = 45; // '-'
    n = -n;
  }
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  if (n < 100) {
    buf[pos] = 48 + ((n / 10) | 0);
    buf[pos + 1] = 48 + (n % 10);
    return pos + 2;
  }
  if (n < 1000) {
    buf[pos] = 48 + ((n / 100) | 0);
    buf[pos + 1] = 48 + (((n / 10) | 0) % 10);
    buf[pos + 2] = 48 + (n % 10);
    return pos + 3;
  }
  let digits = 0;
  for (let t = n; t > 0; t = Math.floor(t / 10)) digits++;
  let at = pos + digits;
  for (let t = n; t > 0; t = Math.floor(t / 10)) buf[--at] = 48 + (t % 10);
  return pos + digits;
}

function putBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  for (let k = 0; k < bytes.length; k++) buf[pos + k] = bytes[k] as number;
  return pos + bytes.length;
}

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const NA = ascii('NA');
const NA_CAUSES = ascii('NA,NA,NA,NA,NA');
const COMMA = 44;
/** Upper bound of one row's length in bytes (the longest is ~130). */
const MAX_ROW = 512;

/** Buffer holding an optional nullable integer field: NaN encodes `NA`. */
function putField(buf: Uint8Array, pos: number, n: number): number {
  pos = n !== n ? putBytes(buf, pos, NA) : putInt(buf, pos, n);
  buf[pos] = COMMA;
  return pos + 1;
}

/**
 * The CSV bytes as a sequence of chunks (header first). Lazily generated: memory stays at
 * one chunk whatever the row count; each row is encoded straight into the chunk's bytes
 * (building strings per row spent most of its time in the garbage collector).
 */
export function* asaChunks(options: GenerateAsaOptions): Generator<Buffer, void, undefined> {
  checkOptions(options);
  const total = options.rows;
  const rand = mulberry32(options.seed ?? 2008);
  const year = options.year ?? 2008;
  const badRate = options.badRowRate ?? 0;
  const chunkBytes = Math.max(MAX_ROW * 2, options.chunkBytes ?? 1 << 20);
  const eol = ascii(options.eol ?? '\n');

  // Calendar: month, day, day of week (1 = Monday … 7 = Sunday) for each day of the year.
  const days: Day[] = [];
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 86_400_000) {
    const d = new Date(t);
    days.push({
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      dow: ((d.getUTCDay() + 6) % 7) + 1,
    });
  }
  const nAir = AIRPORTS.length;
  const dist = new Float64Array(nAir * nAir);
  for (let i = 0; i < nAir; i++) {
    for (let j = 0; j < nAir; j++)
      dist[i * nAir + j] = distanceMiles(AIRPORTS[i] as Airport, AIRPORTS[j] as Airport);
  }
  const carrierTable = weightedTable(CARRIERS.map((c) => c.weight));
  const airportTable = weightedTable(AIRPORTS.map((a) => a.weight));
  const carrierBytes = CARRIERS.map((c) => ascii(c.code));
  const airportBytes = AIRPORTS.map((a) => ascii(a.code));
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
  const pick = (): string => letters.charAt(Math.floor(rand() * 24));
  const tails = CARRIERS.map(() =>
    Array.from({ length: 300 }, () =>
      ascii(`N${100 + Math.floor(rand() * 900)}${pick()}${pick()}`),
    ),
  );
  const cancelCodes = ['A', 'A', 'B', 'B', 'C', 'C', 'A', 'D'].map(ascii);
  const expo = (mean: number): number => -mean * Math.log(1 - rand());

  /** Encode row i at p (a plain function: the optimiser handles it better than the generator). */
  const writeRow = (buf: Buffer, p: number, i: number): number => {
    const bad = badRate > 0 && rand() < badRate ? Math.floor(rand() * 3) : -1;
    const cal = days[Math.floor((i * days.length) / total)] as Day;
    const ci = carrierTable[Math.floor(rand() * 1024)] as number;
    const c = CARRIERS[ci] as CarrierProfile;
    const o = airportTable[Math.floor(rand() * 1024)] as number;
    let d = airportTable[Math.floor(rand() * 1024)] as number;
    if (d === o) d = (d + 1 + Math.floor(rand() * (nAir - 1))) % nAir;
    const miles = dist[o * nAir + d] as number;
    const flightNum = 1 + Math.floor(rand() * 7000);
    const tail = (tails[ci] as Uint8Array[])[Math.floor(rand() * 300)] as Uint8Array;
    const crsDep = 330 + Math.floor(rand() * 1080);
    const crsElapsed = Math.round(miles / 7.8 + 28);
    const u = rand();
    let dep = NaN;
    let arr = NaN;
    let actual = NaN;
    let air = NaN;
    let arrDelay = NaN;
    let depDelay = NaN;
    let taxiIn = NaN;
    let taxiOut = NaN;
    let cancelled = 0;
    let code = NA;
    let diverted = 0;
    let cause = -1; // carrier share of the delay; -1 = causes NA
    let weather = 0;
    let nas = 0;
    if (u < c.pCancel) {
      cancelled = 1;
      code = cancelCodes[Math.floor(rand() * 8)] as Uint8Array;
    } else {
      taxiOut = 6 + Math.floor(expo(8));
      const airT = Math.round(miles / 8.2 + 8 + (rand() - 0.5) * 12);
      const late = rand() < c.pLate;
      const aDelay = late ? 1 + Math.floor(expo(c.meanLate)) : -Math.floor(expo(9));
      if (u < c.pCancel + 0.0025) {
        diverted = 1;
        depDelay = aDelay + Math.round(rand() * 10 - 5);
        dep = hhmm(crsDep + depDelay);
      } else {
        taxiIn = 2 + Math.floor(expo(4));
        actual = airT + taxiIn + taxiOut;
        depDelay = aDelay + crsElapsed - actual;
        dep = hhmm(crsDep + depDelay);
        arr = hhmm(crsDep + depDelay + actual);
        air = airT;
        arrDelay = aDelay;
        if (aDelay >= 15) {
          cause = Math.floor(aDelay * rand() * 0.5);
          weather = rand() < 0.1 ? Math.floor((aDelay - cause) * rand() * 0.5) : 0;
          nas = Math.floor((aDelay - cause - weather) * rand());
        }
      }
    }
    p = putField(buf, p, year);
    p = putField(buf, p, cal.month);
    p = putField(buf, p, cal.day);
    p = putField(buf, p, cal.dow);
    p = putField(buf, p, dep);
    p = putField(buf, p, hhmm(crsDep));
    p = putField(buf, p, arr);
    p = putField(buf, p, hhmm(crsDep + crsElapsed));
    p = putBytes(buf, p, carrierBytes[ci] as Uint8Array);
    buf[p++] = COMMA;
    p = putField(buf, p, flightNum);
    p = putBytes(buf, p, tail);
    buf[p++] = COMMA;
    p = putField(buf, p, actual);
    p = putField(buf, p, crsElapsed);
    p = putField(buf, p, air);
    if (bad === 2) {
      buf[p++] = 49; // '1'
      buf[p++] = 79; // 'O': "1O" is not a number
      buf[p++] = COMMA;
    } else {
      p = putField(buf, p, arrDelay);
    }
    p = putField(buf, p, depDelay);
    p = putBytes(buf, p, airportBytes[o] as Uint8Array);
    buf[p++] = COMMA;
    p = putBytes(buf, p, airportBytes[d] as Uint8Array);
    buf[p++] = COMMA;
    p = putField(buf, p, miles);
    p = putField(buf, p, taxiIn);
    p = putField(buf, p, taxiOut);
    p = putField(buf, p, cancelled);
    p = putBytes(buf, p, code);
    buf[p++] = COMMA;
    p = putField(buf, p, diverted);
    if (cause < 0) {
      p = putBytes(buf, p, NA_CAUSES);
    } else {
      p = putField(buf, p, cause);
      p = putField(buf, p, weather);
      p = putField(buf, p, nas);
      p = putField(buf, p, 0);
      p = putInt(buf, p, arrDelay - cause - weather - nas);
    }
    if (bad === 0) {
      p = buf.lastIndexOf(COMMA, p - 1); // drop the last column
    } else if (bad === 1) {
      buf[p++] = COMMA; // add a 30th column
      p = putBytes(buf, p, NA);
    }
    p = putBytes(buf, p, eol);
    return p;
  };

  let buf = Buffer.allocUnsafe(chunkBytes);
  let p = putBytes(buf, 0, ascii(ASA_HEADER));
  p = putBytes(buf, p, eol);
  let i = 0;
  while (i < total) {
    const limit = chunkBytes - MAX_ROW;
    while (i < total && p <= limit) p = writeRow(buf, p, i++);
    if (i < total) {
      yield buf.subarray(0, p);
      options.onProgress?.(i, total);
      buf = Buffer.allocUnsafe(chunkBytes);
      p = 0;
    }
  }
  if (p > 0) yield buf.subarray(0, p);
  options.onProgress?.(total, total);
}

export interface GenerateAsaResult {
  readonly rows: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * Write a generated ASA CSV file. Streams chunks into the file with backpressure; the
 * promise settles when the file is closed.
 */
export async function generateAsaFile(
  path: string,
  options: GenerateAsaOptions,
): Promise<GenerateAsaResult> {
  checkOptions(options);
  const start = performance.now();
  const out = createWriteStream(path, { highWaterMark: 4 * 1024 * 1024 });
  await pipeline(Readable.from(asaChunks(options), { objectMode: false }), out);
  return { rows: options.rows, bytes: out.bytesWritten, ms: performance.now() - start };
}
