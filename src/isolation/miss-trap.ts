/**
 * The not-found probe: counts lookups of part names a probed unit was not given, by
 * `ev.get(name)` or through `ev.parts` (whose prototype, for probed units, is MISS_PROTO: a
 * frozen proxy that answers every name as absent and counts it; own parts never reach it, so
 * found reads cost nothing). Only the count is kept: never which name (a name the code chose
 * could carry data), and it cannot tell a part hidden by labels from one that never existed
 * (neither can the unit).
 *
 * One counter per realm; the backend delivering an event swaps it (swapMisses) around the
 * handler, so lookups made in a delivery nested inside another (tier 0's depth-first dispatch)
 * count for the inner unit only.
 */
let count = 0;

/** One lookup found nothing. */
export function miss(): void {
  count++;
}

/** Set the counter to `n`; returns what it was. */
export function swapMisses(n: number): number {
  const c = count;
  count = n;
  return c;
}

export const MISS_PROTO: object = new Proxy(Object.freeze(Object.create(null) as object), {
  get(_t, key) {
    if (typeof key === 'string') count++;
    return undefined;
  },
  has(_t, key) {
    if (typeof key === 'string') count++;
    return false;
  },
  set() {
    return false;
  },
});
