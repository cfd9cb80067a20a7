/**
 * Isolated handlers (handler code, src/gateway/handler-code.ts) over real HTTP: the hole of
 * in-process handlers pinned in gateway-leaks.test.ts (module state is not labelled) is closed
 * for them, in tier 0 (SES compartment) and tier 1 (worker): a cleared request keeps a secret in
 * module state and in its global object; what a guest or bob then gets, at other labels, is the
 * same bytes whatever the secret (fast-check over secret values), while alice gets it back at
 * her own label (the state is really kept, per label). Hostile code is refused at load or
 * contained: see gateway-isolated-hostile.test.ts; CPU and heap limits in tier 1: below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../src/engine/engine.js';
import { createTags, Gateway, parseConfig, type Route } from '../src/gateway.js';
import { FacetedStore, type JsonValue, type StoreView } from '../src/store.js';
import { ALICE_BOB_GUEST, call, hsToken, kvRoutes, raw } from './support/gateway-client.js';

const engine = new Engine();
const tags = createTags(engine, ['alice', 'bob']);
let store = FacetedStore.memory();

/** Keeps what it read in module state and in its global object; `?keep` reads, else recalls. */
const KEEPER = `
let kept = null;
export default async function (req, ctx) {
  if (req.query.keep !== undefined) {
    kept = (await ctx.store.get('secret')) ?? null;
    globalThis.alsoKept = kept;
    return { status: 204 };
  }
  return { body: { kept, global: globalThis.alsoKept ?? null } };
}`;

/** Counts its invocations in module state; `?spin` loops forever, `?jobs` floods the microtask queue. */
const COUNTER = `
let n = 0;
export default async (req) => {
  if (req.query.spin !== undefined) for (;;);
  if (req.query.jobs !== undefined) for (;;) await null;
  if (req.query.bomb !== undefined) {
    const hog = [];
    for (;;) hog.push(new Array(1e5).fill(n));
  }
  n += 1;
  return { body: { n } };
};`;

const routes: Route<StoreView>[] = [
  ...kvRoutes,
  { method: 'GET', path: '/keeper/0', code: { source: KEEPER } },
  { method: 'GET', path: '/keeper/1', code: { source: KEEPER, tier: 1 } },
  {
    method: 'GET',
    path: '/fresh',
    code: {
      source: 'let n = 0; export default () => ({ body: { n: ++n } });',
      instances: 'invocation',
    },
  },
  { method: 'GET', path: '/counter', code: { source: COUNTER, tier: 1, cpuMs: 300, memoryMb: 16 } },
  { method: 'GET', path: '/in-process', handler: () => ({ body: { ok: true } }) },
];

let gw: Gateway<StoreView>;
let url: string;

before(async () => {
  gw = await Gateway.create<StoreView>({
    config: parseConfig(ALICE_BOB_GUEST),
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

const as = async (who: string, label?: string) => ({
  authorization: `Bearer ${await hsToken(who)}`,
  ...(label === undefined ? {} : { 'sluice-label': label }),
});

/**
 * Alice stores a secret (or none) at her label, has the keeper read it into its module state
 * (at her label, and at the public label she may also ask for); then what the guest and bob
 * get from the keeper, byte for byte. Alice's own recall is checked to hold the secret.
 */
async function world(tier: 0 | 1, secret: JsonValue | undefined): Promise<string[]> {
  store = FacetedStore.memory();
  const alice = await as('alice');
  if (secret !== undefined) {
    const put = await call(`${url}/kv/secret`, { method: 'PUT', json: secret, headers: alice });
    assert.equal(put.status, 204);
  }
  const keep = async (headers: Record<string, string>) =>
    assert.equal((await call(`${url}/keeper/${tier}?keep`, { headers })).status, 204);
  await keep(alice);
  await keep(await as('alice', 's='));
  const mine = await call(`${url}/keeper/${tier}`, { headers: alice });
  const expected = secret === undefined ? null : (JSON.parse(JSON.stringify(secret)) as unknown);
  assert.deepEqual(mine.json, { kept: expected, global: expected }, 'kept at her label');
  const seen: string[] = [];
  for (const who of ['guest', 'bob']) {
    seen.push(`${who}: ${await raw(url, { path: `/keeper/${tier}`, headers: await as(who) })}`);
  }
  seen.push(
    `alice at s=: ${await raw(url, { path: `/keeper/${tier}`, headers: await as('alice', 's=') })}`,
  );
  return seen;
}

describe('isolated handlers: module state is kept per invocation label', () => {
  for (const tier of [0, 1] as const) {
    it(`tier ${tier}: a secret kept in module state does not reach another label (property)`, async () => {
      const reference = await world(tier, undefined);
      for (const line of reference)
        assert.match(line, /200 OK[\s\S]*\{"kept":null,"global":null\}$/);
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), async (secret) => {
          assert.deepEqual(await world(tier, secret as JsonValue), reference);
        }),
        { numRuns: tier === 0 ? 25 : 8 },
      );
    });
  }

  it("instances: 'invocation' keeps no state at all", async () => {
    const alice = await as('alice');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual((await call(`${url}/fresh`, { headers: alice })).json, { n: 1 });
    }
  });
});

describe('isolated handlers, tier 1: CPU and heap limits stop one label only', () => {
  const count = async (who: string, q = '') =>
    call(`${url}/counter${q}`, { headers: await as(who) });

  for (const [what, q] of [
    ['a synchronous spin', '?spin'],
    ['an endless chain of promise jobs', '?jobs'],
  ] as const) {
    it(`${what} is stopped and answered 504; other requests are served meanwhile`, async () => {
      const before = (await count('guest')).json as { n: number };
      assert.equal((await count('alice')).status, 200);
      const spinning = count('alice', q);
      // While alice's worker spins: the same route at another label (its own worker), an
      // in-process handler and a tier-0 handler on the gateway's thread are all answered.
      const others = await Promise.all([
        count('guest'),
        count('bob'),
        call(`${url}/in-process`, { headers: await as('guest') }),
        call(`${url}/keeper/0`, { headers: await as('guest') }),
      ]);
      assert.deepEqual(
        others.map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.deepEqual(others[0]?.json, { n: before.n + 1 });
      const stopped = await spinning;
      assert.equal(stopped.status, 504);
      assert.deepEqual(stopped.json, {
        error: { code: 'timeout', message: 'the handler did not finish in time' },
      });
      // Alice's label starts afresh (its worker was replaced); the guest's count runs on.
      assert.deepEqual((await count('alice')).json, { n: 1 });
      assert.deepEqual((await count('guest')).json, { n: before.n + 2 });
    });
  }

  it('a memory bomb ends its worker (500); the other labels keep their state', async () => {
    const before = (await count('guest')).json as { n: number };
    const bomb = await count('alice', '?bomb');
    assert.ok(bomb.status === 500 || bomb.status === 504, String(bomb.status));
    assert.deepEqual((await count('alice')).json, { n: 1 });
    assert.deepEqual((await count('guest')).json, { n: before.n + 1 });
  });
});
