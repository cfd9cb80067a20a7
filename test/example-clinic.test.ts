/**
 * The example app (examples/clinic) end to end: `sluice serve` over real HTTP and SQLite, its
 * handlers given as module files in the configuration and run isolated.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { call, hsToken, startServe } from './support/gateway-client.js';

const SECRET = 'demo-only-secret-change-me-0123456789ab';

describe('example: the clinic app', () => {
  it('patients see their own records, the doctor both, the statistician none', async () => {
    const data = await mkdtemp(join(tmpdir(), 'sluice-clinic-'));
    const { url, child } = await startServe([
      '--config',
      'examples/clinic/gateway.json',
      '--data-dir',
      data,
    ]);
    try {
      const as = async (who: string, label?: string) => ({
        authorization: `Bearer ${await hsToken(who, { secret: SECRET })}`,
        ...(label === undefined ? {} : { 'sluice-label': label }),
      });
      for (const p of ['alice', 'bob']) {
        const put = await call(`${url}/records/${p}`, {
          method: 'PUT',
          json: { patient: p, diagnosis: `d-${p}` },
          headers: await as('doctor', `s=${p}`),
        });
        assert.equal(put.status, 204);
      }
      const get = async (who: string, p: string) =>
        call(`${url}/records/${p}`, { headers: await as(who) });
      assert.deepEqual((await get('alice', 'alice')).json, {
        patient: 'alice',
        diagnosis: 'd-alice',
      });
      assert.deepEqual((await get('doctor', 'bob')).json, { patient: 'bob', diagnosis: 'd-bob' });
      // Another patient's record, a statistician's read and a record that never existed all
      // get the very same answer.
      const hidden = await get('alice', 'bob');
      const stat = await get('statistician', 'alice');
      const none = await get('alice', 'carol');
      assert.equal(hidden.status, 404);
      assert.equal(hidden.text, none.text);
      assert.equal(stat.text, none.text);
      const stats = async (who: string) =>
        (await call(`${url}/stats`, { headers: await as(who) })).json;
      // /stats runs isolated in a worker (tier 1), one instance per invocation label: its count
      // of requests is kept per label.
      assert.deepEqual(await stats('doctor'), { records: 2, asked: 1 });
      assert.deepEqual(await stats('doctor'), { records: 2, asked: 2 });
      assert.deepEqual(await stats('alice'), { records: 1, asked: 1 });
      assert.deepEqual(await stats('statistician'), { records: 0, asked: 1 });
      // A patient cannot ask for a label outside her clearance to write bob's record.
      const refused = await call(`${url}/records/bob`, {
        method: 'PUT',
        json: { patient: 'bob', diagnosis: 'forged' },
        headers: await as('alice', 's=bob'),
      });
      assert.equal(refused.status, 403);
      assert.deepEqual((await get('doctor', 'bob')).json, { patient: 'bob', diagnosis: 'd-bob' });
    } finally {
      child.kill('SIGTERM');
      await rm(data, { recursive: true, force: true });
    }
  });
});
