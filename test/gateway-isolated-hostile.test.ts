/**
 * Hostile handler code, over real HTTP: what could reach outside its compartment (`import`,
 * `import()`, `require`, `import.meta`, direct eval) is refused before any of it runs, when the
 * route is made; what is left finds no `process`, `fs`, timer or clock, cannot change the
 * shared intrinsics, and reaches no host object through what it is given (the context's
 * functions, errors from the store, evaluators). Each attempt is made from a handler at
 * alice's label holding her secret, in tier 0 and in tier 1; the guest then finds nothing of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../src/engine/engine.js';
import { createTags, Gateway, parseConfig, type Route } from '../src/gateway.js';
import { ModuleRefusedError } from '../src/isolation.js';
import { FacetedStore, type StoreView } from '../src/store.js';
import { call, hsToken, JWT_SECRET, kvRoutes } from './support/gateway-client.js';

const engine = new Engine();
const tags = createTags(engine, ['alice']);
const store = FacetedStore.memory();
const config = parseConfig({
  tags: ['alice'],
  auth: { jwt: { secret: JWT_SECRET } },
  principals: { alice: { clearance: { secrecy: ['alice'] } }, guest: { clearance: {} } },
});

/** Every attempt, each reported as what it got ('threw <name>' when refused). */
const PROBE = `
const tryIt = (f) => { try { const v = f(); return v === undefined ? 'undefined' : String(v); } catch (e) { return 'threw ' + (e && e.name); } };
export default async function (req, ctx) {
  if (req.query.check !== undefined)
    return { body: { global: typeof globalThis.leak, objectProto: typeof ({}).leak, push: [].push(1) } };
  const secret = await ctx.store.get('secret');
  const r = {};
  r.process = typeof process;
  r.globalProcess = typeof globalThis.process;
  r.require = typeof globalThis.require;
  r.setTimeout = typeof setTimeout;
  r.setImmediate = typeof setImmediate;
  r.queueMicrotask = typeof queueMicrotask;
  r.fetch = typeof fetch;
  r.Buffer = typeof Buffer;
  r.dateNow = tryIt(() => Date.now());
  r.newDate = tryIt(() => new Date().getTime());
  r.random = tryIt(() => Math.random());
  r.functionThis = tryIt(() => typeof Function('return this')().process);
  r.functionGlobal = tryIt(() => typeof Function('return globalThis')().process);
  r.indirectEval = tryIt(() => typeof (0, eval)('globalThis.process'));
  r.evalImport = tryIt(() => (0, eval)('imp' + 'ort("fs")'));
  r.functionImport = tryIt(() => Function('return imp' + 'ort("fs")')());
  r.hostFunction = tryIt(() => ctx.store.get.constructor('return process')());
  r.hostFunctionProto = tryIt(() => Object.getPrototypeOf(ctx.publish).constructor('return 1')());
  r.contextProto = Object.getPrototypeOf(ctx.store) === Object.prototype;
  r.objectProto = tryIt(() => { Object.prototype.leak = secret; return ({}).leak; });
  r.arrayPush = tryIt(() => { Array.prototype.push = () => secret; return [].push(1); });
  r.jsonParse = tryIt(() => { JSON.parse = () => secret; return 'replaced'; });
  r.requestFrozen = tryIt(() => { req.query.x = secret; return 'changed'; });
  r.contextFrozen = tryIt(() => { ctx.store.get = () => secret; return 'changed'; });
  let storeError;
  try { await ctx.store.get(42); } catch (e) { storeError = e; }
  r.storeError = storeError instanceof Error && storeError.constructor === Error;
  r.storeErrorFrozen = tryIt(() => { storeError.constructor.leak = secret; return 'changed'; });
  r.stackTraceLimit = tryIt(() => { Error.stackTraceLimit = 3; return Error.stackTraceLimit; });
  let published;
  try { await ctx.publish('leaks', { v: String(secret) }, { label: { secrecy: [] } }); published = 'sent'; }
  catch (e) { published = 'refused ' + e.name; }
  r.publishLower = published;
  globalThis.leak = secret;
  return { body: r };
}`;

