/**
 * Adversarial: an app whose handlers try to get a secret facet (alice's) to a less cleared
 * principal (a guest, or bob), over real HTTP: by returning it, writing it lower, publishing it
 * lower, through error messages, SSE, response headers, status codes, a secret-dependent delay,
 * or a store handle kept for a later invocation. Each attempt is stopped; a fast-check property
 * shows the guest's bytes on the wire do not change with the secret. The one channel that is
 * not closed for in-process handlers (trusted code: a handler's own module state) is pinned by a
 * test and documented in README; for handlers given as code, run isolated, it is closed
 * (test/gateway-isolated.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../src/engine/engine.js';
import { Label } from '../src/labels.js';
import { fromTopic } from '../src/pipeline/sources/from-topic.js';
import { createTags, current, Gateway, parseConfig, shim, type Route } from '../src/gateway.js';
import { FacetedStore, type JsonValue, type StoreView } from '../src/store.js';
import { ALICE_BOB_GUEST, call, hsToken, raw, readSse } from './support/gateway-client.js';

const engine = new Engine();
const tags = createTags(engine, ['alice', 'bob']);
const A = Label.secrecy(tags.get('alice')!.tag);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the malicious app keeps between invocations, and what its attempts ran into. */
const app = {
  store: undefined as StoreView | undefined,
  value: undefined as JsonValue | undefined,
  delays: [] as number[],
  refusals: [] as string[],
};
let store = FacetedStore.memory();

const secretOf = async (s: StoreView) => (await s.get('secret')) ?? null;
const attempt = async (what: string, f: () => unknown) => {
  try {
    await f();
  } catch (e) {
    app.refusals.push(`${what}: ${(e as Error).message}`);
  }
};

const routes: Route<StoreView>[] = [
  {
    method: 'PUT',
    path: '/secret',
    handler: async (req, ctx) => {
      await ctx.store.put('secret', req.body as JsonValue);
      return { status: 204 };
    },
  },
  // 1. Return it.
  {
    method: 'GET',
    path: '/return',
    handler: async (_q, ctx) => ({ body: { v: await secretOf(ctx.store) } }),
  },
  // 2. Write it where a lower label reads: the view writes only at its own label; forging a
  //    view at another label fails.
  {
    method: 'POST',
    path: '/write-down',
    handler: async (_q, ctx) => {
      const v = await secretOf(ctx.store);
      await ctx.store.put('copy', v);
      await attempt('forge a view', () => {
        const View = (Object.getPrototypeOf(ctx.store) as { constructor: unknown })
          .constructor as new (...a: unknown[]) => StoreView;
        return new View(Symbol('sluice.store.view'), undefined, Label.public).put('copy', v);
      });
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/copy',
    handler: async (_q, ctx) => ({ body: { v: (await ctx.store.get('copy')) ?? null } }),
  },
  // 3. Publish it at a lower label, or with a lower presence.
  {
    method: 'POST',
    path: '/publish',
    handler: async (_q, ctx) => {
      const v = JSON.stringify(await secretOf(ctx.store));
      await attempt('publish low', () => ctx.publish('leaks', { v }, { label: Label.public }));
      await attempt('presence low', () => ctx.publish('leaks', { v }, { presence: Label.public }));
      return { status: 204 };
    },
  },
  // 4. Put it in an error message.
  {
    method: 'GET',
    path: '/throw',
    handler: async (_q, ctx) => {
      throw new Error(`the secret is ${JSON.stringify(await secretOf(ctx.store))}`);
    },
  },
  // 5/6. Put it in response headers and the status code of a response declared at alice's label.
  {
    method: 'GET',
    path: '/headers',
    handler: async (_q, ctx) => {
      const v = await secretOf(ctx.store);
      return {
        status: v === null ? 200 : 299,
        headers: { 'x-leak': encodeURIComponent(JSON.stringify(v)) },
        body: { v },
        label: A,
      };
    },
  },
  // 7. Delay the response by a secret-dependent time.
  {
    method: 'GET',
    path: '/timing',
    handler: async (_q, ctx) => {
      const v = await secretOf(ctx.store);
      const d = v === null ? 0 : 5 + (JSON.stringify(v).length % 5) * 10;
      app.delays.push(d);
      await sleep(d);
      return { status: 204 };
    },
  },
  // 8. Keep the store handle from alice's invocation; use it in a guest's, and from a timer.
  {
    method: 'GET',
    path: '/stash',
    handler: async (_q, ctx) => {
      if (ctx.principal === 'alice') {
        const kept = ctx.store;
        app.store = kept;
        setTimeout(() => void attempt('timer write', () => kept.put('copy', 'late')), 20);
        return { status: 204 };
      }
      let v: JsonValue = 'refused';
      await attempt('stashed read', async () => (v = await secretOf(app.store!)));
      return { body: { v } };
    },
  },
  // 9. A shimmed plain function whose timer reaches current() after the invocation ended.
  {
    method: 'GET',
    path: '/shim-timer',
    handler: shim(async () => {
      const v = await secretOf(current<StoreView>().store);
      setTimeout(
        () => void attempt('shim timer', () => current<StoreView>().store.put('copy', v)),
        20,
      );
      return { statusCode: 204 };
    }),
  },
  // Known limit: the handler's own module state is not labelled.
  {
    method: 'GET',
    path: '/module-state',
    handler: async (_q, ctx) => {
      if (ctx.principal === 'alice') app.value = await secretOf(ctx.store);
      return { body: { v: app.value ?? null } };
    },
  },
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
    streams: [{ path: '/sse/leaks', stream: (label) => fromTopic(engine, 'leaks', { label }) }],
  });
  url = await gw.listen();
});

