/**
 * A store handle that dies with its invocation. A handler gets `revocable(storeAt(label), lease)`
 * instead of the view itself: every method called through it first checks that the invocation
 * is still open, so a handler that outlives its invocation (it timed out, or it stashed the
 * handle in module state for a later invocation by another principal, or a timer it started
 * fires later) can no longer read or write at that invocation's label.
 *
 * Methods read through the handle (even when taken off it first: `const { put } = store`) are
 * checked on every call; properties that are not functions are passed through; what a method
 * returns is not wrapped (a store's methods return data, not further capabilities).
 */
import { MalformedInputError } from '../errors.js';

/** Whether the invocation is still running (set to false once, when it ends). */
export interface Lease {
  open: boolean;
}

export function endedError(): MalformedInputError {
  return new MalformedInputError('this invocation has ended');
}

export function revocable<S>(target: S, lease: Lease): S {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    return target;
  }
  const real = target as object;
  const wrapped = new Map<PropertyKey, { fn: unknown; w: unknown }>();
  // The proxy's own target is a blank object, so the proxy's answers never have to match the
  // real object's (possibly frozen) own properties; everything is forwarded explicitly.
  const handle = new Proxy(Object.create(null) as object, {
    get(_blank, p) {
      const v: unknown = Reflect.get(real, p, real);
      if (typeof v !== 'function') return v;
      const hit = wrapped.get(p);
      if (hit?.fn === v) return hit.w;
      const fn = v as (...a: unknown[]) => unknown;
      const w = function (this: unknown, ...args: unknown[]): unknown {
        if (!lease.open) throw endedError();
        return Reflect.apply(fn, real, args);
      };
      wrapped.set(p, { fn: v, w });
      return w;
    },
    has: (_blank, p) => Reflect.has(real, p),
    getPrototypeOf: () => Reflect.getPrototypeOf(real),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
  });
  return handle as S;
}
