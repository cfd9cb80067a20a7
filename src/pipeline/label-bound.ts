import type { Label } from '../labels.js';
import type { KeyFamily } from './key-family.js';

/**
 * What the static check knows about the label of a stream: a fixed part (`base`) and, in a keyed
 * section, the key families whose per-key tag every notification also carries. A keyed stream's
 * notification for key k has label base ⊔ f₁.label(k) ⊔ … for its families fᵢ.
 */
export class LabelBound {
  readonly base: Label;
  readonly families: readonly KeyFamily[];

  constructor(base: Label, families: readonly KeyFamily[] = []) {
    this.base = base;
    this.families = Object.freeze([...families]);
    Object.freeze(this);
  }

  get keyed(): boolean {
    return this.families.length > 0;
  }

  join(o: LabelBound): LabelBound {
    const fam = [...this.families];
    for (const f of o.families) if (!fam.includes(f)) fam.push(f);
    return new LabelBound(this.base.join(o.base), fam);
  }

  /** Every notification of this bound may flow to every one of `o` for the same key. */
  flowsTo(o: LabelBound): boolean {
    return this.base.flowsTo(o.base) && this.families.every((f) => o.families.includes(f));
  }

  toString(): string {
    if (this.families.length === 0) return this.base.toString();
    return `${this.base.toString()} ⊔ ${this.families.map((f) => f.toString()).join(' ⊔ ')}`;
  }
}
