import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { FlowViolationError, MalformedInputError } from './errors.js';
import { Label } from './label.js';
import {
  LabelledPart,
  partLabelTCB,
  partNameTCB,
  readPartTCB,
  writeOwnPart,
  writePart,
} from './part.js';
import { PrivilegeSet, createTagTCB, type Privilege } from './privilege.js';
import type { Tag } from './tag.js';

const made = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => createTagTCB(n));
const pool: Tag[] = made.map((m) => m.tag);
const [a, b] = pool as [Tag, Tag];
const all = PrivilegeSet.from(made.flatMap((m) => [...m.privileges]));
const aMinus = made[0]!.privileges.find((p: Privilege) => p.kind === 'minus')!;
const none = PrivilegeSet.empty;
const pub = Label.public;
const SECRET = 'TOP-SECRET-7f3a9c-do-not-leak';

const arbLabel = fc
  .record({ s: fc.subarray(pool), i: fc.subarray(pool) })
  .map(({ s, i }) => Label.of({ secrecy: s, integrity: i }));

/** Write a public part (no flow question) and read its value back. */
function roundTrip(v: unknown): unknown {
  return readPartTCB(writePart(pub, none, 'v', pub, v), pub);
}

function refusesValue(v: unknown, why: RegExp): void {
  assert.throws(
    () => writePart(pub, none, 'field', pub, v),
    (e: unknown) => {
      assert.ok(e instanceof MalformedInputError, String(e));
      assert.equal(e.code, 'E_MALFORMED');
      assert.match(e.message, /^part 'field': /);
      assert.match(e.message, why);
      assert.ok(!e.message.includes(SECRET));
      return true;
    },
  );
}

function nest(depth: number, wrap: (x: unknown) => unknown): unknown {
  let v: unknown = 'leaf';
  for (let k = 0; k < depth; k++) v = wrap(v);
  return v;
}

function isDeeplyFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeeplyFrozen);
}

