import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedInputError, SluiceError } from './errors.js';
import { createTagTCB, deriveTagWithPrivilegesTCB } from './privilege.js';
import { Tag, deriveTagTCB, mintTagTCB, tagAt, tagIndex } from './tag.js';

function isMalformed(code = 'E_MALFORMED') {
  return (e: unknown): boolean => {
    assert.ok(e instanceof MalformedInputError);
    assert.ok(e instanceof SluiceError);
    assert.equal(e.code, code);
    assert.equal(e.name, 'MalformedInputError');
    return true;
  };
}

describe('Tag', () => {
  it('mints a tag with a 128-bit hex id and the given name', () => {
    const t = mintTagTCB('alice');
    assert.match(t.id, /^[0-9a-f]{32}$/);
    assert.equal(t.name, 'alice');
    assert.equal(t.toString(), `alice#${t.id.slice(0, 6)}`);
    assert.ok(Tag.isTag(t));
    assert.ok(Object.isFrozen(t));
  });

  it('gives distinct ids and distinct identities to tags with the same name', () => {
    const a = mintTagTCB('same');
    const b = mintTagTCB('same');
    assert.notEqual(a, b);
    assert.notEqual(a.id, b.id);
    assert.notEqual(tagIndex(a), tagIndex(b));
  });

  it('accepts letters, digits and _ . : @ / - in names, 1 to 128 of them', () => {
    for (const name of ['a', 'ü-ß_1.2:3@x/y', 'Ω', 'x'.repeat(128)]) {
      assert.equal(mintTagTCB(name).name, name);
    }
  });

  it('refuses bad names', () => {
    for (const name of ['', 'x'.repeat(129), 'has space', 'semi;colon', 'new\nline', 'a#b']) {
      assert.throws(() => mintTagTCB(name), isMalformed());
    }
    for (const name of [undefined, null, 42, {}, ['a']]) {
      assert.throws(() => mintTagTCB(name as never), isMalformed());
    }
  });

  it('cannot be constructed from outside', () => {
    assert.throws(
      () => new Tag(Symbol('sluice.tag.mint'), 'f'.repeat(32), 'forged'),
      (e: unknown) => isMalformed()(e) && /createTag/.test((e as Error).message),
    );
    // the refused construction registered nothing
    assert.throws(() => Tag.fromJSON('f'.repeat(32)), isMalformed('E_UNKNOWN_TAG'));
  });

  it('brand-checks: forged objects, prototypes and proxies are not tags', () => {
    const t = mintTagTCB('real');
    const forged: unknown[] = [
      null,
      undefined,
      42,
      'tag',
      t.id,
      { id: t.id, name: t.name },
      t.toJSON(),
      Object.create(Tag.prototype),
      Object.create(t),
      new Proxy(t, {}),
      structuredClone(t),
      { ...t },
    ];
    for (const x of forged) {
      assert.equal(Tag.isTag(x), false);
      assert.throws(() => tagIndex(x), isMalformed());
    }
  });

  it('cannot be patched: the class and its prototype are frozen', () => {
    assert.ok(Object.isFrozen(Tag) && Object.isFrozen(Tag.prototype));
    assert.throws(() => {
      (Tag as unknown as { isTag: () => boolean }).isTag = () => true;
    }, TypeError);
    assert.throws(() => {
      Object.defineProperty(Tag.prototype, 'id', { get: () => '0'.repeat(32) });
    }, TypeError);
    assert.equal(Tag.isTag({}), false);
  });

  it('errors: codes, names, and the classes cannot be patched', () => {
    const e = new MalformedInputError('m');
    assert.equal(e.code, 'E_MALFORMED');
    assert.equal(new MalformedInputError('m', 'E_X').code, 'E_X');
    assert.equal(e.message, 'm');
    assert.ok(e instanceof Error);
    assert.ok(Object.isFrozen(MalformedInputError) && Object.isFrozen(SluiceError.prototype));
    assert.throws(() => {
      Object.defineProperty(SluiceError, Symbol.hasInstance, { value: () => false });
    }, TypeError);
    assert.ok(e instanceof SluiceError);
  });

  it('maps dense indices back to the same tag', () => {
    const t = mintTagTCB('indexed');
    assert.equal(tagAt(tagIndex(t)), t);
    const u = createTagTCB('other').tag;
    assert.equal(tagIndex(u), tagIndex(t) + 1);
  });

  describe('serialization', () => {
    it('round-trips to the identical interned tag, from {id, name} or a bare id', () => {
      const t = mintTagTCB('round');
      const json: unknown = JSON.parse(JSON.stringify(t));
      assert.deepEqual(json, { id: t.id, name: 'round' });
      assert.equal(Tag.fromJSON(json), t);
      assert.equal(Tag.fromJSON(t.id), t);
      assert.equal(Tag.fromJSON(t.toJSON()), t);
      // the name is display only: the id decides
      assert.equal(Tag.fromJSON({ id: t.id, name: 'something else' }), t);
    });

    it('refuses malformed shapes with E_MALFORMED', () => {
      const t = mintTagTCB('shape');
      const bad: unknown[] = [
        null,
        undefined,
        42,
        true,
        {},
        { name: 'shape' },
        { id: 42 },
        { id: null },
        [t.id],
        '',
        t.id.toUpperCase(),
        t.id.slice(1),
        `${t.id}0`,
        ` ${t.id}`,
        `${t.id}\n`,
        'g'.repeat(32),
      ];
      for (const x of bad) assert.throws(() => Tag.fromJSON(x), isMalformed());
    });

    it('refuses a well-formed but unknown id with E_UNKNOWN_TAG, naming only a prefix', () => {
      const id = '0123456789abcdef0123456789abcdef';
      assert.throws(
        () => Tag.fromJSON({ id, name: 'x' }),
        (e: unknown) =>
          isMalformed('E_UNKNOWN_TAG')(e) &&
          (e as Error).message.includes('012345') &&
          !(e as Error).message.includes(id),
      );
    });
  });
});

