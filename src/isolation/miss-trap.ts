/**
 * The not-found probe: counts lookups of part names a probed unit was not given, by
 * `ev.get(name)` or through `ev.parts` (for probed units, a proxy over the frozen parts object
 * whose `get` and `has` count names that are not there). Only the count is kept: never which name (a name the code chose
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

/** The handler of a probed unit's `parts` proxy (its target is the frozen parts object). */
export const MISS_HANDLER: ProxyHandler<Record<string, unknown>> = Object.freeze({
  get(t: Record<string, unknown>, key: string | symbol): unknown {
    // A part's value is never undefined: a hit costs one lookup.
    const v: unknown = Reflect.get(t, key);
    if (v === undefined && typeof key === 'string' && !Object.hasOwn(t, key)) count++;
    return v;
  },
  has(t: Record<string, unknown>, key: string | symbol): boolean {
    const found = Reflect.has(t, key);
    if (typeof key === 'string' && !found) count++;
    return found;
  },
});
