import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { ApiKeyVerifier, hashApiKey, newApiKey } from './api-key.js';

const CHEAP = { N: 1024, r: 8, p: 1 };

describe('API keys', () => {
  it('a stored hash verifies its key only, and never contains the secret', async () => {
    const k = newApiKey('svc');
    assert.equal(k.key, `svc.${k.secret}`);
    const hash = await hashApiKey(k.secret, CHEAP);
    assert.match(hash, /^scrypt\$1024\$8\$1\$/);
    assert.ok(!hash.includes(k.secret));
    const v = new ApiKeyVerifier([{ id: 'svc', hash, principal: 'p' }]);
    assert.equal(await v.verify(k.key), 'p');
    assert.equal(await v.verify(`svc.${k.secret}x`), undefined);
    assert.equal(await v.verify(`other.${k.secret}`), undefined);
    assert.equal(await v.verify(k.secret), undefined);
  });

  it('two hashes of one secret differ (salted)', async () => {
    assert.notEqual(await hashApiKey('s', CHEAP), await hashApiKey('s', CHEAP));
  });

  it('refuses malformed stored hashes', () => {
    const ok = Buffer.alloc(32).toString('base64url');
    for (const hash of [
      'bcrypt$1024$8$1$c2FsdA$' + ok,
      'scrypt$1000$8$1$c2FsdA$' + ok,
      'scrypt$1024$0$1$c2FsdA$' + ok,
      'scrypt$1024$8$99$c2FsdA$' + ok,
      'scrypt$1024$8$1$c2FsdA$AAAA',
      'scrypt$1024$8$1',
    ]) {
      assert.throws(
        () => new ApiKeyVerifier([{ id: 'a', hash, principal: 'p' }]),
        ConfigError,
        hash,
      );
    }
  });
});
