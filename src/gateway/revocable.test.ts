import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { types } from 'node:util';
import fc from 'fast-check';
import { revocable } from './revocable.js';

class Counter {
  readonly #n = { v: 0 };
  readonly name = 'c';
  inc(by: number): number {
    return (this.#n.v += by);
  }
}

describe('revocable', () => {
  it('forwards calls (private fields included) while open, refuses them once revoked', () => {
    const lease = { open: true };
    const c = revocable(new Counter(), lease);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the handle binds its methods
    const { inc } = c;
    assert.equal(c.inc(2), 2);
    assert.equal(inc(3), 5);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, not called
    assert.equal(c.inc, inc, 'one wrapper per method');
    assert.equal(c.name, 'c');
    assert.ok(c instanceof Counter);
    assert.ok('inc' in c);
    lease.open = false;
    assert.throws(() => c.inc(1), /this invocation has ended/);
    assert.throws(() => inc(1), /this invocation has ended/);
  });

  it('cannot be modified, and passes non-objects through', () => {
    const c = revocable(new Counter(), { open: true }) as unknown as Record<string, unknown>;
    assert.throws(() => {
      'use strict';
      c.inc = () => 0;
    }, TypeError);
    assert.throws(() => Object.setPrototypeOf(c, null), TypeError);
    assert.throws(() => delete c.name, TypeError);
    assert.equal(revocable(undefined, { open: true }), undefined);
    assert.equal(revocable(7, { open: true }), 7);
  });
});

/** A target whose shape cannot change: it gets the handle without a Proxy. */
class FrozenCounter {
  readonly #n = { v: 0 };
  readonly name = 'f';
  inc(by: number): number {
    return (this.#n.v += by);
  }
  get total(): number {
    return this.#n.v;
  }
}
Object.freeze(FrozenCounter.prototype);
const frozenCounter = () => Object.freeze(new FrozenCounter()) as FrozenCounter;

describe('revocable: frozen targets (no Proxy)', () => {
  it('behaves as the Proxy handle: bound, checked methods; live properties; instanceof', () => {
    const lease = { open: true };
    const target = frozenCounter();
    const c = revocable(target, lease);
    assert.equal(types.isProxy(c), false);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the handle binds its methods
    const { inc } = c;
    assert.equal(c.inc(2), 2);
    assert.equal(inc(3), 5);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, not called
    assert.equal(c.inc, inc, 'one wrapper per method');
    assert.equal(c.name, 'f');
    assert.equal(c.total, 5, 'an accessor is read from the target each time');
    assert.ok(c instanceof FrozenCounter);
    assert.ok('inc' in c);
    lease.open = false;
    assert.throws(() => c.inc(1), /this invocation has ended/);
    assert.throws(() => inc(1), /this invocation has ended/);
    assert.equal(target.total, 5, 'nothing reached the target after revocation');
  });

  it('two handles of one target share nothing: one revoked, the other still works', () => {
    const target = frozenCounter();
    const l1 = { open: true };
    const l2 = { open: true };
    const h1 = revocable(target, l1);
    const h2 = revocable(target, l2);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, not called
    assert.notEqual(h1.inc, h2.inc);
    l1.open = false;
    assert.throws(() => h1.inc(1), /this invocation has ended/);
    assert.equal(h2.inc(1), 1);
    // Their common prototype is frozen: it carries nothing from one invocation to another.
    const proto = Object.getPrototypeOf(h1) as Record<string, unknown>;
    assert.equal(proto, Object.getPrototypeOf(h2));
    assert.ok(Object.isFrozen(proto));
    assert.throws(() => {
      'use strict';
      proto.stash = 'x';
    }, TypeError);
    // Its method getters give nothing for an object that is not a handle.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this
    const get = Object.getOwnPropertyDescriptor(proto, 'inc')?.get as
      ((this: unknown) => unknown) | undefined;
    assert.equal(get?.call({}), undefined);
    assert.equal(get?.call(h2), Reflect.get(h2, 'inc'));
  });

  it('cannot be modified', () => {
    const c = revocable(frozenCounter(), { open: true }) as unknown as Record<string, unknown>;
    assert.throws(() => {
      'use strict';
      c.inc = () => 0;
    }, TypeError);
    assert.throws(() => {
      'use strict';
      c.extra = 1;
    }, TypeError);
    assert.throws(() => Object.setPrototypeOf(c, null), TypeError);
    assert.throws(() => Object.defineProperty(c, 'inc', { value: 1 }), TypeError);
  });

  it('a target that is not frozen (or whose prototype is not) keeps the Proxy', () => {
    assert.ok(types.isProxy(revocable(new Counter(), { open: true })));
    assert.ok(types.isProxy(revocable(Object.freeze(new Counter()), { open: true })));
  });

  it('property: any sequence of calls and one revocation: calls succeed before, throw after', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 20 }),
        fc.nat({ max: 20 }),
        fc.boolean(),
        (bys, revokeAt, frozen) => {
          const lease = { open: true };
          const target = frozen ? frozenCounter() : new Counter();
          const c = revocable(target as { inc(by: number): number }, lease);
          let expected = 0;
          bys.forEach((by, i) => {
            if (i === revokeAt) lease.open = false;
            if (lease.open) assert.equal(c.inc(by), (expected += by));
            else assert.throws(() => c.inc(by), /this invocation has ended/);
          });
          assert.equal(target.inc(0), expected, 'the target saw exactly the calls made in time');
        },
      ),
    );
  });
});
