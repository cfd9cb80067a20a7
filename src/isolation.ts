/**
 * Sluice isolation: run a unit's code (a script, or an ES module with no imports) in-process under SES (tier 0), in a
 * worker thread with memory and CPU limits (tier 1), or in a child process (tier 2), behind
 * one protocol; the host does every label check.
 */
export {
  IsolationError,
  isolatedUnit,
  type IsolatedUnit,
  type IsolatedUnitSpec,
  type IsolationLimits,
  type Tier,
} from './isolation/isolated-unit.js';
export { pipe, type Pipe } from './isolation/pipe.js';
export { measure, type UnitCode } from './isolation/unit-code.js';
export { ModuleRefusedError, type UnitFormat } from './isolation/module-source.js';
export type { EndReason } from './isolation/remote-guest.js';
export type { InRecord, OutRecord, PartLabelRequest } from './isolation/protocol.js';
export { Agent, type AgentAction } from './isolation/agent.js';
export {
  ManagedUnit,
  managedUnit,
  type ManagedUnitSpec,
  type MigrationRecord,
} from './isolation/managed-unit.js';
export {
  DEFAULT_POLICY,
  loadPolicy,
  parsePolicy,
  type Policy,
  type PolicyAction,
  type PolicyInput,
  type PolicyRule,
} from './isolation/policy.js';
export { PROBE_NAMES, type ProbeName, type ProbeValues } from './isolation/probes.js';
export type { StateSnapshot } from './isolation/protocol.js';
export type { ManagedTier } from './isolation/unit-backend.js';
export {
  childProcessTransport,
  loopbackTransport,
  type RemoteTransport,
  type TransportEnd,
  type TransportFactory,
} from './isolation/tier3-transport.js';
