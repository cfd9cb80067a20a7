/**
 * Errors of the trusted core. Messages name operations, part names chosen by the caller
 * and labels; never a labelled value (DESIGN.md §3).
 */
export class SluiceError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Data would flow to a label it may not reach (write below the writer's label, output to a lower sink). */
export class FlowViolationError extends SluiceError {
  constructor(message: string) {
    super('E_FLOW', message);
  }
}

/** An operation needs a privilege (t+, t-, t+auth, t-auth) the caller does not hold. */
export class InsufficientPrivilegeError extends SluiceError {
  constructor(message: string) {
    super('E_PRIVILEGE', message);
  }
}

/** Malformed input: a label, tag, part name or value that the core refuses. */
export class MalformedInputError extends SluiceError {
  constructor(message: string, code = 'E_MALFORMED') {
    super(code, message);
  }
}

// Frozen so that unit code cannot patch `instanceof` (the engine audits refusals by class).
for (const C of [
  SluiceError,
  FlowViolationError,
  InsufficientPrivilegeError,
  MalformedInputError,
]) {
  Object.freeze(C.prototype);
  Object.freeze(C);
}
