/**
 * The trusted core (DESIGN.md §1–§2). Importable only by the files allowlisted in
 * eslint.config.js; not part of the package's public exports.
 */
export { canChangeLabel, canWrite } from './checks.js';
export {
  FlowViolationError,
  InsufficientPrivilegeError,
  MalformedInputError,
  SluiceError,
} from './errors.js';
export { Label, type LabelSpec } from './label.js';
export {
  LabelledPart,
  partLabelTCB,
  partNameTCB,
  readPartTCB,
  writeOwnPart,
  writePart,
  type PartValue,
} from './part.js';
export {
  Privilege,
  PrivilegeSet,
  createTagTCB,
  deriveTagWithPrivilegesTCB,
  type PrivilegeKind,
} from './privilege.js';
export { Tag } from './tag.js';
