/**
 * The gateway's edges over real HTTP: handler timeouts (and that a timed-out invocation can no
 * longer write), "refused" byte-identical to "absent" on the wire (GET and SSE), and every kind
 * of bad input from issue #4 answered with the stable error shape, no stack, nothing written.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../src/engine/engine.js';
import { Label } from '../src/labels.js';
import { from } from '../src/pipeline/sources/from.js';
import { fromTopic } from '../src/pipeline/sources/from-topic.js';
import { createTags, Gateway, parseConfig, type Route } from '../src/gateway.js';
import { FacetedStore, type StoreView } from '../src/store.js';
import {
  ALICE_BOB_GUEST,
  call,
  hsToken,
  raw,
  readSse,
  kvRoutes,
} from './support/gateway-client.js';

const engine = new Engine();
const tags = createTags(engine, ['alice', 'bob']);
const A = Label.secrecy(tags.get('alice')!.tag);
const B = Label.secrecy(tags.get('bob')!.tag);
const TOP = A.join(B);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the timed-out spinner saw: the writes it made and the first one refused. */
const spin = { writes: 0, refusedAt: 0, refusal: '', publishRefused: '' };
let store: FacetedStore;

const routes: Route<StoreView>[] = [
  ...kvRoutes,
  // Reads the key, then declares its response secret to bob.
  {
    method: 'GET',
    path: '/bob-only/:k',
    handler: async (req, ctx) => {
      const v = await ctx.store.get(req.params.k ?? '');
      return { body: { value: v ?? null }, headers: { 'x-extra': 'yes' }, status: 201, label: B };
    },
  },
  { method: 'GET', path: '/hang', timeoutMs: 100, handler: () => new Promise(() => undefined) },
  {
    // Keeps writing (yielding to the event loop between writes) long after its deadline.
    method: 'POST',
    path: '/spin',
    timeoutMs: 100,
    handler: async (_req, ctx) => {
      const s = ctx.store;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- the handle binds its methods
      const { put } = s; // a method taken off the handle is checked too
      for (let i = 1; ; i++) {
        await tick();
        await sleep(5);
        try {
          await put('spin', i);
          spin.writes = i;
        } catch (e) {
          spin.refusedAt = i;
          spin.refusal = (e as Error).message;
          try {
            ctx.publish('events', { v: 'late' });
          } catch (p) {
            spin.publishRefused = (p as Error).message;
          }
          return { status: 200 };
        }
      }
    },
  },
  { method: 'GET', path: '/fast', handler: () => ({ body: { ok: true } }) },
];

let gw: Gateway<StoreView>;
let url: string;

before(async () => {
  store = FacetedStore.memory();
  const config = parseConfig({ ...ALICE_BOB_GUEST, server: { bodyLimit: 1024 } });
  gw = await Gateway.create<StoreView>({
    config,
    engine,
    tags,
    storeAt: (l) => store.at(l),
    routes,
    streams: [
      { path: '/sse/bob-only', stream: from([1, 2], { label: B }) },
      // Alice's and bob's readings and a public one: a guest sees only the public one.
      {
        path: '/sse/mixed',
        stream: (label) =>
          from([{ v: 'a' }, { v: 'p' }, { v: 'b' }], {
            label,
            labelOf: (r) => (r.v === 'a' ? A : r.v === 'b' ? B : Label.public),
          }),
      },
      // Only the public reading: what a guest must not be able to tell apart from the above.
      { path: '/sse/public', stream: from([{ v: 'p' }], { label: Label.public }) },
      { path: '/sse/events', stream: (label) => fromTopic(engine, 'events', { label }) },
    ],
  });
  url = await gw.listen();
});

after(async () => {
  await gw.close();
  await store.close();
});

const bearer = async (who: string) => `Bearer ${await hsToken(who)}`;
const as = async (who: string) => ({ authorization: await bearer(who) });
const everything = async () => JSON.stringify(await store.at(TOP).scan({ limit: 1000 }));

