import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Engine } from '../engine/engine.js';
import { Label } from '../labels.js';
import {
  invoke,
  NOT_FOUND,
  NOT_FOUND_OUTCOME,
  type GatewayRequest,
  type GatewayResponse,
  type Handler,
  type HandlerContext,
} from './handler.js';
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

/** A frozen store-like target (the gateway's store views are frozen, so the handle is no Proxy). */
class Box {
  readonly #v = { n: 0 };
  get(): number {
    return this.#v.n;
  }
  put(n: number): void {
    this.#v.n = n;
  }
}
Object.freeze(Box.prototype);
const boxHost = (timeoutMs: number) => {
  const box = Object.freeze(new Box()) as Box;
  return { box, host: { engine, storeAt: () => box, timeoutMs } };
};

describe('invoke: the deadline and the context', () => {
  it('a handler that never settles times out; its handle is dead and its late result ignored', async () => {
    await tick();
    const before = engine.audit.counts()['unit-error'] ?? 0;
    const { box, host: h } = boxHost(20);
    let kept: Box | undefined;
    let finish: ((r: GatewayResponse) => void) | undefined;
    const out = await invoke<Box>(
      (_r, ctx) => {
        kept = ctx.store;
        kept.put(1);
        return new Promise((resolve) => (finish = resolve));
      },
      req,
      principal,
      principal.clearance,
      h,
    );
    assert.deepEqual(out, { kind: 'timeout' });
    assert.throws(() => kept?.put(2), /this invocation has ended/);
    assert.throws(() => kept?.get(), /this invocation has ended/);
    assert.equal(box.get(), 1, 'only the write made in time');
    finish?.({ body: 'late' });
    await tick();
    assert.equal(engine.audit.counts()['unit-error'], before + 1, 'the timeout, audited once');
  });

  it('the same outcome whether the handler answers at once or later', async () => {
    const { host: h } = boxHost(1000);
    const sync = await invoke(() => ({ body: { a: 1 } }), req, principal, principal.clearance, h);
    const later = await invoke(
      async () => {
        await tick();
        return { body: { a: 1 } };
      },
      req,
      principal,
      principal.clearance,
      h,
    );
    assert.deepEqual(sync, later);
    assert.equal(sync.kind, 'response');
    const thrown = await invoke(
      () => {
        throw new Error('x');
      },
      req,
      principal,
      principal.clearance,
      h,
    );
    const rejected = await invoke(
      () => Promise.reject(new Error('x')),
      req,
      principal,
      principal.clearance,
      h,
    );
    const notObject = await invoke(
      () => 7 as unknown as GatewayResponse,
      req,
      principal,
      principal.clearance,
      h,
    );
    for (const o of [thrown, rejected, notObject]) assert.deepEqual(o, { kind: 'error' });
  });

  it('invocations ending in any order each get their own outcome; a hung one still times out', async () => {
    const { host: h } = boxHost(40);
    const gates: (() => void)[] = [];
    const run = (i: number) =>
      invoke(
        async (_r, ctx) => {
          if (i === 0) return new Promise<GatewayResponse>(() => undefined); // hangs
          await new Promise<void>((r) => gates.push(r));
          return { body: { i, who: ctx.principal } };
        },
        req,
        principal,
        principal.clearance,
        h,
      );
    const outs = [0, 1, 2, 3, 4].map(run);
    await tick();
    for (const g of [...gates].reverse()) g(); // the newest first
    const got = await Promise.all(outs);
    assert.deepEqual(got[0], { kind: 'timeout' });
    for (let i = 1; i < 5; i++) {
      const o = got[i];
      assert.equal(o?.kind, 'response');
      assert.equal(o.kind === 'response' ? o.body : '', JSON.stringify({ i, who: 'p' }));
    }
  });

  it('the context is frozen, cannot be made by a handler, and dies with the invocation', async () => {
    const { host: h } = boxHost(1000);
    let ctx: HandlerContext<Box> | undefined;
    await invoke<Box>(
      (_r, c) => {
        ctx = c;
        assert.ok(Object.isFrozen(c));
        assert.ok(Object.isFrozen(Object.getPrototypeOf(c)));
        assert.equal(c.principal, 'p');
        assert.equal(c.label, principal.clearance);
        assert.equal(c.store, c.store, 'one store handle per invocation');
        assert.equal(c.notFound(), NOT_FOUND);
        const Ctor = (c as unknown as { constructor: new (...a: unknown[]) => unknown })
          .constructor;
        assert.throws(() => new Ctor(Symbol('sluice.gateway.context'), {}), TypeError);
        assert.throws(() => {
          'use strict';
          (c as { principal: string }).principal = 'root';
        }, TypeError);
        return { status: 204 };
      },
      req,
      principal,
      principal.clearance,
      h,
    );
    // eslint-disable-next-line @typescript-eslint/unbound-method -- publish is bound to its invocation
    const { publish } = ctx as HandlerContext<Box>;
    assert.throws(() => ctx?.store, /this invocation has ended/);
    assert.throws(() => publish('t', { v: 1 }), /this invocation has ended/);
  });

  it('publish works taken off the context while the invocation runs', async () => {
    const { host: h } = boxHost(1000);
    const out = await invoke<Box>(
      (_r, ctx) => {
        // eslint-disable-next-line @typescript-eslint/unbound-method -- publish is bound to its invocation
        const { publish } = ctx;
        return { body: { sent: publish('handler-test', { v: 1 }) } };
      },
      req,
      principal,
      principal.clearance,
      h,
    );
    assert.equal(out.kind === 'response' ? out.body : '', JSON.stringify({ sent: true }));
  });
});
