import type { OperatorFunction } from '../stream.js';
import { release, type ReleaseOptions } from './release.js';

/**
 * Release data to a lower secrecy label (`to`, default public) through a declared policy, with
 * the privileges the pipeline's author gives it (t- for each secrecy tag removed; a key family
 * for per-key tags). The static check verifies the privileges; each release is audited.
 */
export function declassify<A, B = A>(options: ReleaseOptions): OperatorFunction<A, B> {
  return release('declassify', options) as OperatorFunction<A, B>;
}
