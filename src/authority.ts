/**
 * An authority: a holder of genuine privileges that answers whether they permit relabelling
 * data, without ever handing the privileges back out. The pipeline layer's declassifiers and
 * endorsers hold one; it is the safe face of the trusted core's write rule (DESIGN.md §1).
 */
import { ConfigError } from './errors.js';
import { canWrite, PrivilegeSet, type Label, type Privilege } from './tcb/index.js';

function toSet(privileges: unknown, base: PrivilegeSet): PrivilegeSet {
  if (
    typeof privileges !== 'object' ||
    privileges === null ||
    typeof (privileges as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    throw new ConfigError('privileges must be an iterable of Privilege objects');
  }
  // withAll refuses anything that is not a genuine Privilege (forged, cloned, proxied).
  return base.withAll(privileges as Iterable<unknown>);
}

export class Authority {
  #p: PrivilegeSet;

  constructor(privileges: Iterable<Privilege>) {
    this.#p = toSet(privileges, PrivilegeSet.empty);
  }

  /** The same privileges plus `more` (e.g. the privilege on one key's tag). */
  with(more: Iterable<Privilege>): Authority {
    const a = new Authority([]);
    a.#p = toSet(more, this.#p);
    return a;
  }

  /** May data at `from` be re-labelled `to` by this authority (write rule with privileges)? */
  mayRelabel(from: Label, to: Label): boolean {
    return canWrite(from, this.#p, to);
  }

  /** The privileges by name, for messages and the audit log (e.g. `carrier:AA#1a2b-`). */
  describe(): string[] {
    return this.#p.describe();
  }
}
Object.freeze(Authority.prototype);
Object.freeze(Authority);
