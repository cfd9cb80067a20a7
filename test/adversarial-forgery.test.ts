/**
 * Adversarial: forging capabilities. Privileges, tags, labels and sinks are objects a unit may
 * hold; none can be forged, cloned or proxied into a working one, and a sink handle cannot be
 * written through.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Engine,
  Label,
  Privilege,
  Sink,
  SluiceError,
  Tag,
  type EventView,
  type SinkRecord,
} from '../src/index.js';
import { PrivilegeSet } from '../src/tcb/index.js';

const SECRET = 'FORGED-SECRET-51c2e0';

/** Everything we know how to make that looks like `genuine`. */
function forgeriesOf(genuine: object): unknown[] {
  const proto = Object.getPrototypeOf(genuine) as object;
  const plain = { ...genuine } as Record<string, unknown>;
  const out: unknown[] = [
    Object.create(proto),
    Object.assign(Object.create(proto) as object, plain),
    plain,
    { tag: (genuine as { tag?: unknown }).tag, kind: (genuine as { kind?: unknown }).kind },
    new Proxy(genuine, {}),
    new Proxy(Object.create(proto) as object, {
      get: (_t, k) => Reflect.get(genuine, k, genuine) as unknown,
      getPrototypeOf: () => proto,
    }),
    JSON.parse(JSON.stringify(plain)) as unknown,
  ];
  try {
    out.push(structuredClone(genuine));
  } catch {
    // structuredClone refusing is fine too.
  }
  return out;
}

describe('adversarial: forged privileges', () => {
  it('engine.unit refuses forged, cloned and proxied privileges', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    for (const p of [alice.plus, alice.minus, alice.plusAuth, alice.minusAuth]) {
      for (const f of forgeriesOf(p)) {
        assert.equal(Privilege.isPrivilege(f), false);
        assert.throws(
          () => engine.unit({ name: `u-${String(Math.random())}`, privileges: [f as Privilege] }),
          (e: unknown) => e instanceof SluiceError && e.code === 'E_MALFORMED',
        );
      }
    }
    // The constructor itself is closed.
    const Ctor = Privilege as unknown as new (...a: unknown[]) => Privilege;
    assert.throws(() => new Ctor(Symbol('sluice.privilege.mint'), alice.tag, 'minus'), SluiceError);
    // Nothing was granted: no unit holds any privilege but those started with none.
    assert.equal(engine.stats().units, 0);
  });

  it('a unit holding forged privileges cannot declassify; the genuine one can', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const secret = Label.secrecy(alice.tag);
    const outs: SinkRecord[] = [];
    const pub = engine.sink('pub', Label.public, (r) => outs.push(r));
    assert.throws(() =>
      engine.unit({
        name: 'x',
        label: secret,
        privileges: forgeriesOf(alice.minus) as Privilege[],
      }),
    );
    const weak = engine.unit({ name: 'weak', label: secret });
    assert.throws(() => {
      weak.output(pub, weak.event().add('v', SECRET));
    }, SluiceError);
    assert.throws(() => weak.event().add('v', SECRET, Label.public), { code: 'E_FLOW' });
    assert.throws(
      () => {
        weak.changeLabel(Label.public);
      },
      { code: 'E_PRIVILEGE' },
    );
    const strong = engine.unit({ name: 'strong', label: secret, privileges: [alice.minus] });
    strong.output(pub, strong.event().add('v', 'declassified', Label.public), {
      presence: Label.public,
    });
    assert.deepEqual(
      outs.map((r) => r.parts.map((p) => p.value)),
      [['declassified']],
    );
  });

  it('privileges cannot be serialized and a clone is not a privilege', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    assert.throws(() => JSON.stringify(alice.plus), { code: 'E_MALFORMED' });
    assert.throws(() => JSON.stringify(alice), { code: 'E_MALFORMED' });
    const clone: unknown = structuredClone(alice.plus);
    assert.equal(Privilege.isPrivilege(clone), false);
    assert.throws(() => PrivilegeSet.from([clone]), { code: 'E_MALFORMED' });
    // Privilege objects are frozen: no way to re-point one at another tag.
    const bob = engine.createTag('bob');
    assert.throws(() => {
      Object.defineProperty(alice.plus, 'tag', { value: bob.tag });
    }, TypeError);
    assert.equal(alice.plus.tag, alice.tag);
  });

  it('ctx.grant with a forged tag, a cloned tag or a bogus kind grants nothing', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const giver = engine.unit({ name: 'giver', privileges: alice.all });
    const taker = engine.unit({ name: 'taker' });
    const badTags: unknown[] = [
      Object.create(Tag.prototype),
      { id: alice.tag.id, name: 'alice' },
      new Proxy(alice.tag, {}),
      structuredClone(alice.tag),
      JSON.parse(JSON.stringify(alice.tag)),
      alice.tag.id,
      alice.plus,
    ];
    for (const t of badTags) {
      assert.throws(() => {
        giver.grant('taker', t as Tag, 'plus');
      }, SluiceError);
    }
    assert.throws(() => {
      giver.grant('taker', alice.tag, 'everything' as 'plus');
    }, SluiceError);
    assert.deepEqual(taker.privileges, []);
    assert.equal(engine.audit.counts()['grant'], undefined);
    assert.equal(engine.audit.counts()['refused-grant'], badTags.length + 1);
    // Without the auth, even a genuine tag cannot be granted onward.
    assert.throws(
      () => {
        taker.grant('giver', alice.tag, 'plus');
      },
      { code: 'E_PRIVILEGE' },
    );
    giver.grant('taker', alice.tag, 'plus');
    assert.deepEqual(taker.privileges, [`${alice.tag.toString()}+`]);
  });

  it('forged tags and labels are refused wherever a label is taken', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const u = engine.unit({ name: 'u' });
    for (const t of forgeriesOf(alice.tag)) {
      assert.equal(Tag.isTag(t), false);
      assert.throws(() => Label.secrecy(t as Tag), SluiceError);
    }
    for (const l of forgeriesOf(Label.secrecy(alice.tag))) {
      assert.equal(Label.isLabel(l), false);
      assert.throws(() => u.event().add('x', 1, l as Label), SluiceError);
      assert.throws(() => {
        u.changeLabel(l as Label);
      }, SluiceError);
      assert.throws(() => engine.unit({ name: 'v', label: l as Label }), SluiceError);
      assert.throws(() => engine.sink('s', l as Label, () => undefined), SluiceError);
      assert.throws(() => u.publish('t', u.event(), { presence: l as Label }), SluiceError);
    }
    const Ctor = Tag as unknown as new (...a: unknown[]) => Tag;
    assert.throws(() => new Ctor(Symbol('sluice.tag.mint'), 'a'.repeat(32), 'x'), SluiceError);
  });
});

