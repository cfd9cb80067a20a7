import { MalformedInputError } from '../errors.js';

/** Keys are 1–1024 UTF-16 units of well-formed Unicode without NUL. */
export const MAX_KEY_LENGTH = 1024;

function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed() && !s.includes('\u0000');
}

/** Throw a clear error (that never repeats the key) unless `k` is a valid key. */
export function assertKey(k: unknown, what = 'key'): string {
  if (typeof k !== 'string') {
    throw new MalformedInputError(`a store ${what} must be a string`, 'E_STORE_KEY');
  }
  if (k.length === 0 || k.length > MAX_KEY_LENGTH) {
    throw new MalformedInputError(
      `a store ${what} is 1-${MAX_KEY_LENGTH} characters long`,
      'E_STORE_KEY',
    );
  }
  if (!wellFormed(k)) {
    throw new MalformedInputError(
      `a store ${what} must be well-formed Unicode without NUL`,
      'E_STORE_KEY',
    );
  }
  return k;
}

/** A scan prefix: like a key, but may be empty. */
export function assertPrefix(p: unknown): string {
  if (p === '') return p;
  return assertKey(p, 'prefix');
}

/**
 * Key order of every backend: Unicode code point order (what SQLite's BINARY and PostgreSQL's
 * "C" collation give for UTF-8), not JavaScript's UTF-16 code unit order.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const x = a.charCodeAt(k);
    const y = b.charCodeAt(k);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF: they sort after 0xE000–0xFFFF.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
