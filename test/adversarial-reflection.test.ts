/**
 * Adversarial: a unit tries to read a part it may not see (or merely learn that it exists)
 * through reflection on what it holds: an EventView, an Event from ctx.derive, their
 * prototypes and constructors. A hidden part must be exactly as if absent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Engine, Event, EventView, Label, SluiceError, type UnitContext } from '../src/index.js';

const SECRET = 'TOP-SECRET-7f3a9c';

interface Received {
  engine: Engine;
  secret: Label;
  low: UnitContext;
  /** The event with a hidden part, and the same event without it, as the low unit sees them. */
  withHidden: EventView;
  without: EventView;
  /** What a high unit received in the meantime (proof the secret part was delivered). */
  highSaw: unknown[];
}

function setup(): Received {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const secret = Label.secrecy(alice.tag);
  const views: EventView[] = [];
  const highSaw: unknown[] = [];
  const low = engine.unit({ name: 'low' }, (ctx) => {
    ctx.subscribe('t', (ev) => views.push(ev));
  });
  engine.unit({ name: 'high', label: secret }, (ctx) => {
    ctx.subscribe('t', (ev) => highSaw.push(ev.get('secret')));
  });
  const src = engine.unit({ name: 'src' });
  src.publish(
    't',
    src
      .event()
      .add('symbol', 'ACME')
      .add('secret', SECRET, secret)
      .add('n', [1, { k: 2 }]),
  );
  src.publish(
    't',
    src
      .event()
      .add('symbol', 'ACME')
      .add('n', [1, { k: 2 }]),
  );
  engine.flush();
  assert.equal(views.length, 2);
  return {
    engine,
    secret,
    low,
    withHidden: views[0]!,
    without: views[1]!,
    highSaw,
  };
}

/** Every way we know to dump an object, as one string. */
function dumpAll(x: object): string {
  const out: string[] = [];
  const tryPush = (f: () => unknown) => {
    try {
      const v = f();
      out.push(typeof v === 'string' ? v : inspect(v, { showHidden: true, depth: 8 }));
    } catch (e) {
      out.push(`threw ${String(e)}`);
    }
  };
  tryPush(() => Object.getOwnPropertyNames(x));
  tryPush(() => Reflect.ownKeys(x).map(String));
  tryPush(() => Object.getOwnPropertySymbols(x).map(String));
  tryPush(() => JSON.stringify(x));
  tryPush(() => ({ ...x }));
  tryPush(() => Object.entries(x));
  tryPush(() => Object.getOwnPropertyDescriptors(x));
  tryPush(() => inspect(x, { showHidden: true, depth: Infinity }));
  tryPush(() => inspect(x, { showHidden: true, depth: Infinity, customInspect: false }));
  tryPush(() => inspect(x, { showProxy: true, getters: true, customInspect: false }));
  tryPush(() => structuredClone(x));
  tryPush(() => Object.prototype.toString.call(x));
  tryPush(() => {
    const keys: string[] = [];
    for (const k in x) keys.push(k);
    return keys;
  });
  // Walk the prototype chain and dump every level.
  let proto: unknown = Object.getPrototypeOf(x);
  while (proto !== null && proto !== Object.prototype) {
    const p = proto as object;
    tryPush(() => Reflect.ownKeys(p).map(String));
    tryPush(() => Object.getOwnPropertyDescriptors(p));
    tryPush(() => inspect(p, { showHidden: true, depth: 4 }));
    proto = Object.getPrototypeOf(p);
  }
  return out.join('\n');
}

