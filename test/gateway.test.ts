/**
 * The gateway over real HTTP (server on port 0, node's fetch): authentication, clearance
 * projection through the store, refused == not found, shim, SSE, bad input.
 */
import assert from 'node:assert/strict';
import { FacetedStore, type StoreView } from '../src/store.js';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Engine } from '../src/engine/engine.js';
import { Label } from '../src/labels.js';
import { from } from '../src/pipeline/sources/from.js';
import { fromTopic } from '../src/pipeline/sources/from-topic.js';
import {
  createTags,
  current,
  Gateway,
  hashApiKey,
  parseConfig,
  shim,
  type Route,
} from '../src/gateway.js';
import {
  call,
  hsToken,
  JWT_SECRET,
  mattering,
  readSse,
  kvRoutes,
} from './support/gateway-client.js';

// The real faceted store (`sluice/store`, memory backend): the gateway only ever sees
// `storeAt(label)`.
/** Everything the store holds, as the most cleared reader sees it (for "nothing written"). */
async function snapshot(): Promise<string> {
  const top = Label.secrecy(...['alice', 'bob', 'staff'].map((t) => tags.get(t)!.tag));
  return JSON.stringify(await store.at(top).scan({ limit: 1000 }));
}

const engine = new Engine();
const tags = createTags(engine, ['alice', 'bob', 'staff']);
const A = Label.secrecy(tags.get('alice')!.tag);
const B = Label.secrecy(tags.get('bob')!.tag);

const readings = [
  { owner: 'alice', v: 1 },
  { owner: 'bob', v: 2 },
  { owner: 'public', v: 3 },
  { owner: 'alice', v: 4 },
  { owner: 'bob', v: 5 },
];
const labelOfOwner = (r: { owner: string }) =>
  r.owner === 'alice' ? A : r.owner === 'bob' ? B : Label.public;

/** A plain, pre-existing handler: it knows nothing of labels and uses a global-style store. */
async function legacyCounter(request: {
  httpMethod: string;
  pathParameters: Readonly<Record<string, string>>;
}): Promise<{ statusCode: number; body: string }> {
  const db = current<StoreView>().store;
  const k = `counter:${request.pathParameters.name ?? ''}`;
  const n =
    (((await db.get(k)) as number | undefined) ?? 0) + (request.httpMethod === 'POST' ? 1 : 0);
  if (request.httpMethod === 'POST') await db.put(k, n);
  return { statusCode: 200, body: JSON.stringify({ count: n }) };
}

const routes: Route<StoreView>[] = [
  ...kvRoutes,
  // Declares its response secret to bob: only a principal cleared for bob may receive it.
  { method: 'GET', path: '/declared/bob', handler: () => ({ body: { x: 1 }, label: B }) },
  {
    method: 'POST',
    path: '/publish',
    handler: (req, ctx) => {
      ctx.publish('events', { v: (req.body as { v: string }).v });
      return { status: 202, body: { ok: true } };
    },
  },
  {
    method: 'GET',
    path: '/boom',
    handler: () => {
      throw new Error('secret detail /etc/passwd');
    },
  },
  { method: 'GET', path: '/legacy/:name', handler: shim(legacyCounter) },
  { method: 'POST', path: '/legacy/:name', handler: shim(legacyCounter) },
  { method: 'GET', path: '/legacy-text', handler: shim(() => 'hello') },
  {
    method: 'GET',
    path: '/legacy-throws',
    handler: shim(() => {
      throw new TypeError('leaky message');
    }),
  },
];

let gw: Gateway<StoreView>;
let url: string;
let store: FacetedStore;
let esPrivate: CryptoKey;
let apiKeyHash: string;

before(async () => {
  store = FacetedStore.memory();
  const pair = await generateKeyPair('ES256');
  esPrivate = pair.privateKey;
  apiKeyHash = await hashApiKey('k3y-secret', { N: 1024, r: 8, p: 1 });
  const config = parseConfig({
    server: { bodyLimit: 1024 },
    tags: ['alice', 'bob', 'staff'],
    auth: {
      jwt: {
        secret: JWT_SECRET,
        publicKey: await exportSPKI(pair.publicKey),
        publicKeyAlgorithm: 'ES256',
      },
    },
    principals: {
      alice: { clearance: { secrecy: ['alice'] } },
      bob: { clearance: { secrecy: ['bob'] } },
      admin: { clearance: { secrecy: ['alice', 'bob'] } },
      guest: { clearance: {} },
      robot: {
        clearance: { secrecy: ['alice'] },
        apiKeys: [{ id: 'robot1', hash: apiKeyHash }],
      },
    },
  });
  gw = await Gateway.create<StoreView>({
    config,
    engine,
    tags,
    storeAt: (l) => store.at(l),
    routes,
    streams: [
      // Each subscriber's source is built at its invocation label: items above it are refused
      // at the source (audited) and never reach the response.
      {
        path: '/sse/readings',
        stream: (label) => from(readings, { label, labelOf: labelOfOwner }),
      },
      // A fixed stream entirely secret to bob.
      { path: '/sse/bob-only', stream: from([10, 20], { label: B }) },
      // Live engine events, seen by a unit at the invocation label.
      { path: '/sse/events', stream: (label) => fromTopic(engine, 'events', { label }) },
    ],
  });
  url = await gw.listen({ port: 0 });
});

