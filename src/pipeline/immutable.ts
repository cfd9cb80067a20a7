/**
 * No mutable state is shared across a label boundary (DESIGN.md §1): an operator at a higher
 * label that mutated a value its producer (or a sibling consumer) still holds would write down.
 * So the pipeline deep-freezes a value wherever it crosses from one label to another (a raise
 * into a keyed instance, a sink or operator above its input, per-value source labels, a release)
 * and wherever it fans out to several consumers. Along an edge between instances at the same
 * label, sharing cannot leak, and the value passes untouched (freezing costs ≈ 100 ns/object).
 * Primitives cost one `typeof`.
 */
export function immutable<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v, 0);
  return v;
}

/**
 * Freeze `o` and every object reachable through its own string-keyed properties. Reads values
 * with `o[k]` (not descriptors: 3× faster on the hot path), so an accessor's result is frozen
 * when read, and a nested object under a symbol key is left as is: sealing hostile code's
 * objects completely is the hardened tier's job (`harden()` in tier 0, issue #5).
 */
function deepFreeze(o: object, depth: number): void {
  Object.freeze(o);
  if (depth > 64) return;
  const names = Object.getOwnPropertyNames(o);
  for (let i = 0; i < names.length; i++) {
    const x: unknown = (o as Record<string, unknown>)[names[i] as string];
    if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) deepFreeze(x, depth + 1);
  }
}
