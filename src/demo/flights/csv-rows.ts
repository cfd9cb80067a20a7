/**
 * A fast streaming reader of ASA on-time CSV files that extracts only UniqueCarrier and
 * ArrDelay, in column batches (no per-row objects, no per-row promises).
 *
 * Hot path, hand-written on purpose (DESIGN.md §3–4): one reused read buffer parsed as bytes
 * (the ASA files are ISO-8859-1/ASCII): lines found with Buffer.indexOf (memchr), commas
 * counted in one loop over the line's bytes, the delay parsed from digits (`Number()` only for
 * anything but plain integers), carrier codes interned so a row allocates no string. Decoding
 * each chunk to a string and scanning it with indexOf ran at ≈ 1.1 M rows/s.
 *
 * Row semantics (shared with reference.ts, which implements them independently):
 * - lines end with LF or CRLF; a last line without newline counts; blank lines are ignored;
 * - the first line must be the ASA header (29 names in order), else CsvInputError;
 * - `rows` counts every other line; a row without exactly 29 fields is `malformed`;
 * - a row whose ArrDelay is not a finite number (`NA`, empty, `abc`) is `skipped`: it stays
 *   in the batch with NaN as its delay; a number is what `Number(field)` reads, blank excluded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ASA_COLUMN_COUNT, ASA_COLUMNS, ASA_INDEX } from './asa-schema.js';
import { CsvInputError, fileError } from './csv-input-error.js';

/** One batch of rows in columns. */
export interface FlightBatch {
  /** Number of rows in this batch. */
  readonly length: number;
  /** UniqueCarrier per row. */
  readonly carriers: readonly string[];
  /** ArrDelay per row in minutes; NaN where the row was skipped (NA or unparsable). */
  readonly arrDelays: Float64Array;
}

/** Counts so far; final once iteration has ended. */
export interface CsvReadStats {
  /** Data rows read (not the header, not blank lines), malformed and skipped included. */
  readonly rows: number;
  /** Rows with 29 fields whose ArrDelay is NA or unparsable (in the batches, NaN delay). */
  readonly skipped: number;
  /** Rows without exactly 29 fields (not in the batches). */
  readonly malformed: number;
  readonly bytesRead: number;
  readonly totalBytes: number;
}

export interface FlightsCsvOptions {
  /** Bytes per read (default 1 MiB). Tiny values are for tests of split rows. */
  readonly chunkSize?: number;
  /** Rows per batch (default 8192). */
  readonly batchSize?: number;
  /** Longest accepted line in characters (default 64 KiB). */
  readonly maxLineLength?: number;
}

const CARRIER = ASA_INDEX.UniqueCarrier;
const ARR_DELAY = ASA_INDEX.ArrDelay;
const COMMAS = ASA_COLUMN_COUNT - 1;