describe('gateway: handler timeout', () => {
  it('a handler that never resolves gets a 504 with the error shape; others are served meanwhile', async () => {
    const hung = call(`${url}/hang`, { headers: await as('alice') });
    let hungDone = false;
    void hung.then(() => (hungDone = true));
    const fast = await call(`${url}/fast`, { headers: await as('bob') });
    assert.deepEqual(fast.json, { ok: true });
    assert.equal(hungDone, false, 'the fast request did not wait for the hung one');
    const r = await hung;
    assert.equal(r.status, 504);
    assert.deepEqual(r.json, {
      error: { code: 'timeout', message: 'the handler did not finish in time' },
    });
    // The same bytes for every principal: the deadline is the route's, not the data's.
    const guest = await call(`${url}/hang`, { headers: await as('guest') });
    assert.equal(guest.status, 504);
    assert.equal(guest.text, r.text);
  });

  it('a timed-out invocation can no longer write or publish: later writes are refused', async () => {
    const events = readSse(`${url}/sse/events`, await as('alice'), { ms: 600 });
    const r = await call(`${url}/spin`, { method: 'POST', headers: await as('alice') });
    assert.equal(r.status, 504);
    const atTimeout = spin.writes;
    await sleep(200);
    assert.ok(spin.refusedAt > 0, 'the spinner tried again after its deadline');
    assert.equal(spin.refusedAt, atTimeout + 1, 'the first write after the deadline was refused');
    assert.equal(spin.refusal, 'this invocation has ended');
    assert.equal(spin.publishRefused, 'this invocation has ended');
    const seen = await store.at(A).get('spin');
    assert.equal(seen ?? 0, atTimeout, 'the store holds only what was written in time');
    assert.deepEqual((await events).items, [], 'nothing was published after the deadline');
  });

  it('the timeout is validated per route', async () => {
    await assert.rejects(
      Gateway.create({
        config: parseConfig({ principals: { x: { clearance: {} } } }),
        storeAt: () => null,
        routes: [{ method: 'GET', path: '/x', timeoutMs: 0, handler: () => ({}) }],
      }),
      /timeoutMs is an integer from 1 to 600000/,
    );
    assert.throws(
      () => parseConfig({ server: { handlerTimeoutMs: -1 }, principals: { x: { clearance: {} } } }),
      /server\.handlerTimeoutMs/,
    );
  });
});

