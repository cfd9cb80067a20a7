/**
 * A unit's code as a spec gives it: checked before anything starts (a refused ES module throws
 * ModuleRefusedError, and no guest is started), measured, and turned into what starts a guest.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { moduleToScript, type UnitFormat } from './module-source.js';
import type { GuestInit } from './protocol.js';

export interface UnitCode {
  /** The unit's code: a script body whose only global is `unit`, or an ES module (`format`). */
  readonly source: string;
  /** `'script'` (default) or `'module'`: an ES module whose `export default` receives `unit`. */
  readonly format?: UnitFormat;
  /** Deterministic mode: logical `Date.now()`, seeded `Math.random()`. Default false. */
  readonly deterministic?: boolean;
  readonly seed?: number;
}

/** `sha256:<hex>` of a unit's source, as given (a module's own text): its measurement. */
export function measure(source: string): string {
  return `sha256:${createHash('sha256').update(source, 'utf8').digest('hex')}`;
}

/** What starts the unit's guest; throws ConfigError or ModuleRefusedError. */
export function guestInit(code: UnitCode): GuestInit {
  if (typeof code.source !== 'string') throw new ConfigError('source must be a string');
  const format: unknown = code.format ?? 'script';
  if (format !== 'script' && format !== 'module')
    throw new ConfigError("format must be 'script' or 'module'");
  // The guest checks again where it runs (guest.ts); this check gives the caller the error.
  if (format === 'module') moduleToScript(code.source);
  return {
    source: code.source,
    ...(format === 'module' ? { format } : {}),
    deterministic: code.deterministic ?? false,
    seed: code.seed ?? 1,
  };
}
