import { MalformedInputError } from '../errors.js';

/**
 * No mutable state is shared across a label boundary (DESIGN.md §1): an operator at a higher
 * label that mutated a value its producer (or a sibling consumer) still holds would write down.
 * So the pipeline deep-freezes a value wherever it crosses from one label to another (a raise
 * into a keyed instance, a sink or operator above its input, per-value source labels, a release)
 * and wherever it fans out to several consumers. Along an edge between instances at the same
 * label, sharing cannot leak, and the value passes untouched (freezing costs ≈ 100 ns/object).
 * Primitives cost one `typeof`.
 *
 * `Object.isFrozen` says nothing about what an object holds (`Object.freeze({ inner: {} })` is
 * frozen, its `inner` is not), so a frozen value is walked too; values with nested objects that
 * were deep-frozen here are remembered (a WeakSet) and cost one lookup the next time. Throws (a
 * MalformedInputError, or whatever a proxy's trap throws) when the value cannot be made
 * immutable: callers turn that into an error at the value's label.
 */
export function immutable<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !(Object.isFrozen(v) && deep.has(v))) deepFreeze(v);
  return v;
}

const deep = new WeakSet<object>();

/**
 * Freeze `root` and every object reachable through its own properties (string and symbol keys),
 * at any depth, cycles included. Reads values with `o[k]` (not descriptors: 3× faster on the hot
 * path), so an accessor's result is frozen when read; an accessor that makes a new object each
 * time is code, and sealing hostile code is the hardened tier's job (issue #5). Symbol keys cost
 * ≈ 130 ns per object on this machine (`getOwnPropertySymbols`), about a freeze; they are
 * walked anyway, because an object under a symbol key is as shared as any other, and only
 * objects not yet known deep-frozen pay it. `root` is remembered as deep-frozen only when the
 * whole walk succeeded.
 */
function deepFreeze(root: object): void {
  let todo: object[] | undefined;
  let seen: Set<object> | undefined;
  let o = root;
  for (;;) {
    refuseMutableBuiltins(o);
    Object.freeze(o);
    const names = Object.getOwnPropertyNames(o);
    const symbols = Object.getOwnPropertySymbols(o);
    const n = names.length;
    for (let i = 0, end = n + symbols.length; i < end; i++) {
      const x: unknown =
        i < n
          ? (o as Record<string, unknown>)[names[i] as string]
          : (o as Record<symbol, unknown>)[symbols[i - n] as symbol];
      if (typeof x !== 'object' || x === null || deep.has(x)) continue;
      seen ??= new Set([root]);
      if (seen.has(x)) continue;
      seen.add(x);
      (todo ??= []).push(x);
    }
    const next = todo?.pop();
    if (next === undefined) break;
    o = next;
  }
  if (seen !== undefined) deep.add(root);
}

/** Built-ins whose contents live in internal slots: freezing them leaves them mutable (a frozen
 * Map still takes `set`, a frozen Date `setTime`; a typed array cannot be frozen at all). */
function refuseMutableBuiltins(o: object): void {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === Array.prototype || proto === null) return;
  if (
    ArrayBuffer.isView(o) ||
    o instanceof ArrayBuffer ||
    o instanceof SharedArrayBuffer ||
    o instanceof Map ||
    o instanceof Set ||
    o instanceof WeakMap ||
    o instanceof WeakSet ||
    o instanceof Date
  ) {
    throw new MalformedInputError(
      'a value that crosses a label boundary or fans out must be plain data: Map, Set, Date, typed arrays and buffers stay mutable when frozen (convert them first)',
    );
  }
}