const routes: Route<StoreView>[] = [...kvRoutes];
for (const tier of [0, 1] as const) {
  routes.push({ method: 'GET', path: `/probe/${tier}`, code: { source: PROBE, tier } });
}

let gw: Gateway<StoreView>;
let url: string;

before(async () => {
  gw = await Gateway.create<StoreView>({
    config,
    engine,
    tags,
    storeAt: (l) => store.at(l),
    routes,
  });
  url = await gw.listen();
});

after(async () => {
  await gw.close();
});

const as = async (who: string) => ({ authorization: `Bearer ${await hsToken(who)}` });

describe('isolated handlers: hostile code', () => {
  it('what could reach outside is refused when the route is made, before any of it runs', async () => {
    const hostile = {
      'import-declaration': "import fs from 'fs'; export default () => ({ body: fs });",
      'dynamic-import': "export default async () => ({ body: await import('fs') });",
      require: "export default () => ({ body: require('fs').readFileSync('/etc/passwd') });",
      'import-meta': 'export default () => ({ body: import.meta.url });',
      'direct-eval': "export default () => ({ body: eval('process') });",
      'named-export': 'export const handler = () => ({});',
      syntax: 'export default () => ({ body: \\u0069mport("fs") });',
    };
    for (const [refused, source] of Object.entries(hostile)) {
      await assert.rejects(
        Gateway.create<StoreView>({
          config,
          engine,
          tags,
          storeAt: (l) => store.at(l),
          routes: [{ method: 'GET', path: '/x', code: { source } }],
        }),
        (e: unknown) => e instanceof ModuleRefusedError && e.refused === refused,
        refused,
      );
    }
    // Bad options are configuration errors, with their path.
    await assert.rejects(
      Gateway.create<StoreView>({
        config,
        engine,
        tags,
        storeAt: (l) => store.at(l),
        routes: [{ method: 'GET', path: '/x', code: { source: 'export default 1', tier: 2 as 0 } }],
      }),
      /route GET \/x: code is invalid:\n {2}tier: /,
    );
  });

  for (const tier of [0, 1] as const) {
    it(`tier ${tier}: no ambient authority, shared intrinsics frozen, host objects out of reach`, async () => {
      const put = await call(`${url}/kv/secret`, {
        method: 'PUT',
        json: 'flu',
        headers: await as('alice'),
      });
      assert.equal(put.status, 204);
      const probe = await call(`${url}/probe/${tier}`, { headers: await as('alice') });
      assert.equal(probe.status, 200, probe.text);
      assert.deepEqual(probe.json, {
        process: 'undefined',
        globalProcess: 'undefined',
        require: 'undefined',
        setTimeout: 'undefined',
        setImmediate: 'undefined',
        queueMicrotask: 'undefined',
        fetch: 'undefined',
        Buffer: 'undefined',
        dateNow: 'threw TypeError',
        newDate: 'threw TypeError',
        random: 'threw TypeError',
        functionThis: 'threw TypeError', // strict: no `this`
        functionGlobal: 'undefined', // the compartment's own global
        indirectEval: 'undefined',
        evalImport: 'threw SyntaxError',
        functionImport: 'threw SyntaxError',
        hostFunction: 'threw TypeError',
        hostFunctionProto: 'threw TypeError',
        contextProto: true,
        objectProto: 'threw TypeError',
        arrayPush: 'threw TypeError',
        jsonParse: 'threw TypeError',
        requestFrozen: 'threw TypeError',
        contextFrozen: 'threw TypeError',
        storeError: true,
        storeErrorFrozen: 'threw TypeError',
        stackTraceLimit: 'undefined',
        publishLower: 'refused Error',
      });
      // The guest, in another instance, finds nothing the probe left behind; nor does the host.
      const check = await call(`${url}/probe/${tier}?check`, { headers: await as('guest') });
      assert.deepEqual(check.json, { global: 'undefined', objectProto: 'undefined', push: 1 });
      assert.equal((globalThis as { leak?: unknown }).leak, undefined);
      assert.equal(({} as { leak?: unknown }).leak, undefined);
      assert.ok(!JSON.stringify(engine.audit.entries()).includes('flu'));
    });
  }
});
