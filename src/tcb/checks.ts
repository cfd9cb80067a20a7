import { integrityOfTCB, secrecyOfTCB, type Label } from './label.js';
import type { PrivilegeSet } from './privilege.js';

/** Every element of sorted `a` that is not in sorted `b` is in sorted `have`. No allocation. */
function differenceCovered(a: Int32Array, b: Int32Array, have: Int32Array): boolean {
  let j = 0;
  let h = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as number;
    while (j < b.length && (b[j] as number) < x) j++;
    if (j < b.length && b[j] === x) continue;
    while (h < have.length && (have[h] as number) < x) h++;
    if (h === have.length || have[h] !== x) return false;
  }
  return true;
}

/**
 * Write rule: a holder at `from` with privileges `p` may produce data at `to` iff from ⊑ to, or
 * p covers the difference (t- for each secrecy tag dropped, t+ for each integrity tag added).
 */
export function canWrite(from: Label, p: PrivilegeSet, to: Label): boolean {
  if (from === to || from.flowsTo(to)) return true;
  return (
    differenceCovered(secrecyOfTCB(from), secrecyOfTCB(to), p.minusTCB()) &&
    differenceCovered(integrityOfTCB(to), integrityOfTCB(from), p.plusTCB())
  );
}

/**
 * Label change rule: from `from` to `to` needs t+ for every tag added (to S or I) and t- for
 * every tag removed (from S or I). Reading never changes a label; only this explicit step does.
 */
export function canChangeLabel(from: Label, p: PrivilegeSet, to: Label): boolean {
  if (from === to) return true;
  const plus = p.plusTCB();
  const minus = p.minusTCB();
  const fs = secrecyOfTCB(from);
  const ts = secrecyOfTCB(to);
  const fi = integrityOfTCB(from);
  const ti = integrityOfTCB(to);
  return (
    differenceCovered(ts, fs, plus) &&
    differenceCovered(fs, ts, minus) &&
    differenceCovered(ti, fi, plus) &&
    differenceCovered(fi, ti, minus)
  );
}
