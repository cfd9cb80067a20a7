import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MalformedInputError } from './errors.js';
import { Label, integrityOfTCB, secrecyOfTCB } from './label.js';
import { Tag, mintTagTCB, tagIndex } from './tag.js';

function isMalformed(code = 'E_MALFORMED') {
  return (e: unknown): boolean => {
    assert.ok(e instanceof MalformedInputError);
    assert.equal(e.code, code);
    return true;
  };
}

const pool: readonly Tag[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => mintTagTCB(n));
const [a, b, c, d] = pool as [Tag, Tag, Tag, Tag];

const arbLabel: fc.Arbitrary<Label> = fc
  .record({ s: fc.subarray(pool as Tag[]), i: fc.subarray(pool as Tag[]) })
  .map(({ s, i }) => Label.of({ secrecy: s, integrity: i }));

const ids = (ts: readonly Tag[]): string[] => ts.map((t) => t.id).sort();

describe('Label', () => {
  describe('construction and interning', () => {
    it('interns: equal tag sets give the identical object, whatever the order and duplicates', () => {
      const l1 = Label.of({ secrecy: [a, b], integrity: [c] });
      const l2 = Label.of({ secrecy: new Set([b, a, b]), integrity: [c, c] });
      assert.equal(l1, l2);
      assert.ok(l1.equals(l2));
      assert.ok(!l1.equals(Label.of({ secrecy: [a, b] })));
      assert.equal(Label.of(), Label.public);
      assert.equal(Label.of({}), Label.public);
      assert.equal(Label.of({ secrecy: [], integrity: [] }), Label.public);
      assert.equal(Label.secrecy(a, b), Label.of({ secrecy: [b, a] }));
      assert.equal(Label.integrity(c), Label.of({ integrity: [c] }));
      assert.equal(Label.secrecy(), Label.public);
    });

    it('distinguishes secrecy from integrity', () => {
      assert.notEqual(Label.secrecy(a), Label.integrity(a));
      assert.notEqual(
        Label.of({ secrecy: [a], integrity: [b] }),
        Label.of({ secrecy: [b], integrity: [a] }),
      );
    });

    it('exposes its tags, sorted by creation, as fresh arrays', () => {
      const l = Label.of({ secrecy: [c, a], integrity: [d, b] });
      assert.deepEqual(l.secrecy, [a, c]);
      assert.deepEqual(l.integrity, [b, d]);
      assert.notEqual(l.secrecy, l.secrecy);
      (l.secrecy as Tag[]).push(b);
      assert.deepEqual(l.secrecy, [a, c]);
      assert.deepEqual(Label.public.secrecy, []);
    });

    it('the trusted accessors give the sorted indices', () => {
      const l = Label.of({ secrecy: [c, a], integrity: [b] });
      assert.deepEqual(Array.from(secrecyOfTCB(l)), [tagIndex(a), tagIndex(c)]);
      assert.deepEqual(Array.from(integrityOfTCB(l)), [tagIndex(b)]);
    });

    it('renders tag names for messages', () => {
      const l = Label.of({ secrecy: [a, b], integrity: [c] });
      assert.equal(l.toString(), `⟨S{${a.toString()},${b.toString()}} I{${c.toString()}}⟩`);
      assert.equal(Label.public.toString(), '⟨S{} I{}⟩');
    });

    it('refuses malformed specs and non-tags with clear errors', () => {
      for (const spec of [null, 42, 'a', true]) {
        assert.throws(() => Label.of(spec as never), isMalformed());
      }
      for (const s of [42, { length: 1, 0: a }, a, true]) {
        assert.throws(() => Label.of({ secrecy: s as never }), isMalformed());
        assert.throws(() => Label.of({ integrity: s as never }), isMalformed());
      }
      for (const t of [null, a.id, a.toJSON(), Object.create(Tag.prototype), new Proxy(a, {})]) {
        assert.throws(() => Label.of({ secrecy: [t as Tag] }), isMalformed());
        assert.throws(() => Label.secrecy(t as Tag), isMalformed());
        assert.throws(() => Label.integrity(b, t as Tag), isMalformed());
      }
      assert.throws(() => Label.of({ secrecy: 'ab' as never }), isMalformed());
    });

    it('cannot be constructed, forged or proxied', () => {
      const key = Symbol('sluice.label.intern');
      assert.throws(
        () => new Label(key, new Int32Array(0), new Int32Array(0)),
        (e: unknown) => isMalformed()(e) && /Label\.of/.test((e as Error).message),
      );
      const l = Label.secrecy(a);
      const forged: unknown[] = [
        null,
        undefined,
        0,
        'label',
        {},
        l.toJSON(),
        Object.create(Label.prototype),
        Object.create(l),
        new Proxy(l, {}),
        structuredClone(l),
        { ...l },
      ];
      for (const x of forged) {
        assert.equal(Label.isLabel(x), false);
        assert.throws(
          () => Label.assert(x),
          (e: unknown) =>
            isMalformed()(e) && (e as Error).message.startsWith('label is not a Label'),
        );
        assert.throws(
          () => Label.assert(x, 'sink label'),
          (e: unknown) => isMalformed()(e) && (e as Error).message.startsWith('sink label '),
        );
      }
      assert.equal(Label.assert(l), l);
      assert.ok(Label.isLabel(Label.public));
      // a forged label cannot take part in a comparison
      assert.throws(() => l.flowsTo(Object.create(Label.prototype) as Label), TypeError);
    });
  });

  it('cannot be patched: labels, the class and its prototype are frozen', () => {
    const l = Label.secrecy(a);
    assert.ok(Object.isFrozen(l) && Object.isFrozen(Label) && Object.isFrozen(Label.prototype));
    assert.throws(() => {
      (l as unknown as { flowsTo: () => boolean }).flowsTo = () => true;
    }, TypeError);
    assert.throws(() => {
      (Label.prototype as unknown as { flowsTo: () => boolean }).flowsTo = () => true;
    }, TypeError);
    assert.throws(() => {
      (Label as unknown as { isLabel: () => boolean }).isLabel = () => true;
    }, TypeError);
    assert.ok(!l.flowsTo(Label.public));
    assert.ok(!Label.isLabel({}));
    // the join memo (a private field) still works on a frozen label
    assert.equal(l.join(Label.secrecy(b)), Label.secrecy(a, b));
  });

  describe('flow, join and meet on examples', () => {
    it('secrecy may only grow, integrity may only shrink', () => {
      const sa = Label.secrecy(a);
      const sab = Label.secrecy(a, b);
      const ia = Label.integrity(a);
      const iab = Label.integrity(a, b);
      assert.ok(Label.public.flowsTo(sa));
      assert.ok(sa.flowsTo(sab));
      assert.ok(!sab.flowsTo(sa));
      assert.ok(!sa.flowsTo(Label.public));
      assert.ok(iab.flowsTo(ia));
      assert.ok(ia.flowsTo(Label.public));
      assert.ok(!ia.flowsTo(iab));
      assert.ok(!Label.public.flowsTo(ia));
      assert.ok(!sa.flowsTo(Label.secrecy(b)));
    });

    it('joins and meets incomparable labels', () => {
      const x = Label.of({ secrecy: [a, b], integrity: [c, d] });
      const y = Label.of({ secrecy: [b, c], integrity: [d, a] });
      assert.equal(x.join(y), Label.of({ secrecy: [a, b, c], integrity: [d] }));
      assert.equal(x.meet(y), Label.of({ secrecy: [b], integrity: [a, c, d] }));
      // memoized: the second join answers the same object
      assert.equal(x.join(y), x.join(y));
      assert.equal(y.join(x), x.join(y));
    });

    it('keeps the join memo bounded and correct past its capacity', () => {
      const base = Label.secrecy(a);
      const many = Array.from({ length: 150 }, (_, k) => Label.secrecy(mintTagTCB(`m${k}`)));
      const first = many.map((l) => base.join(l));
      const again = many.map((l) => base.join(l));
      for (let k = 0; k < many.length; k++) {
        const l = many[k]!;
        assert.equal(first[k], again[k]);
        assert.equal(first[k], Label.of({ secrecy: [a, ...l.secrecy] }));
      }
    });

    it('compares correctly when tag indices collide in the fast mask (index mod 32)', () => {
      // Mint enough tags to get three whose indices are equal mod 32.
      const extra = Array.from({ length: 70 }, (_, k) => mintTagTCB(`x${k}`));
      const t0 = extra[0]!;
      const same = extra.filter((t) => (tagIndex(t) - tagIndex(t0)) % 32 === 0);
      const [p, q, r] = same as [Tag, Tag, Tag];
      assert.ok(r !== undefined && tagIndex(p) < tagIndex(q) && tagIndex(q) < tagIndex(r));
      // same masks, different sets
      assert.ok(!Label.secrecy(p).flowsTo(Label.secrecy(q)));
      assert.ok(!Label.secrecy(q).flowsTo(Label.secrecy(p)));
      assert.ok(!Label.secrecy(p, q).flowsTo(Label.secrecy(r)));
      assert.ok(!Label.secrecy(p, r).flowsTo(Label.secrecy(q, r)));
      assert.ok(Label.secrecy(q).flowsTo(Label.secrecy(p, q, r)));
      assert.ok(!Label.integrity(q).flowsTo(Label.integrity(p)));
      assert.ok(!Label.integrity(r).flowsTo(Label.integrity(p, q)));
      assert.ok(Label.integrity(p, q, r).flowsTo(Label.integrity(r)));
      assert.equal(Label.secrecy(p).join(Label.secrecy(q)), Label.secrecy(p, q));
      assert.equal(Label.secrecy(p, q).meet(Label.secrecy(q, r)), Label.secrecy(q));
    });
  });

  describe('lattice laws (property)', () => {
    it('join and meet are commutative, associative and idempotent', () => {
      fc.assert(
        fc.property(arbLabel, arbLabel, arbLabel, (x, y, z) => {
          assert.equal(x.join(y), y.join(x));
          assert.equal(x.meet(y), y.meet(x));
          assert.equal(x.join(y).join(z), x.join(y.join(z)));
          assert.equal(x.meet(y).meet(z), x.meet(y.meet(z)));
          assert.equal(x.join(x), x);
          assert.equal(x.meet(x), x);
        }),
      );
    });

    it('absorption', () => {
      fc.assert(
        fc.property(arbLabel, arbLabel, (x, y) => {
          assert.equal(x.join(x.meet(y)), x);
          assert.equal(x.meet(x.join(y)), x);
        }),
      );
    });

    it('join and meet are the set operations of the model', () => {
      fc.assert(
        fc.property(arbLabel, arbLabel, (x, y) => {
          const j = x.join(y);
          const m = x.meet(y);
          const xs = new Set(ids(x.secrecy));
          const xi = new Set(ids(x.integrity));
          assert.deepEqual(ids(j.secrecy), [...new Set([...xs, ...ids(y.secrecy)])].sort());
          assert.deepEqual(
            ids(j.integrity),
            ids(y.integrity).filter((t) => xi.has(t)),
          );
          assert.deepEqual(
            ids(m.secrecy),
            ids(y.secrecy).filter((t) => xs.has(t)),
          );
          assert.deepEqual(ids(m.integrity), [...new Set([...xi, ...ids(y.integrity)])].sort());
          // upper and lower bounds
          assert.ok(x.flowsTo(j) && y.flowsTo(j));
          assert.ok(m.flowsTo(x) && m.flowsTo(y));
        }),
      );
    });

    it('⊑ is reflexive, antisymmetric (identity) and transitive', () => {
      fc.assert(
        fc.property(arbLabel, arbLabel, arbLabel, (x, y, z) => {
          assert.ok(x.flowsTo(x));
          if (x.flowsTo(y) && y.flowsTo(x)) assert.equal(x, y);
          if (x.flowsTo(y) && y.flowsTo(z)) assert.ok(x.flowsTo(z));
        }),
      );
      // the implications above must not hold vacuously
      fc.assert(
        fc.property(arbLabel, arbLabel, (x, y) => {
          const j = x.join(y);
          assert.ok(x.flowsTo(j) && j.flowsTo(j.join(y)));
          assert.ok(x.flowsTo(j.join(y)));
        }),
      );
    });

    it('a ⊑ b ⟺ a ⊔ b = b ⟺ a ⊓ b = a, and ⊑ is the subset model', () => {
      fc.assert(
        fc.property(arbLabel, arbLabel, (x, y) => {
          const flows = x.flowsTo(y);
          assert.equal(x.join(y) === y, flows);
          assert.equal(x.meet(y) === x, flows);
          const ys = new Set(ids(y.secrecy));
          const xi = new Set(ids(x.integrity));
          const model =
            ids(x.secrecy).every((t) => ys.has(t)) && ids(y.integrity).every((t) => xi.has(t));
          assert.equal(flows, model);
        }),
      );
    });

    it('public flows to every label with empty integrity, and only to those', () => {
      fc.assert(
        fc.property(arbLabel, (x) => {
          assert.equal(Label.public.flowsTo(x), x.integrity.length === 0);
          if (x.integrity.length === 0) {
            assert.equal(Label.public.join(x), x);
            assert.equal(Label.public.meet(x), Label.public);
          }
        }),
      );
    });
  });

  describe('serialization', () => {
    it('round-trips to the identical interned label (property)', () => {
      fc.assert(
        fc.property(arbLabel, (x) => {
          const json: unknown = JSON.parse(JSON.stringify(x));
          assert.deepEqual(json, {
            secrecy: x.secrecy.map((t) => t.id),
            integrity: x.integrity.map((t) => t.id),
          });
          assert.equal(Label.fromJSON(json), x);
          assert.equal(Label.fromJSON(x.toJSON()), x);
        }),
      );
    });

    it('accepts serialized tags as {id, name} objects too', () => {
      const x = Label.of({ secrecy: [a], integrity: [b] });
      assert.equal(Label.fromJSON({ secrecy: [a.toJSON()], integrity: [b.toJSON()] }), x);
    });

    it('refuses malformed shapes with E_MALFORMED', () => {
      const bad: unknown[] = [
        null,
        undefined,
        42,
        'label',
        [],
        {},
        { secrecy: [] },
        { integrity: [] },
        { secrecy: 'x', integrity: [] },
        { secrecy: [], integrity: {} },
        { secrecy: [42], integrity: [] },
        { secrecy: [], integrity: [null] },
        { secrecy: ['nothex'], integrity: [] },
      ];
      for (const x of bad) assert.throws(() => Label.fromJSON(x), isMalformed());
    });

    it('refuses unknown tag ids with E_UNKNOWN_TAG', () => {
      const unknown = 'ffffffffffffffffffffffffffffffff';
      assert.throws(
        () => Label.fromJSON({ secrecy: [a.id, unknown], integrity: [] }),
        isMalformed('E_UNKNOWN_TAG'),
      );
      assert.throws(
        () => Label.fromJSON({ secrecy: [], integrity: [unknown] }),
        isMalformed('E_UNKNOWN_TAG'),
      );
    });
  });
});