describe('writePart', () => {
  describe('names', () => {
    it('accepts 1 to 256 non-control characters', () => {
      for (const name of ['x', 'with spaces', 'ünïcødé/🙂', 'n'.repeat(256)]) {
        assert.equal(partNameTCB(writePart(pub, none, name, pub, 1)), name);
      }
    });

    it('refuses bad names', () => {
      const bad: unknown[] = [
        '',
        'n'.repeat(257),
        'new\nline',
        'nul\u0000',
        'del\u007f',
        'tab\t',
        undefined,
        null,
        42,
        {},
        ['x'],
      ];
      for (const name of bad) {
        assert.throws(
          () => writePart(pub, none, name as string, pub, 1),
          (e: unknown) => e instanceof MalformedInputError && /part name/.test(e.message),
        );
      }
    });
  });

  it('refuses a label that is not a genuine label', () => {
    const l = Label.secrecy(a);
    for (const x of [
      undefined,
      null,
      {},
      l.toJSON(),
      Object.create(Label.prototype),
      new Proxy(l, {}),
    ]) {
      assert.throws(
        () => writePart(pub, all, 'price', x as Label, 1),
        (e: unknown) =>
          e instanceof MalformedInputError &&
          e.message.startsWith("label of part 'price' is not a Label"),
      );
    }
  });

  describe('the write rule', () => {
    it('refuses a write-down without privilege, naming labels but never the value', () => {
      const writer = Label.secrecy(a, b);
      const value = { note: SECRET, nested: [SECRET, { deeper: SECRET }], n: 4242424242 };
      for (const to of [pub, Label.secrecy(a), Label.secrecy(b)]) {
        assert.throws(
          () => writePart(writer, none, 'report', to, value),
          (e: unknown) => {
            assert.ok(e instanceof FlowViolationError);
            assert.equal(e.code, 'E_FLOW');
            assert.equal(e.name, 'FlowViolationError');
            assert.ok(e.message.includes("'report'"));
            assert.ok(e.message.includes(writer.toString()));
            assert.ok(e.message.includes(to.toString()));
            for (const leak of [SECRET, 'TOP-SECRET', '7f3a9c', '4242424242', 'deeper', 'note']) {
              assert.ok(!e.message.includes(leak), leak);
              assert.ok(!String(e.stack).includes(leak), leak);
            }
            return true;
          },
        );
      }
      // the flow is checked before the value is looked at
      assert.throws(() => writePart(writer, none, 'f', pub, () => SECRET), FlowViolationError);
    });

    it('refuses to add integrity without t+', () => {
      assert.throws(() => writePart(pub, none, 'x', Label.integrity(a), 1), FlowViolationError);
      assert.ok(writePart(pub, all, 'x', Label.integrity(a), 1) instanceof LabelledPart);
    });

    it('allows writing up, and writing down with the privilege for the difference', () => {
      const up = writePart(pub, none, 'x', Label.secrecy(a), SECRET);
      assert.equal(partLabelTCB(up), Label.secrecy(a));
      const down = writePart(
        Label.secrecy(a),
        PrivilegeSet.from([aMinus]),
        'x',
        pub,
        'declassified',
      );
      assert.equal(partLabelTCB(down), pub);
      assert.throws(
        () => writePart(Label.secrecy(a, b), PrivilegeSet.from([aMinus]), 'x', pub, 1),
        FlowViolationError,
      );
    });
  });

  describe('values', () => {
    it('keeps primitives as they are', () => {
      for (const v of ['', 's', 0, -0, 1.5, Number.NaN, Infinity, true, false, 10n ** 30n, null]) {
        assert.ok(Object.is(roundTrip(v), v));
      }
    });

    it('deep-copies plain objects and arrays, with their structure', () => {
      const input = {
        s: 'x',
        n: 1,
        arr: [1, [2, [3]], { k: null }],
        obj: { deep: { deeper: [true, 5n] } },
        empty: {},
        none: [],
      };
      const out = roundTrip(input);
      assert.deepEqual(out, input);
      assert.notEqual(out, input);
      const o = out as typeof input;
      assert.notEqual(o.arr, input.arr);
      assert.notEqual(o.obj.deep, input.obj.deep);
      assert.ok(Array.isArray(o.arr));
      assert.equal(Object.getPrototypeOf(o.arr), Array.prototype);
      assert.equal(Object.getPrototypeOf(o), Object.prototype);
    });

    it('copies null-prototype objects into plain objects', () => {
      const input = Object.assign(Object.create(null) as object, { a: 1, b: { c: 2 } });
      const out = roundTrip(input) as Record<string, unknown>;
      assert.deepEqual(out, { a: 1, b: { c: 2 } });
      assert.equal(Object.getPrototypeOf(out), Object.prototype);
    });

    it('keeps an own "__proto__" key as data, never as the copy\'s prototype', () => {
      const input: unknown = JSON.parse('{"__proto__": {"isAdmin": true}, "a": 1}');
      const out = roundTrip(input) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(out), Object.prototype);
      assert.deepEqual(Object.keys(out), ['__proto__', 'a']);
      assert.equal(out['isAdmin'], undefined);
      assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { isAdmin: true });
      assert.equal(JSON.stringify(out), '{"__proto__":{"isAdmin":true},"a":1}');
    });

    it('accepts shared (acyclic) references, copying each occurrence', () => {
      const shared = { x: 1 };
      const out = roundTrip({ p: shared, q: shared, r: [shared, shared] }) as Record<
        string,
        unknown
      >;
      assert.deepEqual(out, { p: { x: 1 }, q: { x: 1 }, r: [{ x: 1 }, { x: 1 }] });
    });

    it('freezes the copy deeply; mutation throws in strict mode', () => {
      const out = roundTrip({ a: [1, { b: 2 }], c: { d: [] } }) as {
        a: [number, { b: number }];
        c: { d: number[] };
      };
      assert.ok(isDeeplyFrozen(out));
      assert.throws(() => {
        out.a[0] = 9;
      }, TypeError);
      assert.throws(() => {
        out.a[1].b = 9;
      }, TypeError);
      assert.throws(() => out.c.d.push(1), TypeError);
      assert.throws(() => {
        (out as unknown as Record<string, unknown>)['new'] = 1;
      }, TypeError);
      assert.throws(() => {
        delete (out as Partial<typeof out>).c;
      }, TypeError);
      assert.deepEqual(out, { a: [1, { b: 2 }], c: { d: [] } });
    });

    it("leaves the caller's object mutable, and later mutation does not reach the part", () => {
      const input = { list: [1, 2], inner: { v: 'before' } };
      const part = writePart(pub, none, 'v', pub, input);
      assert.ok(
        !Object.isFrozen(input) && !Object.isFrozen(input.list) && !Object.isFrozen(input.inner),
      );
      input.list.push(3);
      input.inner.v = 'after';
      (input as Record<string, unknown>)['added'] = true;
      assert.deepEqual(readPartTCB(part, pub), { list: [1, 2], inner: { v: 'before' } });
    });

    it('refuses functions, symbols and undefined, at any depth', () => {
      for (const v of [() => SECRET, Symbol(SECRET), undefined]) {
        refusesValue(v, /is not serializable/);
        refusesValue({ ok: SECRET, bad: v }, /is not serializable/);
        refusesValue([SECRET, [v]], /is not serializable/);
      }
      const sparse: unknown[] = [];
      sparse[2] = SECRET;
      refusesValue(sparse, /arrays must be dense plain data/);
      refusesValue(class {}, /function/);
    });

    it('refuses class instances, Map, Set, Date, RegExp, errors, typed arrays and boxed primitives', () => {
      class Point {
        x = 1;
      }
      const instances: unknown[] = [
        new Point(),
        new Map([[SECRET, 1]]),
        new Set([SECRET]),
        new Date(0),
        /re/,
        new Error(SECRET),
        new Uint8Array(2),
        new ArrayBuffer(2),
        Object(SECRET),
        Object(1n),
        Promise.resolve(),
        new WeakMap(),
        Object.create({ inherited: SECRET }),
        runInNewContext('({ a: 1 })'),
      ];
      for (const v of instances) {
        refusesValue(v, /only plain objects and arrays/);
        refusesValue({ nested: [v] }, /only plain objects and arrays/);
      }
    });

    it('refuses arrays with a foreign prototype', () => {
      class MyArray extends Array<unknown> {}
      const foreign: unknown[] = [
        MyArray.from([1]),
        Object.setPrototypeOf([1], Object.create(Array.prototype)),
        Object.setPrototypeOf([1], null),
        runInNewContext('[1, 2]'),
      ];
      for (const v of foreign) {
        refusesValue(v, /array with a foreign prototype/);
        refusesValue({ ok: [v] }, /array with a foreign prototype/);
      }
    });

    it('refuses proxies, even of plain data, without running their traps', () => {
      let trapped = 0;
      const handler: ProxyHandler<object> = {
        get: (t, k, r) => (trapped++, Reflect.get(t, k, r)),
        ownKeys: (t) => (trapped++, Reflect.ownKeys(t)),
        getPrototypeOf: (t) => (trapped++, Reflect.getPrototypeOf(t)),
        getOwnPropertyDescriptor: (t, k) => (trapped++, Reflect.getOwnPropertyDescriptor(t, k)),
      };
      for (const target of [{ a: SECRET }, [SECRET]]) {
        refusesValue(new Proxy(target, handler), /proxy/);
        refusesValue({ inner: new Proxy(target, handler) }, /proxy/);
      }
      refusesValue(new Proxy(() => 1, {}), /function/);
      assert.equal(trapped, 0);
    });

    it('refuses accessor properties without calling them', () => {
      let called = 0;
      const v = {};
      Object.defineProperty(v, 'x', {
        get: () => (called++, SECRET),
        enumerable: true,
      });
      refusesValue(v, /accessor properties/);
      refusesValue({ o: v }, /accessor properties/);
      const setterOnly = {};
      Object.defineProperty(setterOnly, 'y', { set: () => undefined, enumerable: true });
      refusesValue(setterOnly, /accessor properties/);
      assert.equal(called, 0);
    });

    it('refuses symbol keys, enumerable or not', () => {
      refusesValue({ [Symbol('k')]: SECRET }, /symbol keys/);
      const hidden = { a: 1 };
      Object.defineProperty(hidden, Symbol.iterator, { value: 1, enumerable: false });
      refusesValue({ inner: hidden }, /symbol keys/);
    });

    it('copies non-enumerable string-keyed data too (nothing is silently dropped)', () => {
      const v = { a: 1 };
      Object.defineProperty(v, 'hidden', { value: 2, enumerable: false });
      assert.deepEqual(roundTrip(v), { a: 1, hidden: 2 });
    });

    it('refuses cyclic values', () => {
      const self: Record<string, unknown> = { a: SECRET };
      self['me'] = self;
      refusesValue(self, /cyclic/);
      const x: Record<string, unknown> = {};
      const y = { x };
      x['y'] = [y];
      refusesValue({ root: x }, /cyclic/);
      const arr: unknown[] = [];
      arr.push(arr);
      refusesValue(arr, /cyclic/);
    });

    it('accepts nesting to depth 64 and refuses deeper', () => {
      for (const wrap of [(x: unknown) => [x], (x: unknown) => ({ k: x })]) {
        // 65 containers: the innermost is at depth 64
        const ok = nest(65, wrap);
        assert.deepEqual(roundTrip(ok), ok);
        refusesValue(nest(66, wrap), /nested deeper than 64/);
        refusesValue(nest(10_000, wrap), /nested deeper than 64/);
      }
    });
  });
});

