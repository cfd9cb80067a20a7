import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canChangeLabel, canWrite } from './checks.js';
import * as core from './index.js';
import { Label } from './label.js';
import { PrivilegeSet, createTagTCB, type Privilege, type PrivilegeKind } from './privilege.js';
import type { Tag } from './tag.js';

const made = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => createTagTCB(n));
const pool: Tag[] = made.map((m) => m.tag);
const allPrivileges: Privilege[] = made.flatMap((m) => [...m.privileges]);
const [a, b, c] = pool as [Tag, Tag, Tag];
const priv = (t: Tag, k: PrivilegeKind): Privilege =>
  allPrivileges.find((p) => p.tag === t && p.kind === k)!;

const arbLabel = fc
  .record({ s: fc.subarray(pool), i: fc.subarray(pool) })
  .map(({ s, i }) => Label.of({ secrecy: s, integrity: i }));
const arbPrivileges = fc.subarray(allPrivileges).map((ps) => PrivilegeSet.from(ps));

/** The reference model: plain sets of tag ids. */
interface Model {
  s: Set<string>;
  i: Set<string>;
}
const model = (l: Label): Model => ({
  s: new Set(l.secrecy.map((t) => t.id)),
  i: new Set(l.integrity.map((t) => t.id)),
});
const held = (p: PrivilegeSet, k: PrivilegeKind): Set<string> =>
  new Set(pool.filter((t) => p.has(k, t)).map((t) => t.id));
const minus = <T>(x: Set<T>, y: Set<T>): T[] => [...x].filter((v) => !y.has(v));
const within = <T>(xs: T[], y: Set<T>): boolean => xs.every((v) => y.has(v));

function modelFlows(l: Model, r: Model): boolean {
  return minus(l.s, r.s).length === 0 && minus(r.i, l.i).length === 0;
}

function modelCanWrite(from: Label, p: PrivilegeSet, to: Label): boolean {
  const l = model(from);
  const r = model(to);
  if (modelFlows(l, r)) return true;
  return within(minus(l.s, r.s), held(p, 'minus')) && within(minus(r.i, l.i), held(p, 'plus'));
}

function modelCanChange(from: Label, p: PrivilegeSet, to: Label): boolean {
  const l = model(from);
  const r = model(to);
  const plus = held(p, 'plus');
  const minusP = held(p, 'minus');
  return (
    within(minus(r.s, l.s), plus) &&
    within(minus(l.s, r.s), minusP) &&
    within(minus(r.i, l.i), plus) &&
    within(minus(l.i, r.i), minusP)
  );
}

describe('canWrite', () => {
  it('agrees with the reference model (property)', () => {
    fc.assert(
      fc.property(arbLabel, arbPrivileges, arbLabel, (from, p, to) => {
        assert.equal(canWrite(from, p, to), modelCanWrite(from, p, to));
      }),
      { numRuns: 2000 },
    );
  });

  it('with no privileges is exactly ⊑; with every privilege, anything goes (property)', () => {
    const all = PrivilegeSet.from(allPrivileges);
    fc.assert(
      fc.property(arbLabel, arbLabel, (from, to) => {
        assert.equal(canWrite(from, PrivilegeSet.empty, to), from.flowsTo(to));
        assert.ok(canWrite(from, all, to));
      }),
    );
  });

  it('write-down needs t- for each secrecy tag dropped', () => {
    const from = Label.secrecy(a, b);
    assert.ok(canWrite(from, PrivilegeSet.empty, Label.secrecy(a, b, c)));
    assert.ok(!canWrite(from, PrivilegeSet.empty, Label.secrecy(a)));
    assert.ok(canWrite(from, PrivilegeSet.from([priv(b, 'minus')]), Label.secrecy(a)));
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(b, 'minus')]), Label.public));
    assert.ok(
      !canWrite(
        from,
        PrivilegeSet.from([priv(b, 'plus'), priv(b, 'minus-auth')]),
        Label.secrecy(a),
      ),
    );
    assert.ok(
      canWrite(from, PrivilegeSet.from([priv(a, 'minus'), priv(b, 'minus')]), Label.public),
    );
    // t- on an unrelated tag does not help
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(c, 'minus')]), Label.secrecy(a)));
  });

  it('endorsement needs t+ for each integrity tag added', () => {
    const from = Label.integrity(a);
    assert.ok(canWrite(from, PrivilegeSet.empty, Label.public));
    assert.ok(!canWrite(from, PrivilegeSet.empty, Label.integrity(a, b)));
    assert.ok(canWrite(from, PrivilegeSet.from([priv(b, 'plus')]), Label.integrity(a, b)));
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(b, 'minus')]), Label.integrity(a, b)));
    // dropping a is free, but c is added without c+
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(b, 'plus')]), Label.integrity(b, c)));
    assert.ok(canWrite(from, PrivilegeSet.from([priv(b, 'plus')]), Label.integrity(b)));
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(b, 'plus')]), Label.integrity(a, b, c)));
  });

  it('needs both halves of the difference covered', () => {
    const from = Label.of({ secrecy: [a], integrity: [] });
    const to = Label.of({ secrecy: [], integrity: [b] });
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(a, 'minus')]), to));
    assert.ok(!canWrite(from, PrivilegeSet.from([priv(b, 'plus')]), to));
    assert.ok(canWrite(from, PrivilegeSet.from([priv(a, 'minus'), priv(b, 'plus')]), to));
  });
});

