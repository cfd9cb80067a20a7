import { SluiceError } from '../../errors.js';

/**
 * A CSV input file that cannot be used: missing or unreadable (`E_INPUT_NOT_FOUND`,
 * `E_INPUT_UNREADABLE`), empty (`E_INPUT_EMPTY`), not in the ASA schema (`E_CSV_HEADER`),
 * or with a line too long to be a row (`E_CSV_LINE_TOO_LONG`). Messages name the file and
 * the schema's columns, never a row's values.
 */
export class CsvInputError extends SluiceError {}

/** Map an fs error on `path` to a CsvInputError with a plain message. */
export function fileError(path: string, err: unknown): CsvInputError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new CsvInputError('E_INPUT_NOT_FOUND', `no such file: ${path}`);
  if (code === 'EISDIR') {
    return new CsvInputError('E_INPUT_UNREADABLE', `is a directory, not a CSV file: ${path}`);
  }
  const why = typeof code === 'string' ? code : 'read error';
  return new CsvInputError('E_INPUT_UNREADABLE', `cannot read ${path} (${why})`);
}
