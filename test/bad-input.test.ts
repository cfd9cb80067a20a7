/**
 * Bad input: everything the public API refuses is refused with a SluiceError subclass carrying
 * a stable code, and a misbehaving unit never stops the engine or starves other units.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  AuditLog,
  ConfigError,
  Engine,
  Label,
  MalformedInputError,
  OverloadError,
  SluiceError,
  Tag,
  type EventView,
  type Filter,
  type Handler,
  type LabelSpec,
  type Sink,
  type UnitContext,
} from '../src/index.js';

/** Assert `f` throws a SluiceError of class `C` with code `code`. */
function refuses(
  f: () => unknown,
  C: abstract new (...a: never[]) => SluiceError,
  code: string,
  what = '',
): void {
  assert.throws(
    f,
    (e: unknown) => {
      assert.ok(e instanceof SluiceError, `${what}: ${String(e)} is not a SluiceError`);
      assert.ok(e instanceof C, `${what}: ${e.name} is not a ${C.name}`);
      assert.equal(e.code, code, what);
      assert.equal(e.name, e.constructor.name);
      return true;
    },
    what,
  );
}

describe('bad input: labels and tags', () => {
  const engine = new Engine();
  const alice = engine.createTag('alice');

  it('Label.of refuses non-tags and malformed specs', () => {
    const bad: unknown[] = [
      null,
      5,
      'alice',
      { secrecy: 5 },
      { secrecy: 'ab' },
      { secrecy: [alice.tag, 'x'] },
      { integrity: [{}] },
      { integrity: [alice.tag.id] },
      { secrecy: [alice.plus] },
      { secrecy: [Label.public] },
      { secrecy: [null] },
    ];
    for (const b of bad)
      refuses(() => Label.of(b as LabelSpec), MalformedInputError, 'E_MALFORMED', inspect(b));
    refuses(() => Label.secrecy('x' as unknown as Tag), MalformedInputError, 'E_MALFORMED');
    refuses(() => Label.integrity(Object.create(null) as Tag), MalformedInputError, 'E_MALFORMED');
    refuses(() => Label.assert({}), MalformedInputError, 'E_MALFORMED');
  });

  it('Label.fromJSON refuses garbage and unknown tags', () => {
    const garbage: unknown[] = [
      null,
      undefined,
      1,
      'x',
      [],
      {},
      { secrecy: [] },
      { secrecy: 'x', integrity: [] },
      { secrecy: [1], integrity: [] },
      { secrecy: ['nothex'], integrity: [] },
      { secrecy: [{ id: 5 }], integrity: [] },
      { secrecy: [], integrity: [null] },
    ];
    for (const g of garbage) {
      refuses(() => Label.fromJSON(g), MalformedInputError, 'E_MALFORMED', inspect(g));
    }
    const unknown = { secrecy: ['0'.repeat(32)], integrity: [] };
    refuses(() => Label.fromJSON(unknown), MalformedInputError, 'E_UNKNOWN_TAG');
    refuses(
      () => Tag.fromJSON({ id: 'f'.repeat(32), name: 'x' }),
      MalformedInputError,
      'E_UNKNOWN_TAG',
    );
    // A good round trip still works.
    const l = Label.of({ secrecy: [alice.tag] });
    assert.equal(Label.fromJSON(JSON.parse(JSON.stringify(l))), l);
  });

  it('tag names are checked', () => {
    for (const n of ['', 'a b', 'x\n', 'a'.repeat(129), 5, null]) {
      refuses(() => engine.createTag(n as string), MalformedInputError, 'E_MALFORMED', String(n));
      refuses(
        () => engine.unit({ name: `t-${String(n)}` }).createTag(n as string),
        MalformedInputError,
        'E_MALFORMED',
      );
    }
  });
});