describe('adversarial: sinks', () => {
  function scene() {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const secret = Label.secrecy(alice.tag);
    const written: SinkRecord[] = [];
    const sink = engine.sink('console', Label.public, (r) => written.push(r));
    const views: EventView[] = [];
    const low = engine.unit({ name: 'low' }, (ctx) => ctx.subscribe('t', (ev) => views.push(ev)));
    const otherSeen: unknown[] = [];
    engine.unit({ name: 'other', label: secret }, (ctx) =>
      ctx.subscribe('t', (ev) => otherSeen.push(ev.get('secret'))),
    );
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('pub', 1).add('secret', SECRET, secret));
    engine.flush();
    return { engine, alice, secret, written, sink, low, view: views[0]!, otherSeen };
  }

  it('a unit cannot construct its own sink to receive hidden parts (the fixed leak)', () => {
    const s = scene();
    let stolen: unknown;
    const evil = (r: SinkRecord) => {
      stolen = r;
    };
    const Ctor = s.sink.constructor as unknown as new (...a: unknown[]) => Sink;
    assert.equal(Ctor, Sink);
    assert.throws(() => new Ctor('evil', s.secret, evil), { code: 'E_MALFORMED' });
    assert.throws(() => new Ctor(Symbol('sluice.sink'), 'evil', s.secret, evil), {
      code: 'E_MALFORMED',
    });
    assert.throws(() => Reflect.construct(Sink, ['evil', s.secret, evil]), SluiceError);
    // Forged sink-like objects are refused by output, before anything is written.
    const forged: unknown[] = [
      Object.create(Sink.prototype),
      Object.defineProperties(Object.create(Sink.prototype) as object, {
        name: { value: 'evil' },
        label: { value: s.secret },
        write: { value: evil },
      }),
      { name: 'evil', label: s.secret, write: evil },
      new Proxy(s.sink, {}),
    ];
    for (const f of forged) {
      assert.throws(
        () => {
          s.low.output(f as Sink, s.low.derive(s.view));
        },
        { code: 'E_MALFORMED' },
      );
    }
    assert.equal(stolen, undefined);
    assert.deepEqual(s.otherSeen, [SECRET]);
  });

  it('a sink handle has no way to write: no own keys, no write method on it or its prototype', () => {
    const s = scene();
    assert.deepEqual(Reflect.ownKeys(s.sink), []);
    assert.deepEqual(Reflect.ownKeys(Sink.prototype).map(String).sort(), [
      'constructor',
      'label',
      'name',
    ]);
    assert.deepEqual(Reflect.ownKeys(Sink).map(String).sort(), ['length', 'name', 'prototype']);
    assert.equal(JSON.stringify(s.sink), '{}');
    assert.equal(s.written.length, 0);
  });

  it('outputting a derived event to a public sink withholds the hidden part silently', () => {
    const s = scene();
    s.low.output(s.sink, s.low.derive(s.view).add('note', 'n'));
    assert.deepEqual(
      s.written.map((r) => r.parts.map((p) => [p.name, p.value])),
      [
        [
          ['pub', 1],
          ['note', 'n'],
        ],
      ],
    );
    assert.ok(!JSON.stringify(s.written, (_k, v: unknown) => v).includes(SECRET));
  });

  it('a host sink at the secret label may receive a forwarded hidden part (by design)', () => {
    const s = scene();
    const high: SinkRecord[] = [];
    const vault = s.engine.sink('vault', s.secret, (r) => high.push(r));
    s.low.output(vault, s.low.derive(s.view));
    assert.deepEqual(
      high.map((r) => r.parts.map((p) => p.value)),
      [[1, SECRET]],
    );
  });
});
