import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
