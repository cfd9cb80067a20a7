import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { loadConfig, parseConfig } from './config.js';

const HASH = 'scrypt$1024$8$1$c2FsdA$' + Buffer.alloc(32).toString('base64url');

function message(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

describe('gateway config', () => {
  it('applies defaults to a minimal config', () => {
    const c = parseConfig({ principals: { a: { clearance: {} } } });
    assert.deepEqual(c.server, {
      host: '127.0.0.1',
      port: 8080,
      bodyLimit: 65536,
      handlerTimeoutMs: 10000,
    });
    assert.deepEqual(c.tags, []);
    assert.deepEqual(c.principals.a, {
      clearance: { secrecy: [], integrity: [] },
      privileges: [],
      apiKeys: [],
    });
  });

  it('names the path of every problem', () => {
    const m = message({
      tags: ['alice', 'alice'],
      server: { port: 70000 },
      auth: { jwt: { secret: 'short' } },
      principals: {
        x: {
          clearance: { secrecy: ['nope'], integrity: ['alice'] },
          privileges: ['alice*', 'ghost-'],
          apiKeys: [{ id: 'k', hash: 'plaintext' }],
        },
        y: { clearance: {}, apiKeys: [{ id: 'k', hash: HASH }], extra: 1 },
      },
      surprise: true,
    });
    for (const line of [
      'server.port:',
      'auth.jwt.secret: an HS256 secret needs at least 32 characters',
      'principals.x.privileges[0]: a privilege is',
      'principals.x.apiKeys[0].hash: an API key hash is',
      'principals.y: Unrecognized key: "extra"',
      '(root): Unrecognized key: "surprise"',
    ]) {
      assert.ok(m.includes(line), `missing '${line}' in:\n${m}`);
    }
  });

  it('cross-checks tag names, duplicate tags and key ids', () => {
    const m = message({
      tags: ['alice', 'alice'],
      principals: {
        x: {
          clearance: { secrecy: ['nope'] },
          privileges: ['ghost-'],
          apiKeys: [{ id: 'k', hash: HASH }],
        },
        y: { clearance: {}, apiKeys: [{ id: 'k', hash: HASH }] },
      },
    });
    assert.match(m, /tags\[1\]: duplicate tag 'alice'/);
    assert.match(m, /principals\.x\.clearance\.secrecy\[0\]: unknown tag 'nope'/);
    assert.match(m, /principals\.x\.privileges\[0\]: unknown tag 'ghost'/);
    assert.match(
      m,
      /principals\.y\.apiKeys\[0\]\.id: API key id 'k' is also used by principal 'x'/,
    );
  });

  it('needs principals, and a secret or public key for jwt', () => {
    assert.match(message({ principals: {} }), /principals: no principals configured/);
    assert.match(message({}), /principals: /);
    assert.match(
      message({ auth: { jwt: {} }, principals: { a: { clearance: {} } } }),
      /auth\.jwt: jwt needs a secret \(HS256\) or a publicKey/,
    );
    assert.match(message(null), /\(root\)/);
  });

  it('loadConfig: unreadable file, bad JSON, and a valid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-gw-'));
    await assert.rejects(loadConfig(join(dir, 'missing.json')), /cannot read/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "principals": ');
    await assert.rejects(loadConfig(bad), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /bad\.json is not valid JSON/);
      return true;
    });
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ principals: { a: { clearance: {} } } }));
    assert.equal((await loadConfig(good)).server.port, 8080);
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ principals: { a: {} } }));
    await assert.rejects(
      loadConfig(invalid),
      /invalid\.json is invalid:\n {2}principals\.a\.clearance/,
    );
  });
});