describe('bad input: part names and values', () => {
  const engine = new Engine();
  const u = engine.unit({ name: 'u' });

  it('refuses non-serializable, cyclic, exotic and too deep values', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const cyclicArray: unknown[] = [1];
    cyclicArray.push([cyclicArray]);
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    const withAccessor = Object.defineProperty({}, 'x', { get: () => 1, enumerable: true });
    class Point {
      x = 1;
    }
    const foreignArray: unknown[] = [];
    Object.setPrototypeOf(foreignArray, Point.prototype);
    const sparse = new Array<unknown>(3);
    sparse[0] = 1;
    const bad: [string, unknown][] = [
      ['undefined', undefined],
      ['function', () => 1],
      ['symbol', Symbol('s')],
      ['nested function', { a: [1, { f: () => 1 }] }],
      ['cyclic object', cyclic],
      ['cyclic array', cyclicArray],
      ['too deep', deep],
      ['Map', new Map([[1, 2]])],
      ['Set', new Set([1])],
      ['Date', new Date(0)],
      ['class instance', new Point()],
      ['array with foreign prototype', foreignArray],
      ['proxy', new Proxy({}, {})],
      ['proxy inside', { p: new Proxy([], {}) }],
      ['accessor', withAccessor],
      ['symbol key', { [Symbol('k')]: 1 }],
      ['sparse array', sparse],
      ['typed array', new Uint8Array(2)],
      ['promise', Promise.resolve(1)],
      ['an engine', engine],
    ];
    for (const [what, v] of bad)
      refuses(() => u.event().add('v', v), MalformedInputError, 'E_MALFORMED', what);
  });

  it('accepts shared (non-cyclic) substructure, bigint and a null prototype', () => {
    const shared = { k: 1 };
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    const e = u.event().add('v', { a: shared, b: shared, n: 10n, z: null, o: nullProto });
    assert.ok(e);
  });

  it('a part called __proto__, or a value with an own __proto__ key, stays plain data', () => {
    const seen: EventView[] = [];
    const e2 = new Engine();
    e2.unit({ name: 'r' }, (ctx) => ctx.subscribe('t', (ev) => seen.push(ev)));
    const src = e2.unit({ name: 'src' });
    const v = JSON.parse('{"__proto__": {"polluted": true}, "y": 2}') as object;
    src.publish('t', src.event().add('__proto__', v).add('constructor', 1));
    e2.flush();
    const ev = seen[0]!;
    assert.deepEqual(ev.names(), ['__proto__', 'constructor']);
    const got = ev.get('__proto__') as Record<string, unknown>;
    assert.deepEqual(Object.keys(got), ['__proto__', 'y']);
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(got['polluted'], undefined);
    const json = ev.toJSON();
    assert.deepEqual(Object.keys(json), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.equal(
      JSON.stringify(ev),
      '{"__proto__":{"__proto__":{"polluted":true},"y":2},"constructor":1}',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses bad part names', () => {
    for (const n of ['', 'a\nb', '\u0000', 'x'.repeat(257), 5, null, undefined]) {
      refuses(() => u.event().add(n as string, 1), MalformedInputError, 'E_MALFORMED', String(n));
    }
  });
});

describe('bad input: topics, handlers, events, sinks', () => {
  it('refuses bad topics, handlers and filters', () => {
    const engine = new Engine();
    const u = engine.unit({ name: 'u' });
    for (const t of ['', 5, null, undefined, {}]) {
      refuses(() => u.publish(t as string, u.event()), MalformedInputError, 'E_MALFORMED');
      refuses(() => u.subscribe(t as string, () => undefined), MalformedInputError, 'E_MALFORMED');
    }
    for (const h of [null, 5, 'f', {}]) {
      refuses(() => u.subscribe('t', h as Handler), MalformedInputError, 'E_MALFORMED');
    }
    refuses(
      () => u.subscribe('t', () => undefined, { filter: 'x' as unknown as Filter }),
      MalformedInputError,
      'E_MALFORMED',
    );
  });

  it('refuses a double publish, another unit’s event, and changing a published event', () => {
    const engine = new Engine();
    const got: unknown[] = [];
    engine.unit({ name: 'r' }, (ctx) => ctx.subscribe('t', (ev) => got.push(ev.toJSON())));
    const a = engine.unit({ name: 'a' });
    const b = engine.unit({ name: 'b' });
    const sink = engine.sink('s', Label.public, () => undefined);
    const e = a.event().add('x', 1);
    refuses(() => b.publish('t', e), MalformedInputError, 'E_MALFORMED', 'foreign event');
    refuses(
      () => {
        b.output(sink, e);
      },
      MalformedInputError,
      'E_MALFORMED',
      'foreign output',
    );
    a.publish('t', e);
    refuses(() => a.publish('t', e), MalformedInputError, 'E_MALFORMED', 'double publish');
    refuses(() => a.publish('other', e), MalformedInputError, 'E_MALFORMED', 'republish');
    refuses(
      () => {
        a.output(sink, e);
      },
      MalformedInputError,
      'E_MALFORMED',
      'output published',
    );
    refuses(() => e.add('y', 2), MalformedInputError, 'E_MALFORMED', 'add after publish');
    const o = a.event().add('x', 2);
    a.output(sink, o);
    refuses(() => a.publish('t', o), MalformedInputError, 'E_MALFORMED', 'publish after output');
    for (const fake of [{}, null, Object.create(a.event()) as object, 5]) {
      refuses(() => a.publish('t', fake as never), MalformedInputError, 'E_MALFORMED');
      refuses(
        () => {
          a.output(sink, fake as never);
        },
        MalformedInputError,
        'E_MALFORMED',
      );
    }
    for (const s of [{}, null, 'console']) {
      refuses(
        () => {
          a.output(s as unknown as Sink, a.event());
        },
        MalformedInputError,
        'E_MALFORMED',
      );
    }
    engine.flush();
    assert.deepEqual(got, [{ x: 1 }]);
  });

  it('refuses bad sinks, label changes, grants and a closed unit', () => {
    const engine = new Engine();
    refuses(() => engine.sink('', Label.public, () => undefined), ConfigError, 'E_CONFIG');
    refuses(
      () => engine.sink(5 as unknown as string, Label.public, () => undefined),
      ConfigError,
      'E_CONFIG',
    );
    refuses(
      () => engine.sink('s', Object.create(null) as Label, () => undefined),
      MalformedInputError,
      'E_MALFORMED',
    );
    refuses(() => engine.sink('s', Label.public, 'w' as never), ConfigError, 'E_CONFIG');
    const u = engine.unit({ name: 'u' });
    refuses(
      () => {
        u.changeLabel('public' as unknown as Label);
      },
      MalformedInputError,
      'E_MALFORMED',
    );
    refuses(
      () => {
        u.grant('nobody', engine.createTag('t').tag, 'plus');
      },
      MalformedInputError,
      'E_MALFORMED',
    );
    u.close();
    refuses(() => u.publish('t', u.event()), MalformedInputError, 'E_MALFORMED');
  });
});

describe('bad input: engine options and unit specs', () => {
  it('refuses engine options out of range with ConfigError', () => {
    for (const v of [0, -1, 1.5, NaN, Infinity, '10', null]) {
      refuses(
        () => new Engine({ highWater: v as number }),
        ConfigError,
        'E_CONFIG',
        `highWater ${String(v)}`,
      );
      refuses(
        () => new Engine({ batchSize: v as number }),
        ConfigError,
        'E_CONFIG',
        `batchSize ${String(v)}`,
      );
    }
    for (const c of [0, -5, 2.5, NaN]) {
      refuses(
        () => new Engine({ audit: { capacity: c } }),
        ConfigError,
        'E_CONFIG',
        `capacity ${c}`,
      );
      refuses(() => new AuditLog({ capacity: c }), ConfigError, 'E_CONFIG', `capacity ${c}`);
    }
    assert.ok(new Engine({ highWater: 1, batchSize: 1, audit: { capacity: 1 } }));
  });

  it('refuses duplicate, empty and malformed unit specs', () => {
    const engine = new Engine();
    engine.unit({ name: 'dup' });
    refuses(() => engine.unit({ name: 'dup' }), ConfigError, 'E_CONFIG', 'duplicate');
    for (const spec of [null, undefined, 5, 'u', {}, { name: '' }, { name: 5 }]) {
      refuses(() => engine.unit(spec as never), ConfigError, 'E_CONFIG', inspect(spec));
    }
    refuses(() => engine.unit({ name: 'x', onError: 5 as never }), ConfigError, 'E_CONFIG');
    refuses(() => engine.unit({ name: 'y', privileges: 5 as never }), ConfigError, 'E_CONFIG');
    refuses(
      () => engine.unit({ name: 'z', privileges: ['p'] as never }),
      MalformedInputError,
      'E_MALFORMED',
    );
    refuses(
      () => engine.unit({ name: 'w', label: 'public' as never }),
      MalformedInputError,
      'E_MALFORMED',
    );
    // Nothing refused was registered: those names are still free.
    for (const n of ['x', 'y', 'z', 'w']) assert.ok(engine.unit({ name: n }));
  });

  it('a source ignoring backpressure meets OverloadError at the hard limit', () => {
    const engine = new Engine({ highWater: 2 });
    let first = true;
    // The first delivery re-publishes to its own topic (queued), so later ones queue behind it.
    engine.unit({ name: 'r' }, (ctx) =>
      ctx.subscribe('t', () => {
        if (first) ctx.publish('t', ctx.event());
        first = false;
      }),
    );
    const src = engine.unit({ name: 'src' });
    for (let i = 0; i < 16; i++) src.publish('t', src.event());
    refuses(() => src.publish('t', src.event()), OverloadError, 'E_OVERLOAD');
    engine.flush();
    assert.equal(engine.stats().delivered, 17, 'every accepted event was delivered');
  });
});

describe('bad input: misbehaving units', () => {
  function scene(bad: (ctx: UnitContext) => void, onError?: (e: unknown) => void) {
    const engine = new Engine({ batchSize: 3 });
    const got: Record<string, number[]> = { a: [], b: [] };
    engine.unit({ name: 'a' }, (ctx) =>
      ctx.subscribe('t', (ev) => got['a']!.push(ev.get('i') as number)),
    );
    engine.unit(onError === undefined ? { name: 'bad' } : { name: 'bad', onError }, bad);
    engine.unit({ name: 'b' }, (ctx) =>
      ctx.subscribe('t', (ev) => got['b']!.push(ev.get('i') as number)),
    );
    const src = engine.unit({ name: 'src' });
    for (let i = 0; i < 10; i++) src.publish('t', src.event().add('i', i));
    return { engine, got, all: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
  }

  it('a throwing handler: the engine keeps running, others get every event, onError is called', async () => {
    const errors: unknown[] = [];
    const s = scene(
      (ctx) =>
        ctx.subscribe('t', (ev) => {
          throw new Error(`secret-ish ${JSON.stringify(ev.get('i'))}`);
        }),
      (e) => errors.push(e),
    );
    await s.engine.idle();
    assert.deepEqual(s.got, { a: s.all, b: s.all });
    assert.equal(errors.length, 10);
    assert.ok(errors.every((e) => e instanceof Error));
    const entries = s.engine.audit.entries().filter((e) => e.kind === 'unit-error');
    assert.equal(entries.length, 10);
    for (const e of entries) {
      assert.equal(e.unit, 'bad');
      assert.equal(e.op, 'a handler or filter threw');
      assert.ok(!JSON.stringify(e).includes('secret-ish'));
    }
  });

  it('a throwing filter, a throwing onError and non-Error throws are contained too', () => {
    const s = scene(
      (ctx) => {
        ctx.subscribe('t', () => undefined, {
          filter: (ev) => {
            if ((ev.get('i') as number) % 2 === 0) throw new Error('filter');
            return true;
          },
        });
        ctx.subscribe('t', () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw 'a string';
        });
      },
      () => {
        throw new Error('onError throws too');
      },
    );
    s.engine.flush();
    assert.deepEqual(s.got, { a: s.all, b: s.all });
    assert.equal(s.engine.audit.counts()['unit-error'], 15);
  });

  it('a throwing sink is audited and does not break the unit or the engine', () => {
    const engine = new Engine();
    const sink = engine.sink('bad', Label.public, () => {
      throw new Error('disk full');
    });
    const u = engine.unit({ name: 'u' });
    u.output(sink, u.event().add('x', 1));
    assert.equal(engine.audit.counts()['sink-error'], 1);
    const a = new AuditLog({
      sinks: [
        () => {
          throw new Error('audit sink down');
        },
      ],
    });
    const e2 = new Engine({ audit: a });
    e2.createTag('x');
    assert.equal(a.sinkFailures, 1);
  });

  it('a unit that closes itself mid-stream stops receiving; others are unaffected', () => {
    const engine = new Engine();
    const got: number[] = [];
    const others: number[] = [];
    engine.unit({ name: 'quitter' }, (ctx) =>
      ctx.subscribe('t', (ev) => {
        got.push(ev.get('i') as number);
        if (ev.get('i') === 2) ctx.close();
      }),
    );
    engine.unit({ name: 'o' }, (ctx) =>
      ctx.subscribe('t', (ev) => others.push(ev.get('i') as number)),
    );
    const src = engine.unit({ name: 'src' });
    for (let i = 0; i < 5; i++) src.publish('t', src.event().add('i', i));
    engine.flush();
    assert.deepEqual(got, [0, 1, 2]);
    assert.deepEqual(others, [0, 1, 2, 3, 4]);
  });
});