describe('gateway: refused is byte-identical to absent', () => {
  it('GET: refused at the boundary, hidden by the projection, absent, unknown route', async () => {
    await call(`${url}/kv/rec`, { method: 'PUT', json: 'bob-secret', headers: await as('bob') });
    const headers = await as('alice');
    const refused = await raw(url, { path: '/bob-only/rec', headers });
    const hidden = await raw(url, { path: '/kv/rec', headers });
    const absent = await raw(url, { path: '/kv/never-written', headers });
    const unknown = await raw(url, { path: '/no/such/route', headers });
    assert.match(refused, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.ok(!refused.includes('x-extra') && !refused.includes('bob-secret'));
    for (const other of [hidden, absent, unknown]) assert.equal(refused, other);
    // Cleared for bob: the very same route answers with the handler's status and headers.
    const ok = await raw(url, { path: '/bob-only/rec', headers: await as('bob') });
    assert.match(ok, /^HTTP\/1\.1 201 Created\r\n/);
    assert.match(ok, /x-extra: yes/);
  });

  it('SSE: a refused stream is the same 404 as no stream at all', async () => {
    const headers = await as('alice');
    const refused = await raw(url, { path: '/sse/bob-only', headers });
    const unknown = await raw(url, { path: '/sse/nothing', headers });
    assert.match(refused, /^HTTP\/1\.1 404 /);
    assert.equal(refused, unknown);
  });

  it('SSE: items above the clearance leave no trace in the bytes sent', async () => {
    const headers = { ...(await as('guest')), accept: 'text/event-stream' };
    const mixed = await raw(url, { path: '/sse/mixed', headers });
    const only = await raw(url, { path: '/sse/public', headers });
    assert.match(mixed, /event: item\r?\ndata: \{"v":"p"\}/);
    assert.equal(mixed, only);
  });

  it('refusals are audited after the response, not before it', async () => {
    const before = engine.audit.counts()['refused-output'] ?? 0;
    await call(`${url}/bob-only/rec`, { headers: await as('guest') });
    await tick();
    assert.equal(engine.audit.counts()['refused-output'], before + 1);
  });
});

describe('gateway: bad input, all of it', () => {
  const JSON_TYPE = { 'content-type': 'application/json' };
  it('every bad request gets a stable error shape, no stack, and writes nothing', async () => {
    const ok = await bearer('alice');
    const [h, p] = ok.slice(7).split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p ?? ''}.`;
    const forged = await hsToken('alice', { secret: 'not-the-secret-not-the-secret-000000' });
    const expired = await hsToken('alice', { exp: Math.floor(Date.now() / 1000) - 3600 });
    const body = '{"v":1}';
    type Case = [string, { path?: string; headers: Record<string, string>; body?: string }];
    const cases: [...Case, number, string][] = [
      [
        'malformed JSON',
        { headers: { authorization: ok, ...JSON_TYPE }, body: '{"v":' },
        400,
        'malformed_json',
      ],
      [
        'oversized body',
        { headers: { authorization: ok, ...JSON_TYPE }, body: JSON.stringify('x'.repeat(4000)) },
        413,
        'payload_too_large',
      ],
      [
        'wrong content type',
        { headers: { authorization: ok, 'content-type': 'text/plain' }, body },
        415,
        'unsupported_media_type',
      ],
      [
        'form content type',
        {
          headers: { authorization: ok, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'v=1',
        },
        415,
        'unsupported_media_type',
      ],
      ['absent token', { headers: JSON_TYPE, body }, 401, 'unauthenticated'],
      [
        'expired token',
        { headers: { authorization: `Bearer ${expired}`, ...JSON_TYPE }, body },
        401,
        'unauthenticated',
      ],
      [
        'forged token',
        { headers: { authorization: `Bearer ${forged}`, ...JSON_TYPE }, body },
        401,
        'unauthenticated',
      ],
      [
        'alg=none token',
        { headers: { authorization: `Bearer ${none}`, ...JSON_TYPE }, body },
        401,
        'unauthenticated',
      ],
      [
        'tampered signature',
        { headers: { authorization: `Bearer ${h ?? ''}.${p ?? ''}.AAAA`, ...JSON_TYPE }, body },
        401,
        'unauthenticated',
      ],
      [
        'unknown route',
        { path: '/nope/x', headers: { authorization: ok, ...JSON_TYPE }, body },
        404,
        'not_found',
      ],
      [
        'bad sluice-label',
        { headers: { authorization: ok, ...JSON_TYPE, 'sluice-label': 's=alice;;x=%%' }, body },
        403,
        'label_not_permitted',
      ],
      [
        'huge sluice-label',
        {
          headers: { authorization: ok, ...JSON_TYPE, 'sluice-label': `s=${'alice,'.repeat(300)}` },
          body,
        },
        403,
        'label_not_permitted',
      ],
      [
        'label above clearance',
        { headers: { authorization: ok, ...JSON_TYPE, 'sluice-label': 's=alice,bob' }, body },
        403,
        'label_not_permitted',
      ],
      [
        'huge headers',
        { headers: { authorization: ok, ...JSON_TYPE, 'x-big': 'y'.repeat(20_000) }, body },
        431,
        'headers_too_large',
      ],
    ];
    const before = await everything();
    for (const [what, req, status, code] of cases) {
      const text = await raw(url, {
        method: 'PUT',
        path: req.path ?? '/kv/bad',
        headers: req.headers,
        ...(req.body === undefined ? {} : { body: req.body }),
      });
      const [head = '', payload = ''] = text.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${text}`);
      assert.match(head, /content-type: application\/json; charset=utf-8/i, what);
      const json = JSON.parse(payload) as { error: { code: string; message: string } };
      assert.deepEqual(Object.keys(json), ['error'], what);
      assert.deepEqual(Object.keys(json.error), ['code', 'message'], what);
      assert.equal(json.error.code, code, what);
      assert.ok(!/ at |stack|FST_|HPE_|Error:/.test(payload), `${what}: ${payload}`);
    }
    assert.equal(await everything(), before, 'nothing written');
  });

  it('a request Node cannot parse gets the error shape too', async () => {
    const { hostname, port } = new URL(url);
    const { connect } = await import('node:net');
    const text = await new Promise<string>((resolve) => {
      let out = '';
      const s = connect(Number(port), hostname, () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(
      text.endsWith('{"error":{"code":"bad_request","message":"the request is malformed"}}'),
    );
  });
});
