/** Sluice's errors: one base with a `code`; messages never include labelled values. */
export {
  FlowViolationError,
  InsufficientPrivilegeError,
  MalformedInputError,
  SluiceError,
} from './tcb/index.js';
import { SluiceError } from './tcb/index.js';

/** The engine's dispatch queue is full and a producer ignored `publish() === false`. */
export class OverloadError extends SluiceError {
  constructor(message: string) {
    super('E_OVERLOAD', message);
  }
}

/** A configuration (engine options, unit spec, sink) is invalid. */
export class ConfigError extends SluiceError {
  constructor(message: string) {
    super('E_CONFIG', message);
  }
}
