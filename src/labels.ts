/** The public face of the trusted core: tags, labels and privileges (no unwrap, no minting). */
export {
  Label,
  Privilege,
  Tag,
  type LabelSpec,
  type PartValue,
  type PrivilegeKind,
} from './tcb/index.js';