describe('adversarial: reflection on views and derived events', () => {
  it('the secret part was really delivered to the high unit (the tests below are not vacuous)', () => {
    const r = setup();
    assert.deepEqual(r.highSaw, [SECRET, undefined]);
  });

  it('no reflection on an EventView shows the hidden part, its name or its count', () => {
    const r = setup();
    const dump = dumpAll(r.withHidden);
    assert.ok(!dump.includes(SECRET), 'value leaked');
    assert.ok(!dump.includes('secret'), 'name leaked');
    // The dump of the event with a hidden part equals that of the same event without it.
    assert.equal(dump, dumpAll(r.without));
  });

  it('no reflection on an Event from ctx.derive shows the hidden part', () => {
    const r = setup();
    const derived = r.low.derive(r.withHidden);
    const dump = dumpAll(derived);
    assert.ok(!dump.includes(SECRET));
    assert.ok(!dump.includes('secret'));
    assert.ok(!dump.includes('ACME'), 'even visible parts are not reachable on an Event');
    assert.equal(dump, dumpAll(r.low.derive(r.without)));
  });

  it('a hidden part reads exactly as an absent one through every view method', () => {
    const r = setup();
    const a = r.withHidden;
    const b = r.without;
    for (const name of ['secret', 'symbol', 'n', 'nope', '__proto__', 'constructor', 'toString']) {
      assert.deepEqual(a.get(name), b.get(name), name);
      assert.deepEqual(a.getAll(name), b.getAll(name), name);
      assert.equal(a.has(name), b.has(name), name);
      assert.equal(a.labelOf(name), b.labelOf(name), name);
    }
    assert.equal(a.get('secret'), undefined);
    assert.equal(a.get('secret'), a.get('no-such-part'));
    assert.deepEqual(a.names(), b.names());
    assert.deepEqual(a.toJSON(), b.toJSON());
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(inspect(a), inspect(b));
    assert.equal(a.presence, b.presence);
    assert.equal(a.topic, b.topic);
  });

  it('prototype tricks: constructor, static members, methods called with another this', () => {
    const r = setup();
    const v = r.withHidden;
    // The constructor cannot mint a view (needs the engine's key), with or without `new`.
    const Ctor = v.constructor as unknown as new (...a: unknown[]) => EventView;
    assert.equal(Ctor, EventView);
    assert.throws(() => new Ctor(Symbol('sluice.view'), {}, Label.public, []), SluiceError);
    assert.throws(() => Reflect.construct(EventView, [undefined, v, r.secret, []]), SluiceError);
    // No static member of the constructors hands out anything.
    for (const C of [EventView, Event]) {
      for (const k of Reflect.ownKeys(C)) {
        assert.ok(['length', 'name', 'prototype'].includes(String(k)), `static ${String(k)}`);
      }
    }
    // Methods called on a forged `this` throw (private brand), never reveal anything.
    const fake = Object.create(EventView.prototype) as EventView;
    const proxy = new Proxy(v, {});
    for (const target of [fake, proxy, {}, r.without]) {
      for (const m of ['get', 'getAll', 'has', 'labelOf'] as const) {
        let res: unknown;
        try {
          res = (EventView.prototype[m] as (n: string) => unknown).call(target, 'secret');
        } catch (e) {
          assert.ok(e instanceof TypeError, 'a forged this fails the private brand check');
          continue;
        }
        assert.ok(res === undefined || res === false || (Array.isArray(res) && res.length === 0));
      }
    }
    // The derived Event's prototype has only `add` (and its inspect hook).
    const names = Reflect.ownKeys(Event.prototype).map(String);
    assert.deepEqual(names.sort(), ['Symbol(nodejs.util.inspect.custom)', 'add', 'constructor']);
  });

  it('a view cannot be turned into a readable event: derive gives an Event with no readers', () => {
    const r = setup();
    const d = r.low.derive(r.withHidden);
    assert.ok(d instanceof Event);
    assert.equal((d as unknown as { get?: unknown }).get, undefined);
    assert.equal((d as unknown as { parts?: unknown }).parts, undefined);
  });

  it('a forged view passed to derive is refused with a SluiceError', () => {
    const r = setup();
    const forged = Object.create(EventView.prototype) as EventView;
    assert.throws(() => r.low.derive(forged), { code: 'E_MALFORMED' });
    assert.throws(() => r.low.derive(new Proxy(r.withHidden, {})), { code: 'E_MALFORMED' });
    assert.throws(() => r.low.derive(Object.create(null) as EventView), { code: 'E_MALFORMED' });
  });
});

describe('adversarial: mutating received values', () => {
  it('a received part value is deeply frozen; other subscribers and the source are unaffected', () => {
    const engine = new Engine();
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    const original = { list: [1, 2, { deep: 'x' }], n: 1 };
    engine.unit({ name: 'vandal' }, (ctx) => {
      ctx.subscribe('t', (ev) => {
        const v = ev.get('v') as { list: unknown[]; n: number };
        const attempts: (() => void)[] = [
          () => {
            v.n = 99;
          },
          () => {
            v.list.push(3);
          },
          () => {
            (v.list[2] as { deep: string }).deep = 'y';
          },
          () => {
            Object.defineProperty(v, 'extra', { value: 1 });
          },
          () => {
            Object.setPrototypeOf(v, null);
          },
          () => {
            delete (v as Partial<typeof v>).n;
          },
        ];
        for (const f of attempts) {
          try {
            f();
            errors.push('no error');
          } catch (e) {
            errors.push(e instanceof TypeError ? 'TypeError' : String(e));
          }
        }
      });
    });
    for (const name of ['reader-1', 'reader-2']) {
      engine.unit({ name }, (ctx) => {
        ctx.subscribe('t', (ev) => seen.push([name, ev.toJSON()]));
      });
    }
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('v', original));
    src.publish('t', src.event().add('v', original));
    // The source's own object is a separate, still mutable copy.
    original.n = 2;
    engine.flush();
    assert.deepEqual(errors, Array<string>(12).fill('TypeError'));
    const expected = { v: { list: [1, 2, { deep: 'x' }], n: 1 } };
    assert.deepEqual(seen, [
      ['reader-1', expected],
      ['reader-2', expected],
      ['reader-1', expected],
      ['reader-2', expected],
    ]);
    assert.equal(engine.audit.counts()['unit-error'], undefined);
  });

  it('mutating a value after add does not change the published part', () => {
    const engine = new Engine();
    const seen: unknown[] = [];
    engine.unit({ name: 'r' }, (ctx) => ctx.subscribe('t', (ev) => seen.push(ev.get('v'))));
    const src = engine.unit({ name: 'src' });
    const v = { a: [1] };
    const e = src.event().add('v', v);
    v.a.push(2);
    src.publish('t', e);
    engine.flush();
    assert.deepEqual(seen, [{ a: [1] }]);
  });

  it('sink records are frozen: the sink cannot alter what the next sink receives', () => {
    const engine = new Engine();
    const got: unknown[] = [];
    const s1 = engine.sink('s1', Label.public, (rec) => {
      assert.throws(() => {
        (rec.parts as unknown[]).push({});
      }, TypeError);
      assert.throws(() => {
        (rec.parts[0] as { value: unknown }).value = 'changed';
      }, TypeError);
      got.push(rec.parts.map((p) => p.value));
    });
    const u = engine.unit({ name: 'u' });
    u.output(s1, u.event().add('x', { y: 1 }));
    u.output(s1, u.event().add('x', { y: 1 }));
    assert.deepEqual(got, [[{ y: 1 }], [{ y: 1 }]]);
  });
});
