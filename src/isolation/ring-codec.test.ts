import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RecordReader } from './record-reader.js';
import { RecordWriter } from './record-writer.js';
import { DONE, PONG, type RecordSink } from './ring-codec.js';
import { newBell, newRing, RingFault, RingReader, RingWriter } from './ring.js';

type Rec = readonly unknown[];

/** A ring of `cap` bytes with a writer and a reader end. */
function pair(cap = 1 << 12): { w: RingWriter; r: RingReader; sab: SharedArrayBuffer } {
  const sab = newRing(cap);
  const a = newBell();
  const b = newBell();
  return { w: new RingWriter(sab, b, a), r: new RingReader(sab, a), sab };
}

/** A sink that keeps every record as [tag, …fields]. */
function keep(): { sink: RecordSink; got: Rec[] } {
  const got: Rec[] = [];
  const sink: RecordSink = {
    event: (s, n, v) => got.push(['event', s, [...n], [...v]]),
    output: (t, n, v, l) => got.push(['output', t, [...n], [...v], l]),
    done: (n, e) => got.push(['done', n, e]),
    pong: (id) => got.push(['pong', id]),
    ctrl: (m) => got.push(['ctrl', m]),
  };
  return { sink, got };
}

/** Move everything staged in `out` through the ring to `rd`, however small the ring. */
function pump(out: RecordWriter, w: RingWriter, r: RingReader, rd: RecordReader, sink: RecordSink) {
  for (let guard = 0; guard < 100_000; guard++) {
    out.flush(w);
    rd.pull(r);
    rd.parse(sink, Infinity);
    if (out.pending === 0 && r.available() === 0 && !rd.ready) return;
  }
  assert.fail('the ring did not drain');
}

const VALUES: [string, unknown][] = [
  ['int', 7],
  ['neg', -3],
  ['zero', 0],
  ['negzero', -0],
  ['float', 1.5],
  ['big', 2 ** 40],
  ['nan', Number.NaN],
  ['s', 'text'],
  ['long', 'x'.repeat(1000) + '\ud800'],
  ['lone', '\udc00a'],
  ['t', true],
  ['f', false],
  ['z', null],
  ['u', undefined],
  ['o', { a: [1, 'two'], b: new Map([[1, 2]]) }],
  ['__proto__', 1],
];

describe('ring codec', () => {
  it('round-trips every kind of value and record, in order, through a ring smaller than the data', () => {
    const { w, r } = pair(64);
    const out = new RecordWriter();
    const rd = new RecordReader();
    const { sink, got } = keep();
    const parts: Record<string, unknown> = {};
    for (const [n, v] of VALUES) Object.defineProperty(parts, n, { value: v, enumerable: true });
    out.record('topic', parts, { s: { secrecy: ['a'] } });
    out.event(3, 2);
    out.part('n', 1);
    out.part('n', 2);
    out.close();
    out.record(undefined, { y: 'z' });
    out.counts(DONE, 5, 1);
    out.id(PONG, 0.5);
    out.ctrl({ k: 'state', state: { entries: [['k', 1]], clock: 2 } });
    pump(out, w, r, rd, sink);
    assert.deepEqual(got, [
      [
        'output',
        'topic',
        VALUES.map(([n]) => n),
        VALUES.map(([, v]) => v),
        { s: { secrecy: ['a'] } },
      ],
      ['event', 3, ['n', 'n'], [1, 2]],
      ['event', 0, ['y'], ['z']],
      ['done', 5, 1],
      ['pong', 0.5],
      ['ctrl', { k: 'state', state: { entries: [['k', 1]], clock: 2 } }],
    ]);
    assert.ok(Object.is((got[0]?.[3] as unknown[])[3], -0));
  });

  it('a record larger than the staging buffer (it grows in the middle of the record) keeps its count', () => {
    const { w, r } = pair(1 << 10);
    const out = new RecordWriter();
    const rd = new RecordReader();
    const { sink, got } = keep();
    const big = 'y'.repeat(50_000);
    out.record('t', { a: big, b: big, c: 1 });
    pump(out, w, r, rd, sink);
    assert.deepEqual(got, [['output', 't', ['a', 'b', 'c'], [big, big, 1], undefined]]);
  });

  it('names past the dictionary limit travel inline; a record that cannot be encoded leaves nothing', () => {
    const { w, r } = pair();
    const out = new RecordWriter();
    const rd = new RecordReader();
    const { sink, got } = keep();
    const names = Array.from({ length: 5000 }, (_, i) => `n${String(i)}`);
    for (const n of names) out.record('t', { [n]: 1 });
    assert.throws(() => {
      out.record('t', { ok: 1, bad: () => 1 });
    });
    assert.throws(() => {
      out.record('t', {
        get bad(): number {
          throw new Error('getter');
        },
      });
    });
    out.record('t', { last: 2 });
    pump(out, w, r, rd, sink);
    assert.equal(got.length, names.length + 1);
    assert.deepEqual(
      got.map((g) => (g[2] as string[])[0]),
      [...names, 'last'],
    );
  });

  it('parses its own copy: bytes changed in the ring after they were read change nothing', () => {
    const { w, r, sab } = pair();
    const out = new RecordWriter();
    const rd = new RecordReader();
    const { sink, got } = keep();
    out.record('t', { x: 41 });
    out.flush(w);
    rd.pull(r);
    new Uint8Array(sab).fill(0xff, 16);
    rd.parse(sink, Infinity);
    assert.deepEqual(got, [['output', 't', ['x'], [41], undefined]]);
  });

  it('a position the other side published that cannot be true is a RingFault', () => {
    const { w, r, sab } = pair(64);
    const head = new Int32Array(sab, 0, 4);
    Atomics.store(head, 0, 65);
    assert.throws(() => r.available(), RingFault);
    Atomics.store(head, 0, -1);
    assert.throws(() => r.available(), RingFault);
    const b = pair(64);
    Atomics.store(new Int32Array(b.sab, 0, 4), 1, 5); // read beyond what was written
    assert.throws(() => b.w.write(new Uint8Array(4), 0, 4), RingFault);
    assert.throws(() => w.hasRoom() && Atomics.store(head, 1, 1000) && w.hasRoom(), RingFault);
  });

  it('any bytes at all: records, waiting for more, or a RingFault, never another error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, prefixed) => {
        const { w, r } = pair(1 << 10);
        const rd = new RecordReader();
        const { sink } = keep();
        // Sometimes a valid record first, so that names get defined and parsing goes deeper.
        if (prefixed) {
          const out = new RecordWriter();
          out.record('t', { a: 1, b: 's' });
          out.flush(w);
        }
        w.write(bytes, 0, bytes.length);
        try {
          rd.pull(r);
          rd.parse(sink, Infinity);
        } catch (e) {
          if (!(e instanceof RingFault)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random corruption of valid records: a RingFault or records, never another error (property)', () => {
    const out = new RecordWriter();
    for (const [n, v] of VALUES) out.record('t', { [n]: v });
    out.counts(DONE, 1, 0);
    const { w: w0, r: r0 } = pair(1 << 14);
    out.flush(w0);
    const clean = new Uint8Array(r0.available());
    r0.read(clean, 0, clean.length);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(clean.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (flips) => {
          const bytes = clean.slice();
          for (const [at, v] of flips) bytes[at] = v;
          const { w, r } = pair(1 << 14);
          w.write(bytes, 0, bytes.length);
          const rd = new RecordReader();
          try {
            rd.pull(r);
            rd.parse(keep().sink, Infinity);
          } catch (e) {
            if (!(e instanceof RingFault)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
