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

  /** Every problem a schema check (zod) found, one per line with its path (`a.b[0]`). */
  static fromIssues(
    source: string,
    issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  ): ConfigError {
    const lines = issues.map((i) => `  ${pathOf(i.path)}: ${i.message}`);
    return new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
  }
}

function pathOf(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${String(p)}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s === '' ? '(root)' : s;
}
