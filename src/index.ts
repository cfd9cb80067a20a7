/**
 * Sluice: information-flow-controlled event stream processing.
 * The public API of the engine: labels, units, events, sinks, the audit log, errors.
 */
export {
  Label,
  Privilege,
  Tag,
  type LabelSpec,
  type PartValue,
  type PrivilegeKind,
} from './labels.js';
export {
  ConfigError,
  FlowViolationError,
  InsufficientPrivilegeError,
  MalformedInputError,
  OverloadError,
  SluiceError,
} from './errors.js';
export { Engine, type EngineOptions, type TagGrant, type UnitSpec } from './engine/engine.js';
export { Event, EventView } from './engine/event.js';
export {
  Subscription,
  UnitContext,
  type Filter,
  type Handler,
  type PublishOptions,
} from './engine/unit-context.js';
export { Sink, type SinkRecord } from './engine/sink.js';
export {
  AuditLog,
  type AuditEntry,
  type AuditKind,
  type AuditLogOptions,
  type AuditSink,
} from './engine/audit-log.js';
