import { ConfigError } from '../../errors.js';
import { source, type SourceOptions } from '../source.js';
import type { Stream } from '../stream.js';
import { checkPath, consume, fileError, openForReading } from './read-file.js';

export interface NdjsonSourceOptions<T> extends SourceOptions<T> {
  /** Longer lines are skipped (counted under `too-long`) without being held in memory whole.
   * Default 16 M characters. */
  readonly maxLineLength?: number;
}

/**
 * A stream of the values of an NDJSON file (one JSON value per line), read from disk as it is
 * consumed. Values are deeply frozen. Lines that are not valid JSON are skipped and counted
 * (`RunReport.sources[name].reasons.json`); blank lines are ignored; an empty file is a stream
 * of no values. A file that cannot be read fails the source (the run's report names the path).
 */
export function fromNdjson<T = unknown>(
  path: string,
  options: NdjsonSourceOptions<T> = {},
): Stream<T> {
  const kind = 'fromNdjson';
  checkPath(kind, path);
  const max = (options as Partial<NdjsonSourceOptions<T>>).maxLineLength ?? 1 << 24;
  if (!Number.isInteger(max) || max < 1) {
    throw new ConfigError(`${kind}: maxLineLength must be a positive integer`);
  }
  return source<T>(
    kind,
    options,
    async (e) => {
      const { rt, node } = e.ctx;
      rt.count(node, 'rows', 0);
      const input = await openForReading(kind, path);
      input.setEncoding('utf8');
      let rows = 0;
      let bad = 0;
      let tooLong = 0;
      // Text of the current line so far; `dropping`: inside a line that is too long.
      const cur = { rest: '', dropping: false };
      const line = (text: string) => {
        const t = text.trim();
        if (t.length === 0) return;
        let v: unknown;
        try {
          v = JSON.parse(t);
        } catch {
          bad++;
          return;
        }
        rows++;
        e.emit(v as T);
      };
      const each = (x: unknown) => {
        const chunk = x as string;
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf('\n', start);
          if (nl === -1) {
            if (!cur.dropping) cur.rest += chunk.slice(start);
            if (cur.rest.length > max) {
              cur.dropping = true;
              cur.rest = '';
              tooLong++;
            }
            return;
          }
          if (cur.dropping) cur.dropping = false;
          else
            line(
              cur.rest.length === 0 ? chunk.slice(start, nl) : cur.rest + chunk.slice(start, nl),
            );
          cur.rest = '';
          start = nl + 1;
        }
      };
      const counts = () => {
        rt.count(node, 'rows', rows);
        if (bad > 0) rt.count(node, 'json', bad);
        if (tooLong > 0) rt.count(node, 'too-long', tooLong);
        rows = bad = tooLong = 0;
      };
      try {
        await consume(input, e, each, counts);
      } catch (err) {
        throw fileError(kind, path, err);
      }
      if (!e.stopped && !cur.dropping) {
        line(cur.rest);
        counts();
      }
    },
    true, // re-read, the file gives the same rows (if it has not changed)
  );
}
