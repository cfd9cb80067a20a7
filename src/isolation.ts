/**
 * Sluice isolation: run a unit's code (source text) in-process under SES (tier 0), in a
 * worker thread with memory and CPU limits (tier 1), or in a child process (tier 2), behind
 * one protocol; the host does every label check.
 */
export {
  IsolationError,
  isolatedUnit,
  measure,
  type IsolatedUnit,
  type IsolatedUnitSpec,
  type IsolationLimits,
  type Tier,
} from './isolation/isolated-unit.js';
export type { EndReason } from './isolation/remote-guest.js';
export type { InRecord, OutRecord, PartLabelRequest } from './isolation/protocol.js';