/** `Number(s)` for a field, with blank and non-finite values as NaN. */
function slowNumber(s: string): number {
  if (s.trim() === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/** Throw CsvInputError unless `line` is the ASA header. */
export function checkAsaHeader(line: string, path: string): void {
  let h = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (h.startsWith('\xEF\xBB\xBF')) h = h.slice(3); // UTF-8 BOM read as latin1
  const names = h.split(',').map((n) => n.trim().replace(/^"(.*)"$/, '$1'));
  const missing = ASA_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new CsvInputError(
      'E_CSV_HEADER',
      `${path} is not an ASA on-time CSV file: its header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  const at = ASA_COLUMNS.findIndex((c, i) => names[i] !== c);
  if (at >= 0 || names.length !== ASA_COLUMN_COUNT) {
    throw new CsvInputError(
      'E_CSV_HEADER',
      at >= 0
        ? `${path}: header column ${at + 1} should be ${String(ASA_COLUMNS[at])} (the ASA columns must be in order)`
        : `${path}: header has ${names.length} columns, the ASA schema has ${ASA_COLUMN_COUNT}`,
    );
  }
}

/** Reads one file once; iterate it with `for await`. */
export class FlightsCsvReader implements AsyncIterable<FlightBatch> {
  readonly path: string;
  readonly #chunkSize: number;
  readonly #batchSize: number;
  readonly #maxLine: number;
  #started = false;
  #rows = 0;
  #skipped = 0;
  #malformed = 0;
  #bytesRead = 0;
  #totalBytes = 0;
  // The batch being filled.
  #carriers: string[] = [];
  #delays: Float64Array;
  #n = 0;
  /** Carrier codes seen, by their bytes: one string per carrier, not one per row. */
  readonly #names = new Map<number, string>();

  constructor(path: string, options: FlightsCsvOptions = {}) {
    this.path = path;
    this.#chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 1 << 20));
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? 8192));
    this.#maxLine = Math.max(256, Math.floor(options.maxLineLength ?? 1 << 16));
    this.#delays = new Float64Array(this.#batchSize);
  }

  get stats(): CsvReadStats {
    return {
      rows: this.#rows,
      skipped: this.#skipped,
      malformed: this.#malformed,
      bytesRead: this.#bytesRead,
      totalBytes: this.#totalBytes,
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<FlightBatch> {
    if (this.#started) throw new CsvInputError('E_CONFIG', 'a FlightsCsvReader is read once');
    this.#started = true;
    return this.#batches();
  }

  async *#batches(): AsyncGenerator<FlightBatch, void, undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      throw fileError(this.path, err);
    }
    try {
      try {
        this.#totalBytes = (await fh.stat()).size;
      } catch (err) {
        throw fileError(this.path, err);
      }
      // An unfinished line's bytes stay at the front of the buffer; each read appends to them.
      const buf = Buffer.allocUnsafe(this.#chunkSize + this.#maxLine + 1);
      let have = 0;
      let header = true;
      for (;;) {
        let got: number;
        try {
          got = (await fh.read(buf, have, this.#chunkSize, null)).bytesRead;
        } catch (err) {
          throw fileError(this.path, err);
        }
        if (got === 0) break;
        this.#bytesRead += got;
        const total = have + got;
        let pos = 0;
        if (header) {
          const nl = buf.indexOf(10);
          if (nl < 0 || nl >= total) {
            have = this.#keep(buf, 0, total);
            continue;
          }
          checkAsaHeader(buf.toString('latin1', 0, nl), this.path);
          header = false;
          pos = nl + 1;
        }
        for (;;) {
          pos = this.#lines(buf, pos, total);
          if (this.#n < this.#batchSize) break;
          yield this.#take();
        }
        have = this.#keep(buf, pos, total);
      }
      if (header) {
        if (have === 0) throw new CsvInputError('E_INPUT_EMPTY', `${this.path} is empty`);
        checkAsaHeader(buf.toString('latin1', 0, have), this.path);
      } else if (have > 0) {
        this.#line(buf, 0, have); // a last line without newline
      }
      if (this.#n > 0) yield this.#take();
    } finally {
      await fh.close();
    }
  }

  /** Move the unfinished line buf[pos, total) to the front; returns its length. */
  #keep(buf: Buffer, pos: number, total: number): number {
    const rest = total - pos;
    if (rest > this.#maxLine) {
      throw new CsvInputError(
        'E_CSV_LINE_TOO_LONG',
        `${this.path}: a line after row ${this.#rows} is longer than ${this.#maxLine} characters`,
      );
    }
    if (pos > 0 && rest > 0) buf.copyWithin(0, pos, total);
    return rest;
  }

  /** Every complete line of buf[pos, total) until the batch is full; returns where it stopped. */
  #lines(buf: Buffer, pos: number, total: number): number {
    while (this.#n < this.#batchSize) {
      const nl = buf.indexOf(10, pos); // memchr; a hit past `total` is stale bytes
      if (nl < 0 || nl >= total) break;
      this.#line(buf, pos, nl);
      pos = nl + 1;
    }
    return pos;
  }

  #take(): FlightBatch {
    const batch: FlightBatch = {
      length: this.#n,
      carriers: this.#carriers,
      arrDelays: this.#n === this.#batchSize ? this.#delays : this.#delays.slice(0, this.#n),
    };
    this.#carriers = [];
    this.#delays = new Float64Array(this.#batchSize);
    this.#n = 0;
    return batch;
  }

  /** The carrier code as a string, interned for codes of up to 3 bytes (all real ones). */
  #carrier(b: Buffer, s: number, e: number): string {
    if (e - s > 3) return b.toString('latin1', s, e);
    let key = e - s;
    for (let i = s; i < e; i++) key = key * 256 + (b[i] as number);
    let name = this.#names.get(key);
    if (name === undefined) {
      name = b.toString('latin1', s, e);
      this.#names.set(key, name);
    }
    return name;
  }

  /** The row b[start, end) (end at the '\n' or the data's end), parsed from bytes. */
  #line(b: Buffer, start: number, end: number): void {
    if (end > start && b[end - 1] === 13) end--;
    if (end === start) return; // blank line
    this.#rows++;
    let commas = 0;
    let cs = 0;
    let ce = 0;
    let ds = 0;
    let de = 0;
    for (let c = start; c < end; c++) {
      if (b[c] !== 44) continue;
      commas++;
      if (commas === CARRIER) cs = c + 1;
      else if (commas === CARRIER + 1) ce = c;
      else if (commas === ARR_DELAY) ds = c + 1;
      else if (commas === ARR_DELAY + 1) de = c;
      else if (commas > COMMAS) break;
    }
    if (commas !== COMMAS) {
      this.#malformed++;
      return;
    }
    // Fast path: optional '-' then 1–15 digits; anything else goes through Number().
    let k = ds;
    const neg = k < de && b[k] === 45;
    if (neg) k++;
    let v = 0;
    const digitsFrom = k;
    for (; k < de; k++) {
      const d = (b[k] as number) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    let delay: number;
    if (k === de && k > digitsFrom && k - digitsFrom <= 15) delay = neg ? -v : v;
    else delay = slowNumber(b.toString('latin1', ds, de));
    if (Number.isNaN(delay)) this.#skipped++;
    this.#carriers.push(this.#carrier(b, cs, ce));
    this.#delays[this.#n++] = delay;
  }
}

/** Open `path` for batch reading; errors (missing file, bad header) surface on iteration. */
export function readFlightsCsv(path: string, options?: FlightsCsvOptions): FlightsCsvReader {
  return new FlightsCsvReader(path, options);
}
