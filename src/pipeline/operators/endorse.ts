import type { OperatorFunction } from '../stream.js';
import { release, type ReleaseOptions } from './release.js';

/**
 * Vouch for data: release it at a label with more integrity (`to`), through a declared policy,
 * with t+ for each integrity tag added. Each endorsement is audited.
 */
export function endorse<A, B = A>(
  options: ReleaseOptions & { readonly to: ReleaseOptions['to'] },
): OperatorFunction<A, B> {
  return release('endorse', options) as OperatorFunction<A, B>;
}
