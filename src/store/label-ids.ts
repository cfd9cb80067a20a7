import type { Label } from '../labels.js';

/**
 * A label as stored by the SQL backends: its tag ids, sorted. Comparing ids (not Tag objects)
 * lets a store hold facets whose tags this process has never seen: a reader cannot hold such a
 * secrecy tag, so those facets stay hidden from it, and writers cannot erase integrity they lack.
 */
export interface LabelIds {
  readonly secrecy: readonly string[];
  readonly integrity: readonly string[];
  /** Canonical text: the stored form and the interning key. */
  readonly text: string;
}

const cache = new Map<Label, LabelIds>();

/** Labels are interned, so this cache holds one entry per distinct label the process used. */
export function labelIds(l: Label): LabelIds {
  let ids = cache.get(l);
  if (ids === undefined) {
    const j = l.toJSON();
    ids = parseLabelIds(
      JSON.stringify({ secrecy: j.secrecy.sort(), integrity: j.integrity.sort() }),
    );
    cache.set(l, ids);
  }
  return ids;
}

/** Parse a stored label text (written by labelIds). */
export function parseLabelIds(text: string): LabelIds {
  const o = JSON.parse(text) as { secrecy: string[]; integrity: string[] };
  return Object.freeze({
    secrecy: Object.freeze(o.secrecy),
    integrity: Object.freeze(o.integrity),
    text,
  });
}

/** Is sorted `a` a subset of sorted `b`? */
function subset(a: readonly string[], b: readonly string[]): boolean {
  let j = 0;
  for (const x of a) {
    while (j < b.length && (b[j] as string) < x) j++;
    if (j === b.length || b[j] !== x) return false;
    j++;
  }
  return true;
}

/** ⊑ over tag ids: S(from) ⊆ S(to) and I(from) ⊇ I(to). */
export function idsFlowTo(from: LabelIds, to: LabelIds): boolean {
  return from === to || (subset(from.secrecy, to.secrecy) && subset(to.integrity, from.integrity));
}
