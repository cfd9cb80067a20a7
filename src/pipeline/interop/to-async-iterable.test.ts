import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../../engine/engine.js';
import { ConfigError, FlowViolationError } from '../../errors.js';
import { Label } from '../../labels.js';
import { declassify } from '../operators/declassify.js';
import { keyBy } from '../operators/key-by.js';
import { map } from '../operators/map.js';
import { reduce } from '../operators/reduce.js';
import { minRecords } from '../operators/release-policy.js';
import { Pipeline, type RunReport } from '../pipeline.js';
import { from } from '../sources/from.js';
import { fromAsync } from '../sources/from-async.js';
import type { OutputItem } from './output.js';
import { toAsyncIterable } from './to-async-iterable.js';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const p0 = new Pipeline();
const alice = p0.tag('alice');
const SECRET = Label.secrecy(alice.tag);

interface Rec {
  readonly secret: boolean;
  readonly v: number;
}

/** A public source that marks some values secret: the runtime monitor refuses those. */
const mislabelled = (values: readonly Rec[]) =>
  from(values, { labelOf: (r) => (r.secret ? SECRET : Label.public), name: 'mixed' }).pipe(
    map((r) => r.v),
  );

describe('toAsyncIterable', () => {
  it('yields { value, label } items and ends with the stream', async () => {
    const items = await all(toAsyncIterable(from([1, 2, 3]).pipe(map((x) => x * 2))));
    assert.deepEqual(items, [
      { value: 2, label: Label.public },
      { value: 4, label: Label.public },
      { value: 6, label: Label.public },
    ]);
  });

  it('is cold: each iteration runs the stream again', async () => {
    const it = toAsyncIterable(from(['a', 'b']));
    assert.deepEqual(await all(it), await all(it));
  });

  it('a public-cleared iterable never yields a secret item', async () => {
    const values: Rec[] = [
      { secret: false, v: 1 },
      { secret: true, v: 666 },
      { secret: false, v: 2 },
      { secret: true, v: 777 },
    ];
    let report: RunReport | undefined;
    const items = await all(
      toAsyncIterable(mislabelled(values), { onReport: (r) => (report = r) }),
    );
    assert.deepEqual(
      items.map((i) => i.value),
      [1, 2],
    );
    assert.ok(items.every((i) => i.label === Label.public));
    await new Promise((r) => setImmediate(r));
    assert.equal(report?.refused.mixed, 2, 'refused and audited at the source');
  });

  it('secret data reaches a public iterable only through a declassifier', async () => {
    const secret = from([5, 6, 7], { label: SECRET });
    assert.throws(() => toAsyncIterable(secret), FlowViolationError, 'checked when built');
    const released = secret.pipe(
      reduce<number, { n: number; sum: number }>((a, x) => ({ n: a.n + 1, sum: a.sum + x }), {
        n: 0,
        sum: 0,
      }),
      declassify({ privileges: [alice.minus], policy: minRecords(3, (a: { n: number }) => a.n) }),
    );
    assert.deepEqual(await all(toAsyncIterable(released)), [
      { value: { n: 3, sum: 18 }, label: Label.public },
    ]);
    const high = await all(toAsyncIterable(secret, { clearance: SECRET }));
    assert.deepEqual(
      high.map((i) => [i.value, i.label === SECRET]),
      [
        [5, true],
        [6, true],
        [7, true],
      ],
    );
  });

  it('property: changing only secret inputs never changes what a public consumer gets', async () => {
    const rec = fc.record({ secret: fc.boolean(), v: fc.integer() });
    await fc.assert(
      fc.asyncProperty(
        fc.array(rec, { maxLength: 30 }),
        fc.array(fc.integer()),
        async (a, noise) => {
          const b = a.map((r, i) => (r.secret ? { secret: true, v: noise[i] ?? -i } : r));
          const [ia, ib] = await Promise.all([
            all(toAsyncIterable(mislabelled(a))),
            all(toAsyncIterable(mislabelled(b))),
          ]);
          assert.deepEqual(ia, ib);
          assert.deepEqual(
            ia.map((i) => i.value),
            a.filter((r) => !r.secret).map((r) => r.v),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('per-key output: items carry their key and the key label', async () => {
    const p = new Pipeline();
    const who = p.family('who');
    const stream = from([
      { k: 'x', v: 1 },
      { k: 'y', v: 2 },
      { k: 'x', v: 3 },
    ]).pipe(keyBy((r) => r.k, who));
    assert.throws(() => toAsyncIterable(stream), FlowViolationError);
    const items: OutputItem<{ k: string; v: number }>[] = await all(
      toAsyncIterable(stream, { perKey: who, engine: p.engine }),
    );
    assert.deepEqual(
      items.map((i) => [i.key, i.value.v, i.label === who.label(i.key as string)]),
      [
        ['x', 1, true],
        ['y', 2, true],
        ['x', 3, true],
      ],
    );
  });

  it('break stops the run (the source is told to stop)', async () => {
    let stopped = false;
    // eslint-disable-next-line @typescript-eslint/require-await -- a generator that never waits on I/O
    async function* forever() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        stopped = true;
      }
    }
    const got: number[] = [];
    for await (const item of toAsyncIterable(fromAsync(forever()))) {
      got.push(item.value);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [0, 1, 2]);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(stopped, true);
  });

  it('a slow consumer slows the sources: at most highWater items wait in the queue', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    // eslint-disable-next-line @typescript-eslint/require-await -- a generator that never waits on I/O
    async function* gen() {
      for (let i = 0; i < 200; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield i;
      }
    }
    for await (const item of toAsyncIterable(fromAsync(gen()), { highWater: 8 })) {
      consumed++;
      assert.equal(item.value, consumed - 1);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(consumed, 200);
    assert.ok(maxAhead <= 10, `ahead by ${String(maxAhead)}`);
  });

  it('an error that ends the stream is thrown by next()', async () => {
    const failing = from([1, 2, 0, 4]).pipe(
      map((x) => {
        if (x === 0) throw new RangeError('zero');
        return x;
      }),
    );
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const i of toAsyncIterable(failing)) got.push(i.value);
    }, RangeError);
    assert.deepEqual(got, [1, 2]);
    // Pulled late: the error waits in the queue behind the items.
    const it = toAsyncIterable(failing)[Symbol.asyncIterator]();
    const first = await it.next();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(first.value, { value: 1, label: Label.public });
    const second: IteratorResult<OutputItem<number>> = await it.next();
    assert.equal((second.value as OutputItem<number>).value, 2);
    await assert.rejects(it.next(), RangeError);
    assert.equal((await it.next()).done, true);
  });

  it('uses the given engine for its audit log', async () => {
    const engine = new Engine();
    await all(toAsyncIterable(from([1]), { engine, name: 'audited' }));
    assert.ok(engine.audit.entries().some((e) => e.unit?.startsWith('audited/') === true));
  });

  it('rejects bad arguments at build time', () => {
    assert.throws(() => toAsyncIterable([1] as never), ConfigError);
    assert.throws(() => toAsyncIterable(from([1]), { highWater: 0 }), ConfigError);
    assert.throws(() => toAsyncIterable(from([1]), { engine: {} as never }), ConfigError);
    assert.throws(() => toAsyncIterable(from([1]), { onReport: 1 as never }), ConfigError);
    assert.throws(() => toAsyncIterable(from([1]), null as never), ConfigError);
  });
});
