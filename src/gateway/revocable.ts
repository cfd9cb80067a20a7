/**
 * A store handle that dies with its invocation. A handler gets `revocable(storeAt(label), lease)`
 * instead of the view itself: every method called through it first checks that the invocation
 * is still open, so a handler that outlives its invocation (it timed out, or it stashed the
 * handle in module state for a later invocation by another principal, or a timer it started
 * fires later) can no longer read or write at that invocation's label.
 *
 * Methods read through the handle (even when taken off it first: `const { put } = store`) are
 * checked on every call; properties that are not functions are passed through; what a method
 * returns is not wrapped (a store's methods return data, not further capabilities). The handle
 * cannot be modified, and `instanceof` answers as for the target.
 *
 * Two forms, the same behaviour. A target whose shape cannot change (it is frozen, and so is
 * every prototype of it short of `Object.prototype`: a `StoreView`) gets a plain frozen object
 * whose prototype, made once per target (a `Plan`), finds the handle's wrappers; making a handle
 * costs one small object. Any other target gets a Proxy that looks the property up on every
 * read, so methods added or replaced later are wrapped too.
 */
import { MalformedInputError } from '../errors.js';

/** Whether the invocation is still running (set to false once, when it ends). */
export interface Lease {
  open: boolean;
}

export function endedError(): MalformedInputError {
  return new MalformedInputError('this invocation has ended');
}

type Fn = (...a: unknown[]) => unknown;

function checked(fn: Fn, real: object, lease: Lease): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    if (!lease.open) throw endedError();
    return Reflect.apply(fn, real, args);
  };
}

/**
 * A frozen target's shape, found once: its methods (data properties holding functions, own or
 * inherited, short of `Object.prototype`) and the frozen prototype every handle of it gets. That
 * prototype inherits from the target's own (for `instanceof` and `in`) and holds, for each
 * method, a getter giving the handle's checking wrapper of it (made on first read, then the same
 * one), and for each other property: a data property's value (frozen, so fixed), an accessor's
 * current value read from the target.
 */
interface Plan {
  readonly proto: object;
  readonly methods: readonly Fn[];
}

/** Returns the object it is given: lets `Handle` put its private fields on a made object. */
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a base for its constructor
class Stamp {
  constructor(o: object) {
    return o;
  }
}

/**
 * A handle's own state, in private fields of the handle object (nothing a handler can read or
 * change): the target, the invocation's lease, and the wrappers made so far.
 */
class Handle extends Stamp {
  readonly #real: object;
  readonly #lease: Lease;
  readonly #methods: readonly Fn[];
  readonly #wrappers: (Fn | undefined)[] = [];

  constructor(o: object, real: object, lease: Lease, methods: readonly Fn[]) {
    super(o);
    this.#real = real;
    this.#lease = lease;
    this.#methods = methods;
  }

  /** Method `i` of handle `h`, checked on every call. */
  static method(h: unknown, i: number): Fn | undefined {
    if (typeof h !== 'object' || h === null || !(#real in h)) return undefined;
    const fn = h.#methods[i];
    if (fn === undefined) return undefined;
    return (h.#wrappers[i] ??= checked(fn, h.#real, h.#lease));
  }
}

const plans = new WeakMap<object, Plan | null>();

function planFor(real: object): Plan | null {
  let plan = plans.get(real);
  if (plan === undefined) plans.set(real, (plan = makePlan(real)));
  return plan;
}

function makePlan(real: object): Plan | null {
  const chain: object[] = [];
  for (let o: object | null = real; o !== null && o !== Object.prototype;) {
    if (!Object.isFrozen(o)) return null;
    chain.push(o);
    o = Reflect.getPrototypeOf(o);
  }
  const proto = Object.create(Reflect.getPrototypeOf(real)) as object;
  const methods: Fn[] = [];
  const seen = new Set<PropertyKey>();
  for (const o of chain) {
    for (const p of Reflect.ownKeys(o)) {
      if (seen.has(p)) continue; // shadowed by a nearer property
      // A prototype's `constructor` is inherited as is (the Proxy's prototype gave it too).
      if (p === 'constructor' && o !== real) continue;
      seen.add(p);
      const d = Reflect.getOwnPropertyDescriptor(o, p);
      if (d !== undefined && 'value' in d && typeof d.value === 'function') {
        const i = methods.push(d.value as Fn) - 1;
        Object.defineProperty(proto, p, {
          get(this: unknown) {
            return Handle.method(this, i);
          },
        });
      } else if (d !== undefined && 'value' in d) {
        // A frozen object's data property never changes: its value is copied.
        Object.defineProperty(proto, p, { value: d.value as unknown });
      } else {
        Object.defineProperty(proto, p, { get: (): unknown => Reflect.get(real, p, real) });
      }
    }
  }
  return { proto: Object.freeze(proto), methods };
}

export function revocable<S>(target: S, lease: Lease): S {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    return target;
  }
  const real = target as object;
  const plan = typeof target === 'object' ? planFor(real) : null;
  if (plan !== null) {
    const handle = Object.create(plan.proto) as object;
    new Handle(handle, real, lease, plan.methods);
    return Object.freeze(handle) as S;
  }
  const wrapped = new Map<PropertyKey, { fn: unknown; w: unknown }>();
  // The proxy's own target is a blank object, so the proxy's answers never have to match the
  // real object's (possibly frozen) own properties; everything is forwarded explicitly.
  const handle = new Proxy(Object.create(null) as object, {
    get(_blank, p) {
      const v: unknown = Reflect.get(real, p, real);
      if (typeof v !== 'function') return v;
      const hit = wrapped.get(p);
      if (hit?.fn === v) return hit.w;
      const w = checked(v as Fn, real, lease);
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