describe('readPartTCB', () => {
  it('returns the value exactly when the part label flows to the reader (property)', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, fc.jsonValue(), (partLabel, reader, v) => {
        const part = writePart(pub, all, 'p', partLabel, v);
        const got = readPartTCB(part, reader);
        if (partLabel.flowsTo(reader)) {
          assert.deepEqual(got, v);
          assert.equal(readPartTCB(part, reader), got);
        } else {
          assert.equal(got, undefined);
        }
      }),
    );
  });

  it('a hidden part reads exactly like a part holding nothing', () => {
    const hidden = writePart(pub, none, 'p', Label.secrecy(a), SECRET);
    assert.equal(readPartTCB(hidden, pub), undefined);
    assert.equal(readPartTCB(hidden, Label.secrecy(b)), undefined);
    assert.equal(readPartTCB(hidden, Label.secrecy(a, b)), SECRET);
  });
});

describe('LabelledPart', () => {
  it('cannot be constructed outside writePart', () => {
    assert.throws(
      () => new LabelledPart(Symbol('sluice.part.mint'), 'x', pub, SECRET),
      (e: unknown) => e instanceof MalformedInputError && /writePart/.test(e.message),
    );
    assert.ok(Object.isFrozen(LabelledPart) && Object.isFrozen(LabelledPart.prototype));
  });

  it('shows nothing of its name, label or value', () => {
    const part = writePart(pub, none, 'salary-of-ceo', Label.secrecy(a), { amount: SECRET });
    assert.deepEqual(Object.keys(part), []);
    assert.deepEqual(Reflect.ownKeys(part), []);
    assert.equal(JSON.stringify(part), '{}');
    assert.equal(JSON.stringify({ part }), '{"part":{}}');
    const shown = inspect(part, { showHidden: true, depth: Infinity });
    for (const leak of ['salary', SECRET, 'amount', a.id.slice(0, 6)]) {
      assert.ok(!shown.includes(leak), `${leak} in ${shown}`);
    }
    assert.ok(!String(part).includes('salary'));
    // Instances are not frozen (a freeze costs ~80 ns per part on the hot path): all their state is
    // in #private fields, which neither freezing nor adding properties can reach.
    assert.ok(Object.isFrozen(Object.getPrototypeOf(part)));
    assert.equal(partNameTCB(part), 'salary-of-ceo');
    assert.equal(partLabelTCB(part), Label.secrecy(a));
  });

  it('a clone or forgery is not a part', () => {
    const part = writePart(pub, none, 'p', pub, 1);
    const copies: unknown[] = [
      structuredClone(part),
      { ...part },
      Object.create(LabelledPart.prototype),
      new Proxy(part, {}),
    ];
    for (const x of copies) {
      assert.throws(() => readPartTCB(x as LabelledPart, pub), TypeError);
      assert.throws(() => partNameTCB(x as LabelledPart), TypeError);
      assert.throws(() => partLabelTCB(x as LabelledPart), TypeError);
    }
  });
});

