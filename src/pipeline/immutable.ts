/**
 * Values that travel between operators are deeply immutable (DESIGN.md §1: never shared mutable
 * state): an operator at a higher label that mutated a value its producer still holds would
 * write down. Primitives cost one `typeof`; objects are frozen once, where they are made.
 */
export function immutable<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v, 0);
  return v;
}

function deepFreeze(o: object, depth: number): void {
  if (depth > 64) return;
  Object.freeze(o);
  for (const k of Reflect.ownKeys(o)) {
    const d = Reflect.getOwnPropertyDescriptor(o, k);
    const x: unknown = d?.value;
    if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) deepFreeze(x, depth + 1);
  }
}
