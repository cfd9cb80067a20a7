import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InsufficientPrivilegeError, MalformedInputError, SluiceError } from './errors.js';
import { Privilege, PrivilegeSet, createTagTCB, type PrivilegeKind } from './privilege.js';
import { Tag, tagIndex } from './tag.js';

const KINDS: readonly PrivilegeKind[] = ['plus', 'minus', 'plus-auth', 'minus-auth'];

function isMalformed(e: unknown): boolean {
  assert.ok(e instanceof MalformedInputError);
  assert.equal(e.code, 'E_MALFORMED');
  return true;
}

function isInsufficient(e: unknown): boolean {
  assert.ok(e instanceof InsufficientPrivilegeError);
  assert.ok(e instanceof SluiceError);
  assert.equal(e.code, 'E_PRIVILEGE');
  assert.equal(e.name, 'InsufficientPrivilegeError');
  return true;
}

/** A tag and its four privileges by kind. */
function make(name: string): { tag: Tag; p: Record<PrivilegeKind, Privilege> } {
  const { tag, privileges } = createTagTCB(name);
  const p = Object.fromEntries(privileges.map((x) => [x.kind, x])) as Record<
    PrivilegeKind,
    Privilege
  >;
  return { tag, p };
}

describe('Privilege', () => {
  it('createTagTCB hands the creator the four privileges on a fresh tag, frozen', () => {
    const { tag, privileges } = createTagTCB('alice');
    assert.ok(Tag.isTag(tag));
    assert.equal(tag.name, 'alice');
    assert.deepEqual(
      privileges.map((p) => p.kind),
      KINDS,
    );
    for (const p of privileges) {
      assert.equal(p.tag, tag);
      assert.ok(Privilege.isPrivilege(p));
      assert.ok(Object.isFrozen(p));
    }
    assert.ok(Object.isFrozen(privileges));
    assert.deepEqual(
      privileges.map((p) => p.toString()),
      ['+', '-', '+auth', '-auth'].map((s) => `${tag.toString()}${s}`),
    );
  });

  it('createTagTCB refuses a bad tag name', () => {
    assert.throws(() => createTagTCB('no spaces'), isMalformed);
  });

  it('cannot be serialized', () => {
    const { p } = make('ser');
    assert.throws(() => p.plus.toJSON(), isMalformed);
    assert.throws(() => JSON.stringify(p.plus), isMalformed);
    assert.throws(() => JSON.stringify({ nested: [p['minus-auth']] }), isMalformed);
    // nor is the set's content visible as data
    const set = PrivilegeSet.from(Object.values(p));
    assert.equal(JSON.stringify(set), '{}');
    assert.deepEqual(Object.keys(p.plus), []);
  });

  it('cannot be constructed', () => {
    const { tag } = make('ctor');
    for (const key of [
      Symbol(),
      Symbol('sluice.privilege.mint'),
      Symbol.for('sluice.privilege.mint'),
    ]) {
      assert.throws(() => new Privilege(key, tag, 'plus'), isMalformed);
      assert.throws(
        () =>
          new PrivilegeSet(key, [
            Int32Array.of(tagIndex(tag)),
            new Int32Array(0),
            new Int32Array(0),
            new Int32Array(0),
          ]),
        isMalformed,
      );
    }
  });

  it('refuses forged, cloned and proxied privileges with a clear error', () => {
    const { p } = make('forge');
    const forged: unknown[] = [
      null,
      undefined,
      'plus',
      { tag: p.plus.tag, kind: 'plus' },
      Object.create(Privilege.prototype),
      Object.create(p.plus),
      new Proxy(p.plus, {}),
      structuredClone(p.plus),
      { ...p.plus },
    ];
    for (const x of forged) {
      assert.equal(Privilege.isPrivilege(x), false);
      assert.throws(
        () => PrivilegeSet.from([x]),
        (e: unknown) => isMalformed(e) && /cannot be forged or copied/.test((e as Error).message),
      );
      assert.throws(() => PrivilegeSet.from([p.minus, x]), isMalformed);
    }
    // a clone's accessors do not work either
    const fake = Object.create(Privilege.prototype) as Privilege;
    assert.throws(() => fake.tag, TypeError);
    assert.throws(() => fake.kind, TypeError);
    // structuredClone of the creator's array gives plain objects only
    const cloned = structuredClone(createTagTCB('cl').privileges);
    assert.equal(cloned.length, 4);
    assert.ok(cloned.every((x) => !Privilege.isPrivilege(x)));
    assert.throws(() => PrivilegeSet.from(cloned), isMalformed);
  });

  it('the classes and their prototypes cannot be patched to forge capabilities', () => {
    const { tag, p } = make('patch');
    const victim = make('victim');
    for (const C of [Privilege, PrivilegeSet]) {
      assert.ok(Object.isFrozen(C));
      assert.ok(Object.isFrozen(C.prototype));
    }
    assert.throws(() => {
      Object.defineProperty(Privilege.prototype, 'tag', { get: () => victim.tag });
    }, TypeError);
    assert.throws(() => {
      Object.defineProperty(Privilege.prototype, 'kind', { get: () => 'minus-auth' });
    }, TypeError);
    assert.throws(() => {
      (Privilege as unknown as { isPrivilege: () => boolean }).isPrivilege = () => true;
    }, TypeError);
    assert.throws(() => {
      (PrivilegeSet.prototype as unknown as { has: () => boolean }).has = () => true;
    }, TypeError);
    const set = PrivilegeSet.from([p.plus]);
    assert.ok(set.has('plus', tag));
    for (const k of KINDS) assert.equal(set.has(k, victim.tag), false);
  });
});

