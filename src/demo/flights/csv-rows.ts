/**
 * A fast streaming reader of ASA on-time CSV files that extracts only UniqueCarrier and
 * ArrDelay, in column batches (no per-row objects, no per-row promises).
 *
 * Hot path, hand-written on purpose (DESIGN.md §3–4): one reused read buffer, chunks decoded
 * as latin1 (the ASA files are ISO-8859-1/ASCII), fields found with `indexOf(',')` and the
 * delay parsed from char codes; `Number()` is the fallback for anything but plain integers.
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
    let pending: Promise<{ bytesRead: number }> | undefined;
    try {
      try {
        this.#totalBytes = (await fh.stat()).size;
      } catch (err) {
        throw fileError(this.path, err);
      }
      const buf = Buffer.allocUnsafe(this.#chunkSize);
      let carry = '';
      let header = true;
      pending = fh.read(buf, 0, this.#chunkSize, null);
      for (;;) {
        let got: number;
        try {
          got = (await pending).bytesRead;
        } catch (err) {
          throw fileError(this.path, err);
        } finally {
          pending = undefined;
        }
        if (got === 0) break;
        this.#bytesRead += got;
        const text = carry + buf.toString('latin1', 0, got);
        pending = fh.read(buf, 0, this.#chunkSize, null); // read ahead; `text` is a copy
        let pos = 0;
        if (header) {
          const nl = text.indexOf('\n');
          if (nl < 0) {
            carry = this.#checkCarry(text);
            continue;
          }
          checkAsaHeader(text.slice(0, nl), this.path);
          header = false;
          pos = nl + 1;
        }
        for (let nl = text.indexOf('\n', pos); nl >= 0; nl = text.indexOf('\n', pos)) {
          this.#line(text, pos, nl);
          pos = nl + 1;
          if (this.#n === this.#batchSize) yield this.#take();
        }
        carry = this.#checkCarry(pos === 0 ? text : text.slice(pos));
      }
      if (header) {
        if (carry === '') throw new CsvInputError('E_INPUT_EMPTY', `${this.path} is empty`);
        checkAsaHeader(carry, this.path);
      } else if (carry !== '') {
        this.#line(carry, 0, carry.length);
      }
      if (this.#n > 0) yield this.#take();
    } finally {
      await pending?.catch(() => undefined);
      await fh.close();
    }
  }

  #checkCarry(rest: string): string {
    if (rest.length > this.#maxLine) {
      throw new CsvInputError(
        'E_CSV_LINE_TOO_LONG',
        `${this.path}: a line after row ${this.#rows} is longer than ${this.#maxLine} characters`,
      );
    }
    return rest;
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

  /** The row text[start, end) (end at the '\n' or the text's end). */
  #line(text: string, start: number, end: number): void {
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (end === start) return; // blank line
    this.#rows++;
    let commas = 0;
    let c = start - 1;
    let cs = 0;
    let ce = 0;
    let ds = 0;
    let de = 0;
    for (;;) {
      c = text.indexOf(',', c + 1);
      if (c < 0 || c >= end) break;
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
    const neg = k < de && text.charCodeAt(k) === 45;
    if (neg) k++;
    let v = 0;
    const digitsFrom = k;
    for (; k < de; k++) {
      const d = text.charCodeAt(k) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    let delay: number;
    if (k === de && k > digitsFrom && k - digitsFrom <= 15) delay = neg ? -v : v;
    else delay = slowNumber(text.slice(ds, de));
    if (Number.isNaN(delay)) this.#skipped++;
    this.#carriers.push(text.slice(cs, ce));
    this.#delays[this.#n++] = delay;
  }
}

/** Open `path` for batch reading; errors (missing file, bad header) surface on iteration. */
export function readFlightsCsv(path: string, options?: FlightsCsvOptions): FlightsCsvReader {
  return new FlightsCsvReader(path, options);
}
