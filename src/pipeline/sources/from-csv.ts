import { parse, type CsvError } from 'csv-parse';
import { ConfigError } from '../../errors.js';
import { source, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';
import { checkPath, consume, fileError, openForReading } from './read-file.js';

export interface CsvSourceOptions<T> extends SourceOptions<T> {
  /** Keep only these columns (each must be in the header row); default: every column. */
  readonly columns?: readonly string[];
  /** The field delimiter (default `,`). */
  readonly delimiter?: string;
  /**
   * Convert one field (a string) of a kept column; throwing skips the row (counted under
   * `cast`). Default: fields stay strings.
   */
  readonly cast?: (value: string, column: string) => unknown;
}

/** Why csv-parse skipped a row, as the name it is counted under in the run's report. */
function reasonOf(err: CsvError | undefined): string {
  switch (err?.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return 'column-count';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'quote';
    case 'CSV_MAX_RECORD_SIZE':
      return 'too-long';
    default:
      return 'malformed';
  }
}

/**
 * A stream of the rows of a CSV file, read from disk as it is consumed (never the whole file)
 * with the maintained `csv-parse`. The header row names the fields; each row is a frozen object
 * `{ [column]: value }`. Rows with the wrong number of fields, broken quoting or a field that
 * `cast` rejects are skipped and counted: `RunReport.sources[name]` is
 * `{ rows, skipped, reasons: { 'column-count': …, quote: …, cast: … } }`. Blank lines are
 * ignored; an empty file is a stream of no rows. A file that cannot be read, or a header row
 * without a requested column, fails the source (the run's report names the path).
 */
export function fromCsv<T = Readonly<Record<string, string>>>(
  path: string,
  options: CsvSourceOptions<T> = {},
): Stream<T> {
  const kind = 'fromCsv';
  checkPath(kind, path);
  const o = options as Partial<CsvSourceOptions<T>>;
  const want = o.columns;
  if (
    want !== undefined &&
    (!Array.isArray(want) || want.length === 0 || !want.every((c) => typeof c === 'string'))
  ) {
    throw new ConfigError(`${kind}: columns must be a non-empty array of column names`);
  }
  const delimiter = o.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
    throw new ConfigError(
      `${kind}: delimiter must be a non-empty string without quotes or newlines`,
    );
  }
  const cast = o.cast;
  if (cast !== undefined && typeof cast !== 'function') {
    throw new ConfigError(`${kind}: cast must be a function`);
  }
  return source<T>(
    kind,
    options,
    async (e) => {
      const { rt, node } = e.ctx;
      rt.count(node, 'rows', 0);
      // Records as arrays (csv-parse builds objects ~3× slower, with a defineProperty per field);
      // the first record is the header row, and csv-parse checks every row's length against it.
      const parser = parse({
        delimiter,
        bom: true,
        skip_empty_lines: true,
        skip_records_with_error: true,
      });
      const head = { broken: false };
      parser.on('skip', (err: CsvError | undefined) => {
        if (parser.info.records === 0) head.broken = true;
        else rt.count(node, reasonOf(err), 1);
      });
      const input = await openForReading(kind, path);
      input.on('error', (err) => parser.destroy(fileError(kind, path, err)));
      input.pipe(parser);
      /** Kept columns: their names and their positions in a record. */
      let names: readonly string[] | undefined;
      let at: readonly number[] = [];
      let plain = true;
      const header = (h: readonly string[]) => {
        if (head.broken) throw new ConfigError(`${kind}: the header row of '${path}' is malformed`);
        if (new Set(h).size !== h.length) {
          throw new ConfigError(`${kind}: the header row of '${path}' names a column twice`);
        }
        const missing = want?.find((c) => !h.includes(c));
        if (missing !== undefined) {
          throw new ConfigError(`${kind}: '${path}' has no column '${missing}'`);
        }
        names = want === undefined ? h : h.filter((c) => want.includes(c));
        at = names.map((c) => h.indexOf(c));
        // A column named __proto__ must become a field, not the row's prototype.
        plain = !names.includes('__proto__');
      };
      let rows = 0;
      let badCast = 0;
      try {
        await consume(
          parser,
          e,
          (x) => {
            const rec = x as string[];
            if (names === undefined) {
              header(rec);
              return;
            }
            const row: Record<string, unknown> = {};
            try {
              for (let j = 0; j < at.length; j++) {
                const c = names[j] as string;
                const raw = rec[at[j] as number] as string;
                const v = cast === undefined ? raw : cast(raw, c);
                if (plain) row[c] = v;
                else Object.defineProperty(row, c, { value: v, enumerable: true, writable: true });
              }
            } catch {
              badCast++;
              return;
            }
            rows++;
            // Strings: one shallow freeze. Cast values may be objects: `emit` deep-freezes them.
            e.emit((cast === undefined ? Object.freeze(row) : row) as T);
          },
          () => {
            rt.count(node, 'rows', rows);
            rows = 0;
            if (badCast > 0) rt.count(node, 'cast', badCast);
            badCast = 0;
          },
        );
      } finally {
        input.destroy();
      }
      if (head.broken && names === undefined) header([]);
    },
    true, // re-read, the file gives the same rows (if it has not changed)
  );
}
