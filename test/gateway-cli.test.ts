import { existsSync } from 'node:fs';
/** `sluice serve`: validates the config, starts the gateway and prints its URL. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hsToken, JWT_SECRET, startServe } from './support/gateway-client.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

describe('sluice serve', () => {
  it('prints the URL and serves authenticated requests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    const config = join(dir, 'gateway.json');
    await writeFile(
      config,
      JSON.stringify({
        tags: ['alice'],
        auth: { jwt: { secret: JWT_SECRET } },
        principals: { alice: { clearance: { secrecy: ['alice'] } } },
      }),
    );
    const data = join(dir, 'data');
    const { url, child } = await startServe(['--config', config, '--data-dir', data]);
    try {
      const res = await fetch(`${url}/_sluice/whoami`, {
        headers: { authorization: `Bearer ${await hsToken('alice')}` },
      });
      assert.deepEqual(await res.json(), {
        principal: 'alice',
        label: { secrecy: ['alice'], integrity: [] },
      });
      // The embedded default store: a SQLite file under --data-dir.
      assert.ok(existsSync(join(data, 'sluice-store.sqlite')));
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a bad config exits non-zero with the path of each problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    const config = join(dir, 'bad.json');
    await writeFile(
      config,
      JSON.stringify({ principals: { bob: { clearance: { secrecy: ['x'] } } } }),
    );
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1);
    assert.match(
      err,
      /E_CONFIG: .*bad\.json is invalid:\n {2}principals\.bob\.clearance\.secrecy\[0\]: unknown tag 'x'/,
    );
  });

  it('a handler module that imports is refused at start, with the route in the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    const config = join(dir, 'gateway.json');
    await writeFile(join(dir, 'h.mjs'), "import fs from 'node:fs';\nexport default () => ({});\n");
    await writeFile(
      config,
      JSON.stringify({
        auth: { jwt: { secret: JWT_SECRET } },
        principals: { alice: { clearance: {} } },
        routes: [{ method: 'GET', path: '/h', module: 'h.mjs' }],
      }),
    );
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1);
    assert.match(err, /routes\[0\]\.module \(h\.mjs\): unit module refused: an import declaration/);
  });
});
