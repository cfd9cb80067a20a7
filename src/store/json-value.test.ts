import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeValue, encodeValue, jsonEqual } from './json-value.js';

describe('store values', () => {
  it('round-trips any JSON value to an equal, deeply frozen copy', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const e = encodeValue(v);
        assert.ok(jsonEqual(e.value, JSON.parse(JSON.stringify(v)) as never));
        assert.ok(jsonEqual(decodeValue(e.json), e.value));
        const frozen = (x: unknown): boolean =>
          typeof x !== 'object' ||
          x === null ||
          (Object.isFrozen(x) && Object.values(x).every(frozen));
        assert.ok(frozen(e.value));
        if (typeof v === 'object' && v !== null) assert.notEqual(e.value, v);
      }),
    );
  });

  it('keeps __proto__ as a plain own key, never as a prototype', () => {
    const v = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const e = encodeValue(v);
    assert.equal(Object.getPrototypeOf(e.value), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(e.value as object, '__proto__'));
  });

  it('refuses what is not JSON data, naming only the kind of problem', () => {
    const deep: unknown[] = [];
    let cur = deep;
    for (let k = 0; k < 70; k++) cur.push((cur = []));
    const hidden = Object.defineProperty({}, 'h', { value: 1, enumerable: false });
    for (const [v, what] of [
      [deep, 'nesting deeper'],
      [hidden, 'non-enumerable'],
      [{ secretName: undefined }, 'a undefined'],
      [-Infinity, 'non-finite'],
    ] as const) {
      assert.throws(
        () => encodeValue(v),
        (e: Error) => e.message.includes(what) && !e.message.includes('secretName'),
      );
    }
  });

  it('compares structurally, ignoring object key order', () => {
    assert.ok(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!jsonEqual({ a: 1, c: 2 }, { a: 1, b: 2 }));
    assert.ok(!jsonEqual([1], { 0: 1 }));
    assert.ok(!jsonEqual(1, '1'));
    assert.ok(!jsonEqual(null, undefined));
    assert.ok(jsonEqual(undefined, undefined));
  });
});
