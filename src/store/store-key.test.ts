import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertKey, assertPrefix, compareKeys } from './store-key.js';

describe('store keys', () => {
  it('orders keys by code point, like SQLite BINARY and PostgreSQL "C" over UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        assert.equal(Math.sign(compareKeys(a, b)), bytes);
      }),
    );
  });

  it('accepts well-formed keys and refuses the rest without repeating them', () => {
    assert.equal(assertKey('user/42'), 'user/42');
    assert.equal(assertPrefix(''), '');
    assert.throws(
      () => assertKey('secret\uDC00'),
      (e: Error) => !e.message.includes('secret'),
    );
    assert.throws(() => assertPrefix(3), { code: 'E_STORE_KEY' });
  });
});
