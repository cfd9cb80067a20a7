import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchWriter, readBatch, type EncodedBatch } from './batch-codec.js';

type Rec = [number | string, string[], unknown[], unknown];

function read(b: unknown, outbound: boolean): Rec[] | false {
  const got: Rec[] = [];
  const ok = readBatch(b, outbound, (h, names, values, labels) =>
    got.push([h, names, values, labels]),
  );
  return ok && got;
}

describe('batch codec', () => {
  it('a record larger than the tape (it grows in the middle of the record) keeps its count', () => {
    const w = new BatchWriter();
    const parts: Record<string, number> = {};
    for (let i = 0; i < 700; i++) parts[`p${String(i)}`] = i;
    w.record('t', parts);
    const got = read(w.finish(), true);
    assert.ok(got);
    assert.deepEqual(got[0]?.[1], Object.keys(parts));
  });

  it('round-trips every kind of value, in order, inbound and outbound', () => {
    const w = new BatchWriter();
    const obj = { a: [1, 'two'] };
    w.inbound(3, 7);
    for (const [n, v] of [
      ['n', 1.5],
      ['s', 'text'],
      ['t', true],
      ['f', false],
      ['z', null],
      ['o', obj],
      ['n', -0],
    ] as const)
      w.part(n, v);
    w.inbound(0, 0);
    const inb = w.finish();
    assert.equal(inb.n, 2);
    assert.deepEqual(read(inb, false), [
      [
        3,
        ['n', 's', 't', 'f', 'z', 'o', 'n'],
        [1.5, 'text', true, false, null, obj, -0],
        undefined,
      ],
      [0, [], [], undefined],
    ]);
    assert.equal(w.count, 0);
    w.outbound('out', 1);
    w.part('x', 2);
    w.labels({ x: { secrecy: ['a'] } });
    w.outbound('out', 0);
    w.labels(undefined);
    assert.deepEqual(read(w.finish(), true), [
      ['out', ['x'], [2], { x: { secrecy: ['a'] } }],
      ['out', [], [], undefined],
    ]);
  });

  it('a long batch grows its tape; a value is fixed (hardened) as it is read', () => {
    const w = new BatchWriter();
    for (let i = 0; i < 2000; i++) {
      w.inbound(0, 1);
      w.part('v', { i });
    }
    const fixed: unknown[] = [];
    const ok = readBatch(
      w.finish(),
      false,
      (_h, _n, values) => fixed.push(values[0]),
      (v) => Object.freeze(v),
    );
    assert.ok(ok);
    assert.equal(fixed.length, 2000);
    assert.ok(fixed.every((v, i) => Object.isFrozen(v) && (v as { i: number }).i === i));
  });

  it('refuses every malformed batch (the host trusts nothing a guest sends)', () => {
    const good = (): EncodedBatch => {
      const w = new BatchWriter();
      w.outbound('t', 2);
      w.part('a', 'v');
      w.part('b', { o: 1 });
      w.labels(undefined);
      return w.finish();
    };
    const g = good();
    const tape = (f: (a: Float64Array) => void): EncodedBatch => {
      const nums = g.nums.slice();
      f(nums);
      return { ...g, nums };
    };
    const bad: unknown[] = [
      null,
      'batch',
      { ...g, nums: [...g.nums] },
      { ...g, strs: 'ts' },
      { ...g, vals: {} },
      { ...g, strs: [1, 2] },
      { ...g, n: 2 },
      { ...g, n: -1 },
      { ...g, n: 0.5 },
      { ...g, nums: g.nums.slice(0, 3) },
      { ...g, nums: g.nums.slice(0, 1) },
      { ...g, nums: g.nums.slice(0, g.nums.length - 1) },
      { ...g, nums: g.nums.slice(0, 4) },
      tape((a) => (a[0] = 9)), // topic index out of range
      tape((a) => (a[1] = 1e9)), // more parts than the tape holds
      tape((a) => (a[2] = 9 * 8)), // name index out of range
      tape((a) => (a[2] = 1 * 8 + 6)), // unknown kind
      tape((a) => (a[3] = 7)), // string index out of range
      tape((a) => (a[5] = 3)), // value index out of range
      tape((a) => (a[6] = 4)), // labels index out of range
      { ...g, nums: Float64Array.from([...g.nums, 0]) }, // trailing slots
    ];
    assert.ok(read(g, true));
    for (const b of bad) assert.equal(read(b, true), false, JSON.stringify(b));
    // Inbound, the head is a subscription index: an integer.
    const w = new BatchWriter();
    w.inbound(0, 0);
    const inb = w.finish();
    assert.equal(read({ ...inb, nums: Float64Array.of(0.5, 0) }, false), false);
  });
  it('record: one whole record from a parts object, read once; a getter that throws or publishes leaves the batch whole', () => {
    const w = new BatchWriter();
    w.record('t', { a: 1, b: 'x' });
    const proto = { inherited: 1 };
    w.record(2, Object.assign(Object.create(proto) as Record<string, unknown>, { own: true }));
    assert.throws(() => {
      w.record('t', {
        ok: 1,
        get bad(): number {
          throw new Error('no');
        },
      });
    }, /no/);
    // A publish from inside a getter would write into the middle of the record: refused.
    let inner: unknown;
    w.record('t', {
      get g(): number {
        try {
          w.record('u', { x: 1 });
        } catch (e) {
          inner = e;
        }
        return 5;
      },
    });
    assert.ok(inner instanceof TypeError);
    w.record('t', { last: null }, { last: { secrecy: ['a'] } });
    const b = w.finish();
    assert.equal(b.n, 4);
    const out: Rec[] = [];
    // Outbound and inbound records are read by their own readers; split the tape by hand here:
    // header 2, two parts of 2 slots, labels 1.
    const at = 2 + 4 + 1;
    assert.ok(
      readBatch({ ...b, n: 1, nums: b.nums.subarray(0, at) }, true, (...r) => {
        out.push(r);
      }),
    );
    assert.deepEqual(out, [['t', ['a', 'b'], [1, 'x'], undefined]]);
    const rest = b.nums.subarray(at);
    assert.deepEqual(read({ ...b, n: 1, nums: rest.subarray(0, 3) }, false), [
      [2, ['own'], [true], undefined],
    ]);
    assert.deepEqual(read({ ...b, n: 2, nums: rest.subarray(3) }, true), [
      ['t', ['g'], [5], undefined],
      ['t', ['last'], [null], { last: { secrecy: ['a'] } }],
    ]);
  });
});
