import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ConfigError } from '../../errors.js';

/** Bytes read from disk at a time. */
const READ_CHUNK = 1 << 16;

/** An I/O error as a clear message naming the file (its code, never its content). */
export function fileError(kind: string, path: string, err: unknown): ConfigError {
  const code = (err as { code?: unknown } | null)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : typeof code === 'string'
            ? code
            : 'read error';
  return new ConfigError(`${kind}: cannot read '${path}': ${why}`);
}

/** Check a file path option at build time. */
export function checkPath(kind: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ConfigError(`${kind}: path must be a non-empty string`);
  }
  return path;
}

/** Open `path` as a byte stream read in 64 KB chunks, or throw an error naming the path. */
export async function openForReading(kind: string, path: string): Promise<Readable> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(kind, path, err);
  }
  return fh.createReadStream({ highWaterMark: READ_CHUNK });
}

/**
 * Pull everything `r` has buffered, synchronously, into `each`; between batches stop if the run
 * stopped and wait while a sink is full (so the file is read no faster than it is consumed).
 * One promise per batch, never per row. Resolves at the end of `r`, rejects on its error.
 */
export async function consume(
  r: Readable,
  e: { readonly stopped: boolean; pause(): Promise<void> },
  each: (chunk: unknown) => void,
  afterBatch: () => void,
): Promise<void> {
  const s: { signal: boolean; ended: boolean; failed: boolean; err: unknown } = {
    signal: false,
    ended: false,
    failed: false,
    err: undefined,
  };
  const signalled = () => s.signal;
  let wake: (() => void) | undefined;
  const poke = () => {
    s.signal = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  r.on('readable', poke);
  r.on('end', () => {
    s.ended = true;
    poke();
  });
  r.on('error', (err) => {
    s.failed = true;
    s.err = err;
    poke();
  });
  try {
    for (;;) {
      s.signal = false;
      let x: unknown;
      while (!s.failed && (x = r.read()) !== null) each(x);
      afterBatch();
      if (s.failed) throw s.err;
      if (s.ended || e.stopped) return;
      await e.pause();
      if (!signalled()) await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    r.destroy();
  }
}