after(async () => {
  await gw.close();
});

const as = async (who: string) => ({ authorization: `Bearer ${await hsToken(who)}` });

describe('gateway: authentication', () => {
  it('absent credentials: 401 with the error shape and a challenge', async () => {
    const r = await call(`${url}/_sluice/whoami`);
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, {
      error: { code: 'unauthenticated', message: 'credentials are required' },
    });
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  });

  it('a valid HS256 token names the principal; its clearance is the invocation label', async () => {
    const r = await call(`${url}/_sluice/whoami`, { headers: await as('admin') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      principal: 'admin',
      label: { secrecy: ['alice', 'bob'], integrity: [] },
    });
  });

  it('a token signed with the configured ES256 public key is accepted', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('bob')
      .setExpirationTime('1m')
      .sign(esPrivate);
    const r = await call(`${url}/_sluice/whoami`, { token });
    assert.equal(r.status, 200);
    assert.equal((r.json as { principal: string }).principal, 'bob');
  });

  it('forged, expired, unsigned and unknown-subject tokens are 401', async () => {
    const forged = await hsToken('admin', { secret: 'another-secret-another-secret-00000' });
    const expired = await hsToken('admin', { exp: Math.floor(Date.now() / 1000) - 3600 });
    const [h, p] = (await hsToken('admin')).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p ?? ''}.`;
    const cases: [string, string][] = [
      [forged, 'the token is not valid'],
      [expired, 'the token has expired'],
      [none, 'the token is not valid'],
      [`${h ?? ''}.${p ?? ''}.AAAA`, 'the token is not valid'],
      [await hsToken('mallory'), 'unknown principal'],
    ];
    for (const [token, message] of cases) {
      const r = await call(`${url}/_sluice/whoami`, { token });
      assert.equal(r.status, 401, message);
      assert.deepEqual(r.json, { error: { code: 'unauthenticated', message } });
    }
    const basic = await call(`${url}/_sluice/whoami`, { headers: { authorization: 'Basic eDp5' } });
    assert.equal(basic.status, 401);
  });

  it('API keys: the right key authenticates; wrong secret, unknown id, both headers do not', async () => {
    const ok = await call(`${url}/_sluice/whoami`, {
      headers: { 'x-api-key': 'robot1.k3y-secret' },
    });
    assert.equal(ok.status, 200);
    assert.equal((ok.json as { principal: string }).principal, 'robot');
    // Cached after the first scrypt: the second call is the same answer.
    const again = await call(`${url}/_sluice/whoami`, {
      headers: { 'x-api-key': 'robot1.k3y-secret' },
    });
    assert.equal(again.status, 200);
    for (const key of ['robot1.wrong', 'nobody.k3y-secret', 'k3y-secret', '']) {
      const r = await call(`${url}/_sluice/whoami`, { headers: { 'x-api-key': key } });
      assert.equal(r.status, 401, key);
      assert.equal((r.json as { error: { code: string } }).error.code, 'unauthenticated');
    }
    const both = await call(`${url}/_sluice/whoami`, {
      headers: { 'x-api-key': 'robot1.k3y-secret', ...(await as('alice')) },
    });
    assert.equal(both.status, 401);
  });
});

describe('gateway: handlers at the invocation label', () => {
  it('each principal sees its projection of the same key', async () => {
    assert.equal(
      (
        await call(`${url}/kv/rec`, {
          method: 'PUT',
          json: 'from-alice',
          headers: await as('alice'),
        })
      ).status,
      204,
    );
    assert.equal(
      (await call(`${url}/kv/rec`, { method: 'PUT', json: 'from-bob', headers: await as('bob') }))
        .status,
      204,
    );
    const get = async (who: string, extra: Record<string, string> = {}) =>
      call(`${url}/kv/rec`, { headers: { ...(await as(who)), ...extra } });
    assert.deepEqual((await get('alice')).json, { value: 'from-alice' });
    assert.deepEqual((await get('bob')).json, { value: 'from-bob' });
    assert.deepEqual(
      (await get('admin')).json,
      { value: 'from-bob' },
      'newest facet ⊑ {alice,bob}',
    );
    assert.equal((await get('guest')).status, 404, 'public sees nothing');
    // A lower label the request asks for.
    assert.deepEqual((await get('admin', { 'sluice-label': 's=alice' })).json, {
      value: 'from-alice',
    });
    assert.equal((await get('admin', { 'sluice-label': 's=' })).status, 404);
  });

  it('a write at a lower requested label is seen at that label, and by those above it', async () => {
    const h = { ...(await as('admin')), 'sluice-label': 's=alice' };
    assert.equal(
      (await call(`${url}/kv/low`, { method: 'PUT', json: 42, headers: h })).status,
      204,
    );
    assert.deepEqual((await call(`${url}/kv/low`, { headers: await as('alice') })).json, {
      value: 42,
    });
    assert.equal((await call(`${url}/kv/low`, { headers: await as('bob') })).status, 404);
  });

  it('a label outside the clearance, or unknown tags, are refused alike (403) before the handler', async () => {
    const before = await snapshot();
    for (const label of ['s=bob', 's=nosuch', 'x=alice', 's=alice; s=bob', 'i=staff']) {
      const r = await call(`${url}/kv/rec`, {
        method: 'PUT',
        json: 'x',
        headers: { ...(await as('alice')), 'sluice-label': label },
      });
      assert.equal(r.status, 403, label);
      assert.deepEqual(r.json, {
        error: {
          code: 'label_not_permitted',
          message: 'the requested label is not within your clearance',
        },
      });
    }
    assert.equal(await snapshot(), before, 'nothing written');
  });

  it('a refused response is byte-identical to "not found" (unknown route, missing key)', async () => {
    const h = await as('alice');
    const refused = await call(`${url}/declared/bob`, { headers: h });
    const unknown = await call(`${url}/no/such/route`, { headers: h });
    const missing = await call(`${url}/kv/never-written`, { headers: h });
    const wrongMethod = await call(`${url}/declared/bob`, { method: 'DELETE', headers: h });
    for (const other of [unknown, missing, wrongMethod]) {
      assert.equal(refused.status, other.status);
      assert.equal(refused.text, other.text);
      assert.deepEqual(mattering(refused.headers), mattering(other.headers));
    }
    assert.equal(refused.status, 404);
    assert.deepEqual(refused.json, { error: { code: 'not_found', message: 'not found' } });
    assert.equal(engine.audit.counts()['refused-output'] !== undefined, true, 'audited');
    // Cleared for bob: the same route answers.
    const ok = await call(`${url}/declared/bob`, { headers: await as('bob') });
    assert.deepEqual(ok.json, { x: 1 });
  });

  it('a throwing handler is a 500 with the error shape, no stack, no message of its own', async () => {
    const r = await call(`${url}/boom`, { headers: await as('alice') });
    assert.equal(r.status, 500);
    assert.deepEqual(r.json, { error: { code: 'internal', message: 'internal error' } });
    assert.ok(!r.text.includes('passwd') && !r.text.includes('at '));
  });
});

describe('gateway: shim', () => {
  it('runs a plain (request) => response function unchanged, at the invocation label', async () => {
    const post = async (who: string) =>
      call(`${url}/legacy/visits`, { method: 'POST', headers: await as(who) });
    assert.deepEqual((await post('alice')).json, { count: 1 });
    assert.deepEqual((await post('alice')).json, { count: 2 });
    assert.deepEqual((await post('bob')).json, { count: 1 }, "bob's projection is his own");
    const get = await call(`${url}/legacy/visits`, { headers: await as('guest') });
    assert.deepEqual(get.json, { count: 0 }, 'public sees neither counter');
    const admin = await call(`${url}/legacy/visits`, { headers: await as('admin') });
    assert.deepEqual(admin.json, { count: 1 }, 'newest facet ⊑ admin: bob wrote last');
  });

  it('plain string results are text; a throwing plain function is a generic 500', async () => {
    const t = await call(`${url}/legacy-text`, { headers: await as('alice') });
    assert.equal(t.text, 'hello');
    assert.match(t.headers.get('content-type') ?? '', /^text\/plain/);
    const e = await call(`${url}/legacy-throws`, { headers: await as('alice') });
    assert.equal(e.status, 500);
    assert.ok(!e.text.includes('leaky'));
  });

  it('current() outside an invocation throws', () => {
    assert.throws(() => current(), /not inside a gateway invocation/);
  });
});

describe('gateway: SSE', () => {
  it('each principal receives only the items its clearance allows', async () => {
    const got = async (who: string) => {
      const r = await readSse(`${url}/sse/readings`, await as(who));
      assert.equal(r.status, 200);
      assert.equal(r.ended, true);
      return r.items.map((i) => (i as { v: number }).v);
    };
    assert.deepEqual(await got('alice'), [1, 3, 4]);
    assert.deepEqual(await got('bob'), [2, 3, 5]);
    assert.deepEqual(await got('guest'), [3]);
    assert.deepEqual(await got('admin'), [1, 2, 3, 4, 5]);
  });

  it('a stream entirely above the clearance is "not found", identical to an unknown route', async () => {
    const h = await as('alice');
    const refused = await call(`${url}/sse/bob-only`, { headers: h });
    const unknown = await call(`${url}/sse/nothing-here`, { headers: h });
    assert.equal(refused.status, 404);
    assert.equal(refused.text, unknown.text);
    assert.deepEqual(mattering(refused.headers), mattering(unknown.headers));
    const bob = await readSse(`${url}/sse/bob-only`, await as('bob'));
    assert.deepEqual(bob.items, [10, 20]);
  });

  it('live events: handlers publish at their label; a subscriber gets only what flows to it', async () => {
    const hAlice = await as('alice');
    const hBob = await as('bob');
    const r = await readSse(`${url}/sse/events`, hAlice, {
      count: 1,
      onOpen: async () => {
        await new Promise((res) => setTimeout(res, 50));
        await call(`${url}/publish`, { method: 'POST', json: { v: 'bob-secret' }, headers: hBob });
        await call(`${url}/publish`, { method: 'POST', json: { v: 'alice-1' }, headers: hAlice });
      },
    });
    assert.deepEqual(r.items, [{ v: 'alice-1' }]);
  });

  it('SSE needs authentication like any route', async () => {
    const r = await call(`${url}/sse/readings`);
    assert.equal(r.status, 401);
  });
});

describe('gateway: bad input', () => {
  const errorOf = (j: unknown) => (j as { error: { code: string; message: string } }).error;

  it('malformed JSON, oversized bodies, wrong content types, poisoning: 4xx, nothing written', async () => {
    const h = await as('alice');
    const before = await snapshot();
    const cases: [RequestInit, number, string][] = [
      [{ body: '{"a": ', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
      [{ body: '', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
      [
        { body: JSON.stringify('x'.repeat(5000)), headers: { 'content-type': 'application/json' } },
        413,
        'payload_too_large',
      ],
      [{ body: 'hello', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
      [
        { body: '<a/>', headers: { 'content-type': 'application/xml' } },
        415,
        'unsupported_media_type',
      ],
      [
        { body: '{"__proto__": {"admin": true}}', headers: { 'content-type': 'application/json' } },
        400,
        'malformed_json',
      ],
      [
        {
          body: '{"constructor": {"prototype": {"x": 1}}}',
          headers: { 'content-type': 'application/json' },
        },
        400,
        'malformed_json',
      ],
    ];
    for (const [init, status, code] of cases) {
      const r = await call(`${url}/kv/bad`, {
        ...init,
        method: 'PUT',
        headers: { ...h, ...(init.headers as Record<string, string>) },
      });
      assert.equal(r.status, status, `${code}: ${r.text}`);
      assert.equal(errorOf(r.json).code, code);
      assert.deepEqual(Object.keys(r.json as object), ['error']);
      assert.deepEqual(Object.keys(errorOf(r.json)), ['code', 'message']);
      assert.ok(!r.text.includes('stack') && !r.text.includes('FST_'), r.text);
    }
    assert.equal(await snapshot(), before, 'nothing written');
    assert.equal((await call(`${url}/kv/bad`, { headers: h })).status, 404);
  });

  it('the body is not read before authentication: an unauthenticated bad body is a 401', async () => {
    const r = await call(`${url}/kv/bad`, {
      method: 'PUT',
      body: '{"a": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 401);
  });

  it('unknown routes are 404 with the error shape, with or without credentials', async () => {
    for (const headers of [{}, await as('alice')]) {
      const r = await call(`${url}/definitely/not/here`, { headers });
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, { error: { code: 'not_found', message: 'not found' } });
    }
  });

  it('health needs no credentials', async () => {
    const r = await call(`${url}/_sluice/health`);
    assert.deepEqual(r.json, { status: 'ok' });
  });
});
