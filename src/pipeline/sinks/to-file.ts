import { createWriteStream, type WriteStream } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { ConfigError } from '../../errors.js';
import type { InstanceContext } from '../node.js';
import { NO_KEY } from '../receiver.js';
import type { Runtime } from '../runtime.js';
import { SinkBase, sinkNode, type SinkDef, type SinkInfo, type SinkOptions } from '../sink.js';

export interface FileSinkOptions extends SinkOptions {
  /** `ndjson` (default): one JSON value per line. `csv`: objects as rows, with a header row. */
  readonly format?: 'ndjson' | 'csv';
  /** CSV: the columns, in order (default: the keys of the first row). */
  readonly columns?: readonly string[];
}

/** A file's path, or with `perKey` the path of one key's file. */
export type FilePath = string | ((key: string | number) => string);

/** Text buffered before one write to the file (NDJSON), and rows per CSV batch. */
const FLUSH_CHARS = 1 << 16;
const CSV_BATCH = 1024;

const CSV_CAST = { boolean: (b: boolean) => String(b) };

/** One output file: encodes values, writes in batches, reports backpressure to the run. */
class FileOut {
  readonly closed: Promise<void>;
  readonly #ws: WriteStream;
  readonly #rt: Runtime;
  readonly #csv: boolean;
  #columns: readonly string[] | undefined;
  #text = '';
  #rows: unknown[][] = [];
  #waiting = false;
  #failed = false;
  #ending = false;

  constructor(path: string, sink: FileSink, o: FileSinkOptions) {
    this.#rt = sink.runtime;
    this.#csv = o.format === 'csv';
    this.#columns = o.columns;
    this.#ws = createWriteStream(path);
    this.closed = new Promise((resolve) => this.#ws.once('close', resolve));
    this.#rt.closing(this.closed);
    this.#ws.once('error', (err) => {
      this.#failed = true;
      this.#text = '';
      this.#rows = [];
      const code = (err as { code?: unknown }).code;
      sink.failure(
        new ConfigError(
          `toFile: cannot write '${path}': ${typeof code === 'string' ? code : 'write error'}`,
        ),
      );
      this.#idle();
    });
    if (this.#csv && this.#columns !== undefined) this.#header(this.#columns);
  }