describe('writePart: arrays', () => {
  it('refuses accessor elements without running them, and holes', () => {
    let ran = false;
    const arr: unknown[] = [1, 2];
    Object.defineProperty(arr, 1, {
      get() {
        ran = true;
        return 2;
      },
      enumerable: true,
    });
    assert.throws(
      () => writePart(Label.public, PrivilegeSet.empty, 'a', Label.public, arr),
      MalformedInputError,
    );
    assert.equal(ran, false);
    const holes: unknown[] = [1];
    holes[2] = 3;
    assert.throws(
      () => writePart(Label.public, PrivilegeSet.empty, 'a', Label.public, holes),
      MalformedInputError,
    );
  });
});

describe('writeOwnPart', () => {
  it('makes the part writePart makes at the writer’s own label, for any label', () => {
    fc.assert(
      fc.property(arbLabel, fc.jsonValue(), (l, v) => {
        const own = writeOwnPart(l, 'v', v);
        const checked = writePart(l, none, 'v', l, v);
        assert.equal(partLabelTCB(own), l);
        assert.equal(partNameTCB(own), 'v');
        assert.deepEqual(readPartTCB(own, l), readPartTCB(checked, l));
        assert.ok(isDeeplyFrozen(readPartTCB(own, l)));
      }),
    );
  });

  it('copies object values (the writer keeps no mutable alias) and reads as absent below its label', () => {
    const A = Label.secrecy(a);
    const value = { n: [1, 2] };
    const p = writeOwnPart(A, 'obj', value);
    value.n.push(3);
    assert.deepEqual(readPartTCB(p, A), { n: [1, 2] });
    assert.equal(readPartTCB(p, pub), undefined);
  });

  it('refuses bad names and values with the same errors as writePart, never quoting the value', () => {
    for (const name of ['', 'nl\n', 5]) {
      assert.throws(() => writeOwnPart(pub, name as string, 1), MalformedInputError);
    }
    for (const v of [() => SECRET, Symbol(SECRET), undefined, new Map([[SECRET, 1]])]) {
      assert.throws(
        () => writeOwnPart(pub, 'field', v),
        (e: unknown) => e instanceof MalformedInputError && !e.message.includes(SECRET),
      );
    }
  });
});