after(async () => {
  await gw.close();
});

const headersOf = async (who: string) => ({ authorization: `Bearer ${await hsToken(who)}` });

/** Alice's invocations (which can read the secret) and then what the others get back. */
async function world(secret: JsonValue | undefined): Promise<string[]> {
  store = FacetedStore.memory();
  Object.assign(app, { store: undefined, delays: [], refusals: [] });
  const alice = await headersOf('alice');
  if (secret !== undefined) {
    const put = await call(`${url}/secret`, { method: 'PUT', json: secret, headers: alice });
    assert.equal(put.status, 204);
  }
  for (const [method, path] of [
    ['POST', '/write-down'],
    ['POST', '/publish'],
    ['GET', '/stash'],
    ['GET', '/shim-timer'],
  ]) {
    await call(`${url}${path ?? ''}`, { method: method ?? 'GET', headers: alice });
  }
  await sleep(40); // the timers fire
  const seen: string[] = [];
  for (const who of ['guest', 'bob']) {
    const headers = await headersOf(who);
    for (const path of ['/return', '/copy', '/throw', '/headers', '/timing', '/stash']) {
      seen.push(`${who} ${path}: ${await raw(url, { path, headers })}`);
    }
  }
  seen.push(`guest delays: ${JSON.stringify(app.delays)}`);
  return seen;
}

describe('gateway: a handler cannot leak a secret facet to a less cleared principal', () => {
  it('each attempt is stopped', async () => {
    const secret = 'diagnosis: flu';
    const seen = await world(secret);
    for (const line of seen) assert.ok(!line.includes('flu'), line);
    // What stopped each attempt.
    assert.ok(
      app.refusals.some((r) =>
        r.startsWith('forge a view: store views are made by FacetedStore.at'),
      ),
    );
    assert.ok(app.refusals.some((r) => r.startsWith('publish low: ')));
    assert.ok(app.refusals.some((r) => r.startsWith('presence low: ')));
    assert.ok(app.refusals.includes('timer write: this invocation has ended'));
    assert.ok(app.refusals.includes('stashed read: this invocation has ended'));
    assert.ok(app.refusals.includes('shim timer: this invocation has ended'));
    // The guest sees what it would see with no secret at all.
    const r = (path: string) => seen.find((l) => l.startsWith(`guest ${path}:`)) ?? '';
    assert.match(r('/return'), /\{"v":null\}$/);
    assert.match(r('/copy'), /\{"v":null\}$/);
    assert.match(r('/headers'), /^guest \/headers: HTTP\/1\.1 404 /);
    assert.ok(!r('/headers').includes('x-leak'));
    assert.match(r('/throw'), /\{"error":\{"code":"internal","message":"internal error"\}\}$/);
    assert.match(r('/stash'), /\{"v":"refused"\}$/);
    assert.equal(seen.at(-1), 'guest delays: [0,0]', 'the delay could not depend on the secret');
    // Alice herself gets the generic 500, and the audit log holds no value.
    const boom = await call(`${url}/throw`, { headers: await headersOf('alice') });
    assert.equal(boom.status, 500);
    assert.ok(!boom.text.includes('flu'));
    assert.ok(!JSON.stringify(engine.audit.entries()).includes('flu'));
  });

  it('SSE: a guest subscribed to the topic receives nothing alice tried to publish lower', async () => {
    await world('flu');
    const got = await readSse(`${url}/sse/leaks`, await headersOf('guest'), {
      ms: 400,
      onOpen: async () => {
        await sleep(30);
        await call(`${url}/publish`, { method: 'POST', headers: await headersOf('alice') });
      },
    });
    assert.equal(got.status, 200);
    assert.deepEqual(got.items, []);
  });

  it("property: what the guest and bob receive does not depend on alice's secret", async () => {
    const reference = await world(undefined);
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), async (secret) => {
        assert.deepEqual(await world(secret as JsonValue), reference);
      }),
      { numRuns: 12 },
    );
  });

  it("known limit (README): an in-process handler's own module state is not labelled", async () => {
    await world('flu');
    await call(`${url}/module-state`, { headers: await headersOf('alice') });
    const guest = await call(`${url}/module-state`, { headers: await headersOf('guest') });
    // The gateway cannot see an in-process handler's closures: handlers given as code run
    // isolated, one instance per invocation label, and cannot do this (gateway-isolated.test.ts).
    assert.deepEqual(guest.json, { v: 'flu' });
  });
});
