/**
 * The label an invocation runs at: the principal's clearance, or a lower label the request asks
 * for with the `sluice-label` header (`s=tag,tag; i=tag`). Fixed before the handler runs, from
 * the principal and the request only, never from data.
 */
import type { TagGrant } from '../engine/engine.js';
import { Label, type Tag } from '../labels.js';
import type { Principal } from './principals.js';

export const LABEL_HEADER = 'sluice-label';

/**
 * The invocation label for `principal` given the header's value (undefined: the clearance), or
 * undefined if the request may not run at the label it asks for. A requested label must flow to
 * the clearance (so what the handler returns can reach the principal); integrity tags beyond the
 * clearance's need the principal's `t+` (asking for them is endorsing). Unknown tag names and
 * labels outside the clearance are refused alike.
 */
export function invocationLabel(
  principal: Principal,
  header: string | undefined,
  tags: ReadonlyMap<string, TagGrant>,
): Label | undefined {
  if (header === undefined) return principal.clearance;
  const secrecy: Tag[] = [];
  const integrity: Tag[] = [];
  const seen = new Set<string>();
  for (const raw of header.split(';')) {
    const clause = raw.trim();
    if (clause === '') continue;
    const eq = clause.indexOf('=');
    const key = eq < 0 ? '' : clause.slice(0, eq).trim();
    if ((key !== 's' && key !== 'i') || seen.has(key)) return undefined;
    seen.add(key);
    const into = key === 's' ? secrecy : integrity;
    for (const n of clause.slice(eq + 1).split(',')) {
      const name = n.trim();
      if (name === '') continue;
      const g = tags.get(name);
      if (g === undefined) return undefined;
      into.push(g.tag);
    }
  }
  const requested = Label.of({ secrecy, integrity });
  if (!requested.flowsTo(principal.clearance)) return undefined;
  const extra = Label.integrity(...principal.clearance.integrity);
  if (!principal.authority.mayRelabel(extra, Label.integrity(...integrity))) return undefined;
  return requested;
}

/** Distinct `sluice-label` values remembered per principal (then the memo starts afresh). */
const MEMO_LIMIT = 64;
/** Longest `sluice-label` value considered (a longer one is refused like any bad label). */
export const LABEL_HEADER_LIMIT = 1024;

/**
 * `invocationLabel` memoized per (principal, header value): the answer is a pure function of the
 * two (tags and principals are fixed when the gateway starts), so a repeated header is not parsed
 * again. A refusal is remembered as `null` and refused again.
 */
export class InvocationLabels {
  readonly #tags: ReadonlyMap<string, TagGrant>;
  readonly #memo = new WeakMap<Principal, Map<string, Label | null>>();

  constructor(tags: ReadonlyMap<string, TagGrant>) {
    this.#tags = tags;
  }

  labelFor(principal: Principal, header: string | undefined): Label | undefined {
    if (header === undefined) return principal.clearance;
    if (header.length > LABEL_HEADER_LIMIT) return undefined;
    let m = this.#memo.get(principal);
    if (m === undefined) this.#memo.set(principal, (m = new Map<string, Label | null>()));
    const hit = m.get(header);
    if (hit !== undefined) return hit ?? undefined;
    const label = invocationLabel(principal, header, this.#tags);
    if (m.size >= MEMO_LIMIT) m.clear();
    m.set(header, label ?? null);
    return label;
  }
}