describe('deriveTagTCB', () => {
  const seed = new Uint8Array(32).fill(7);

  it('gives the same tag for the same seed and context, a different one otherwise', () => {
    const a = deriveTagTCB(seed, 'p/family:carrier/s:AA', 'carrier:AA');
    assert.equal(deriveTagTCB(seed, 'p/family:carrier/s:AA', 'carrier:AA'), a);
    assert.equal(a.name, 'carrier:AA');
    assert.match(a.id, /^[0-9a-f]{32}$/);
    assert.notEqual(deriveTagTCB(seed, 'p/family:carrier/s:AB', 'carrier:AA'), a);
    assert.notEqual(deriveTagTCB(new Uint8Array(32).fill(8), 'p/family:carrier/s:AA', 'x'), a);
  });

  it('is a keyed hash of the context: the id is not the context and does not repeat the seed', () => {
    const t = deriveTagTCB(seed, 'ctx', 'n');
    assert.ok(!t.id.includes('0707070707'));
    assert.notEqual(deriveTagTCB(seed, 'ctx2', 'n').id.slice(0, 8), t.id.slice(0, 8));
  });

  it('refuses a seed that is not 32 bytes, an empty context and a bad name', () => {
    assert.throws(() => deriveTagTCB(new Uint8Array(16), 'c', 'n'), isMalformed());
    assert.throws(() => deriveTagTCB('x'.repeat(32) as never, 'c', 'n'), isMalformed());
    assert.throws(() => deriveTagTCB(seed, '', 'n'), isMalformed());
    assert.throws(() => deriveTagTCB(seed, 1 as never, 'n'), isMalformed());
    assert.throws(() => deriveTagTCB(seed, 'c', 'no spaces'), isMalformed());
    assert.throws(() => deriveTagTCB(seed, 'c', 5 as never), isMalformed());
  });

  it('hands the holder of the seed the four privileges on the derived tag', () => {
    const { tag, privileges } = deriveTagWithPrivilegesTCB(seed, 'privs', 'p');
    assert.equal(tag, deriveTagTCB(seed, 'privs', 'p'));
    assert.deepEqual(
      privileges.map((p) => p.kind),
      ['plus', 'minus', 'plus-auth', 'minus-auth'],
    );
    assert.ok(privileges.every((p) => p.tag === tag));
    assert.ok(Object.isFrozen(privileges));
  });
});