describe('canChangeLabel', () => {
  it('agrees with the reference model (property)', () => {
    fc.assert(
      fc.property(arbLabel, arbPrivileges, arbLabel, (from, p, to) => {
        assert.equal(canChangeLabel(from, p, to), modelCanChange(from, p, to));
      }),
      { numRuns: 2000 },
    );
  });

  it('staying put needs nothing; any real change needs something (property)', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, (from, to) => {
        assert.ok(canChangeLabel(from, PrivilegeSet.empty, from));
        assert.equal(canChangeLabel(from, PrivilegeSet.empty, to), from === to);
      }),
    );
  });

  it('raising secrecy needs t+ (unlike a write), lowering it needs t-', () => {
    const s = Label.secrecy(a);
    assert.ok(canWrite(Label.public, PrivilegeSet.empty, s));
    assert.ok(!canChangeLabel(Label.public, PrivilegeSet.empty, s));
    assert.ok(canChangeLabel(Label.public, PrivilegeSet.from([priv(a, 'plus')]), s));
    assert.ok(!canChangeLabel(Label.public, PrivilegeSet.from([priv(a, 'minus')]), s));
    assert.ok(canChangeLabel(s, PrivilegeSet.from([priv(a, 'minus')]), Label.public));
    assert.ok(!canChangeLabel(s, PrivilegeSet.from([priv(a, 'plus')]), Label.public));
  });

  it('adding integrity needs t+, dropping it needs t-', () => {
    const i = Label.integrity(b);
    assert.ok(canChangeLabel(Label.public, PrivilegeSet.from([priv(b, 'plus')]), i));
    assert.ok(!canChangeLabel(Label.public, PrivilegeSet.from([priv(b, 'minus')]), i));
    assert.ok(canChangeLabel(i, PrivilegeSet.from([priv(b, 'minus')]), Label.public));
    assert.ok(!canChangeLabel(i, PrivilegeSet.from([priv(b, 'plus')]), Label.public));
    // auths are not the privileges themselves
    const auths = PrivilegeSet.from([priv(b, 'plus-auth'), priv(b, 'minus-auth')]);
    assert.ok(!canChangeLabel(Label.public, auths, i));
    assert.ok(!canChangeLabel(i, auths, Label.public));
  });
});

describe('index', () => {
  it('re-exports the core', () => {
    assert.equal(core.canWrite, canWrite);
    assert.equal(core.canChangeLabel, canChangeLabel);
    assert.equal(core.Label, Label);
    assert.equal(core.PrivilegeSet, PrivilegeSet);
    assert.equal(typeof core.writePart, 'function');
    assert.equal(typeof core.readPartTCB, 'function');
    assert.equal(new core.FlowViolationError('x').code, 'E_FLOW');
    assert.equal(new core.InsufficientPrivilegeError('x').code, 'E_PRIVILEGE');
    assert.ok(new core.MalformedInputError('x') instanceof core.SluiceError);
    assert.equal(typeof core.Tag.fromJSON, 'function');
    assert.equal(typeof core.createTagTCB, 'function');
  });
});