describe('PrivilegeSet', () => {
  it('the empty set holds nothing', () => {
    const { tag } = make('empty');
    assert.equal(PrivilegeSet.empty, PrivilegeSet.empty);
    assert.ok(PrivilegeSet.isPrivilegeSet(PrivilegeSet.empty));
    for (const k of KINDS) {
      assert.equal(PrivilegeSet.empty.has(k, tag), false);
      assert.equal(PrivilegeSet.empty.indicesTCB(k).length, 0);
    }
    assert.deepEqual(PrivilegeSet.empty.describe(), []);
    assert.equal(PrivilegeSet.from([]), PrivilegeSet.empty);
  });

  it('holds exactly the privileges it was built from, per kind and tag', () => {
    const x = make('x');
    const y = make('y');
    const set = PrivilegeSet.from([y.p.minus, x.p.plus, x.p['minus-auth'], y.p.plus]);
    assert.ok(set.has('plus', x.tag));
    assert.ok(set.has('plus', y.tag));
    assert.ok(set.has('minus', y.tag));
    assert.ok(set.has('minus-auth', x.tag));
    assert.ok(!set.has('minus', x.tag));
    assert.ok(!set.has('plus-auth', x.tag));
    assert.ok(!set.has('plus-auth', y.tag));
    assert.ok(!set.has('minus-auth', y.tag));
    assert.deepEqual(Array.from(set.indicesTCB('plus')), [tagIndex(x.tag), tagIndex(y.tag)]);
    assert.deepEqual(Array.from(set.indicesTCB('minus')), [tagIndex(y.tag)]);
    assert.deepEqual(set.describe(), [
      `${x.tag.toString()}+`,
      `${y.tag.toString()}+`,
      `${y.tag.toString()}-`,
      `${x.tag.toString()}-auth`,
    ]);
    assert.ok(Object.isFrozen(set));
  });

  it('is immutable: withAll returns a new set, or the same one when nothing is new', () => {
    const x = make('imm');
    const s1 = PrivilegeSet.from([x.p.plus]);
    const s2 = s1.withAll([x.p.minus]);
    assert.notEqual(s1, s2);
    assert.ok(!s1.has('minus', x.tag));
    assert.ok(s2.has('minus', x.tag) && s2.has('plus', x.tag));
    assert.equal(s2.withAll([x.p.plus, x.p.minus, x.p.plus]), s2);
    assert.equal(s2.withAll([]), s2);
    assert.equal(s2.withAll(new Set([x.p.plus])), s2);
    assert.equal(PrivilegeSet.from([x.p.plus, x.p.plus]).indicesTCB('plus').length, 1);
  });

  it('accepts any iterable of privileges, refuses what is not iterable', () => {
    const x = make('iter');
    function* gen(): Generator<Privilege> {
      yield x.p.plus;
      yield x.p['plus-auth'];
    }
    const s = PrivilegeSet.from(gen());
    assert.ok(s.has('plus', x.tag) && s.has('plus-auth', x.tag));
    const set = PrivilegeSet.from([x.p.plus]);
    for (const bad of [
      undefined,
      null,
      42,
      x.p.plus,
      set,
      structuredClone(set),
      { length: 1, 0: x.p.plus },
      {},
    ]) {
      assert.throws(() => PrivilegeSet.from(bad as never), isMalformed);
      assert.throws(() => set.withAll(bad as never), isMalformed);
    }
  });

  it('brand-checks sets: forged, cloned and proxied sets are not sets', () => {
    const set = PrivilegeSet.from(createTagTCB('brand').privileges);
    for (const x of [
      null,
      42,
      {},
      Object.create(PrivilegeSet.prototype),
      new Proxy(set, {}),
      structuredClone(set),
    ]) {
      assert.equal(PrivilegeSet.isPrivilegeSet(x), false);
    }
    assert.throws(
      () => (Object.create(PrivilegeSet.prototype) as PrivilegeSet).describe(),
      TypeError,
    );
  });

  it('refuses a non-tag in has', () => {
    assert.throws(() => PrivilegeSet.empty.has('plus', { id: 'x' } as never), isMalformed);
  });

  describe('grantTCB', () => {
    const needs: Record<PrivilegeKind, PrivilegeKind> = {
      plus: 'plus-auth',
      'plus-auth': 'plus-auth',
      minus: 'minus-auth',
      'minus-auth': 'minus-auth',
    };

    for (const kind of KINDS) {
      it(`${kind} is granted with ${needs[kind]}, and only with it`, () => {
        const x = make(`g-${kind}`);
        const other = make('other');
        const receiver = PrivilegeSet.from([other.p.plus]);
        // the right auth suffices
        const granter = PrivilegeSet.from([x.p[needs[kind]]]);
        const got = granter.grantTCB(receiver, x.tag, kind);
        assert.ok(got.has(kind, x.tag));
        assert.ok(got.has('plus', other.tag));
        for (const k of KINDS) if (k !== kind) assert.equal(got.has(k, x.tag), false, k);
        // neither side changed
        assert.ok(!receiver.has(kind, x.tag));
        assert.deepEqual(granter.describe(), [`${x.tag.toString()}${suffix(needs[kind])}`]);
        // granting what is held already returns the same set
        assert.equal(granter.grantTCB(got, x.tag, kind), got);
        // every other privilege on the tag, and the right auth on another tag, is not enough
        const without = PrivilegeSet.from([
          ...KINDS.filter((k) => k !== needs[kind]).map((k) => x.p[k]),
          ...KINDS.map((k) => other.p[k]),
        ]);
        assert.throws(
          () => without.grantTCB(receiver, x.tag, kind),
          (e: unknown) =>
            isInsufficient(e) &&
            (e as Error).message ===
              `grant of ${x.tag.toString()}${suffix(kind)} needs ${x.tag.toString()}${suffix(needs[kind])}`,
        );
        assert.throws(() => PrivilegeSet.empty.grantTCB(receiver, x.tag, kind), isInsufficient);
      });
    }

    it('an auth can be passed on and then used by the receiver', () => {
      const x = make('chain');
      const a = PrivilegeSet.from([x.p['minus-auth']]);
      const b = a.grantTCB(PrivilegeSet.empty, x.tag, 'minus-auth');
      const c = b.grantTCB(PrivilegeSet.empty, x.tag, 'minus');
      assert.ok(c.has('minus', x.tag));
      assert.throws(() => c.grantTCB(PrivilegeSet.empty, x.tag, 'minus'), isInsufficient);
    });

    it('refuses a bad kind and a non-tag', () => {
      const x = make('bad');
      const all = PrivilegeSet.from(Object.values(x.p));
      for (const kind of ['auth', 'PLUS', '', 'plus ', undefined, 1]) {
        assert.throws(
          () => all.grantTCB(PrivilegeSet.empty, x.tag, kind as never),
          (e: unknown) => isMalformed(e) && /privilege kind/.test((e as Error).message),
        );
      }
      for (const t of [null, x.tag.id, x.tag.toJSON(), new Proxy(x.tag, {})]) {
        assert.throws(() => all.grantTCB(PrivilegeSet.empty, t as never, 'plus'), isMalformed);
      }
    });
  });
});

function suffix(k: PrivilegeKind): string {
  return { plus: '+', minus: '-', 'plus-auth': '+auth', 'minus-auth': '-auth' }[k];
}
