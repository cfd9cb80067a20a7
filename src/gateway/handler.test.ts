import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Engine } from '../engine/engine.js';
import { Label } from '../labels.js';
import { invoke, NOT_FOUND_OUTCOME, type GatewayRequest, type Handler } from './handler.js';
import { buildPrincipals, createTags } from './principals.js';
import { parseConfig } from './config.js';

const engine = new Engine();
const tags = createTags(engine, ['a', 'b']);
const config = parseConfig({
  tags: ['a', 'b'],
  principals: { p: { clearance: { secrecy: ['a'] } } },
});
const principal = buildPrincipals(config, tags).get('p')!;
const req: GatewayRequest = {
  method: 'GET',
  path: '/',
  params: {},
  query: {},
  headers: {},
  body: undefined,
};
const host = { engine, storeAt: () => ({}), timeoutMs: 1000 };
const B = Label.secrecy(tags.get('b')!.tag);

describe('invoke: refused and absent take one path', () => {
  it('a refused response and ctx.notFound() end in the very same outcome object', async () => {
    const absent: Handler<object> = (_r, ctx) => ctx.notFound();
    const refused: Handler<object> = () => ({ body: { x: 1 }, label: B });
    const a = await invoke(absent, req, principal, principal.clearance, host);
    const r = await invoke(refused, req, principal, principal.clearance, host);
    assert.equal(a, NOT_FOUND_OUTCOME);
    assert.equal(r, NOT_FOUND_OUTCOME);
  });

  it('the refusal is audited only after the outcome is handed back (no extra work before)', async () => {
    await tick(); // earlier tests' audits
    const before = engine.audit.counts()['refused-output'] ?? 0;
    await invoke(() => ({ label: B }), req, principal, principal.clearance, host);
    assert.equal(engine.audit.counts()['refused-output'] ?? 0, before);
    await tick();
    assert.equal(engine.audit.counts()['refused-output'], before + 1);
  });

  it('a response label that is not a Label is an error, not a response', async () => {
    const bad = await invoke(
      () => ({ label: 'public' as unknown as Label }),
      req,
      principal,
      principal.clearance,
      host,
    );
    assert.deepEqual(bad, { kind: 'error' });
  });
});
