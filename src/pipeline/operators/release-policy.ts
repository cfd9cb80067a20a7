import { ConfigError } from '../../errors.js';

/**
 * A release policy: the only way data leaves a declassifier or an endorser. `release` returns
 * the value to release, or undefined to release nothing. `describe` goes into the audit log.
 */
export interface ReleasePolicy<A = unknown, B = unknown> {
  readonly describe: string;
  release(value: A, key: string | number | undefined): B | undefined;
}

/** Release only aggregates over at least `k` records (`countOf` reads the record count). */
export function minRecords<A>(k: number, countOf: (value: A) => number): ReleasePolicy<A, A> {
  if (!Number.isInteger(k) || k < 1) throw new ConfigError('minRecords: k must be an integer ≥ 1');
  if (typeof countOf !== 'function') throw new ConfigError('minRecords: countOf is a function');
  return {
    describe: `only aggregates over ≥ ${String(k)} records`,
    release: (v) => {
      const n = countOf(v);
      return typeof n === 'number' && n >= k ? v : undefined;
    },
  };
}

/** Release only the named fields of an object value. */
export function onlyFields<A extends object, K extends keyof A & string>(
  ...fields: K[]
): ReleasePolicy<A, Pick<A, K>> {
  if (fields.length === 0 || fields.some((f) => typeof f !== 'string')) {
    throw new ConfigError('onlyFields: give one or more field names');
  }
  return {
    describe: `only fields ${fields.join(', ')}`,
    release: (v) => {
      if (typeof v !== 'object' || (v as unknown) === null) return undefined;
      const out = {} as Pick<A, K>;
      for (const f of fields) {
        if (Object.hasOwn(v, f)) out[f] = v[f];
      }
      return out;
    },
  };
}

/** Apply policies in order; release only if every one releases. */
export function allOf(policies: readonly ReleasePolicy[]): ReleasePolicy {
  if (policies.length === 0) throw new ConfigError('a release needs at least one policy');
  for (const p of policies) {
    if (
      typeof p !== 'object' ||
      typeof p.release !== 'function' ||
      typeof p.describe !== 'string'
    ) {
      throw new ConfigError('a release policy has describe (string) and release (function)');
    }
  }
  if (policies.length === 1) return policies[0] as ReleasePolicy;
  return {
    describe: policies.map((p) => p.describe).join('; '),
    release: (v, k) => {
      let x: unknown = v;
      for (const p of policies) {
        x = p.release(x, k);
        if (x === undefined) return undefined;
      }
      return x;
    },
  };
}