  add(v: unknown): void {
    if (this.#failed || this.#ending) return;
    if (!this.#csv) {
      // JSON.stringify(undefined) is undefined: written as null, so every value is one line.
      const json = JSON.stringify(v) as string | undefined;
      this.#text += `${json ?? 'null'}\n`;
      if (this.#text.length >= FLUSH_CHARS) this.#flush();
      return;
    }
    if (typeof v !== 'object' || v === null) {
      throw new ConfigError('toFile: a CSV row must be an object');
    }
    const row = v as Record<string, unknown>;
    if (this.#columns === undefined) this.#header((this.#columns = Object.keys(row)));
    this.#rows.push(this.#columns.map((c) => (Object.hasOwn(row, c) ? row[c] : undefined)));
    if (this.#rows.length >= CSV_BATCH) this.#flush();
  }

  #header(columns: readonly string[]): void {
    this.#text += stringify([[...columns]]);
  }

  #flush(): void {
    if (this.#rows.length > 0) {
      this.#text += stringify(this.#rows, { cast: CSV_CAST });
      this.#rows = [];
    }
    if (this.#text.length === 0 || this.#failed) return;
    const ok = this.#ws.write(this.#text);
    this.#text = '';
    if (ok || this.#waiting) return;
    this.#waiting = true;
    this.#rt.busy();
    this.#ws.once('drain', () => {
      this.#idle();
    });
  }

  #idle(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#rt.idle();
  }

  /** Write what is buffered, then close the file; `closed` resolves when it is on disk. */
  end(): void {
    if (this.#ending) return;
    this.#ending = true;
    try {
      this.#flush();
    } finally {
      this.#ws.end();
    }
  }
}

class FileSink extends SinkBase {
  readonly #path: FilePath;
  readonly #o: FileSinkOptions;
  readonly #one: FileOut | undefined;
  readonly #byKey = new Map<string | number, FileOut>();
  readonly #paths = new Set<string>();
  #closing = false;

  constructor(ctx: InstanceContext, path: FilePath, o: FileSinkOptions) {
    super(ctx);
    this.#path = path;
    this.#o = o;
    // Not per key: the file exists (maybe empty) even if nothing reaches the sink.
    if (typeof path === 'string') this.#one = new FileOut(path, this, o);
    void this.rt.whenStopped().then(() => {
      this.close();
    });
  }

  get runtime(): Runtime {
    return this.rt;
  }

  failure(err: Error): void {
    this.rt.fail(this.node, err, this.label, NO_KEY);
  }

  protected write(v: unknown, info: SinkInfo): void {
    if (this.#closing) return; // stopped: what sources push after the stop goes nowhere
    if (this.#one !== undefined) {
      this.#one.add(v);
      return;
    }
    const key = info.key as string | number;
    let out = this.#byKey.get(key);
    if (out === undefined) {
      const p = (this.#path as (k: string | number) => string)(key);
      if (typeof p !== 'string' || p.length === 0) {
        throw new ConfigError('toFile: the path function must return a non-empty string');
      }
      if (this.#paths.has(p)) throw new ConfigError(`toFile: two keys map to the file '${p}'`);
      this.#paths.add(p);
      out = new FileOut(p, this, this.#o);
      this.#byKey.set(key, out);
    }
    out.add(v);
  }

  /** Flush and close every file; the sink has ended only once they are all closed. */
  protected override close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const outs = this.#one === undefined ? [...this.#byKey.values()] : [this.#one];
    for (const out of outs) {
      try {
        out.end();
      } catch (e) {
        this.failure(e instanceof Error ? e : new Error('toFile: cannot encode a row'));
      }
    }
    void Promise.all(outs.map((o) => o.closed)).then(() => {
      this.ended();
    });
  }
}

/**
 * Write each value that may reach the clearance `options.label` to a file, streamed with
 * `fs.createWriteStream`: NDJSON (default) or CSV (`format: 'csv'`, quoted by the maintained
 * `csv-stringify`; the header row is `columns`, or the first row's keys). When the file cannot
 * keep up, sources wait (backpressure through the run). The sink ends, and the run's `done`
 * resolves, only after every file is flushed and closed.
 *
 * Per-key (`perKey: family`): `path` is a function `(key) => path` and each key's values go to
 * its own file, created when its first value arrives; a key's file only ever holds data cleared
 * for that key. Write errors (a missing directory, a full disk) fail the sink with a message
 * naming the file.
 */
export function toFile<T>(path: FilePath, options: FileSinkOptions = {}): SinkDef<T> {
  const o = options as Partial<FileSinkOptions>;
  const perKey = o.perKey !== undefined;
  if (perKey ? typeof path !== 'function' : typeof path !== 'string' || path.length === 0) {
    throw new ConfigError(
      perKey
        ? 'toFile: with perKey, path must be a function (key) => path'
        : 'toFile: path must be a non-empty string (a function needs perKey)',
    );
  }
  const format: unknown = o.format;
  if (format !== undefined && format !== 'ndjson' && format !== 'csv') {
    throw new ConfigError("toFile: format must be 'ndjson' or 'csv'");
  }
  const cols: unknown = o.columns;
  const csv = format === 'csv';
  if (cols !== undefined && !csv) throw new ConfigError("toFile: columns needs format 'csv'");
  if (
    cols !== undefined &&
    (!Array.isArray(cols) || cols.length === 0 || !cols.every((c) => typeof c === 'string'))
  ) {
    throw new ConfigError('toFile: columns must be a non-empty array of column names');
  }
  return sinkNode<T>('toFile', options, (ctx) => new FileSink(ctx, path, options));
}
