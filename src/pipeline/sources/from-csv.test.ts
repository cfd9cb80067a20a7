import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { map } from '../operators/map.js';
import { Pipeline } from '../pipeline.js';
import { toCallback } from '../sinks/to-callback.js';
import { fromCsv } from './from-csv.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-csv-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

async function collect<T>(stream: ReturnType<typeof fromCsv<T>>, p = new Pipeline()) {
  const got: T[] = [];
  const report = await p
    .output(
      stream,
      toCallback<T>((v) => got.push(v)),
    )
    .run();
  return { got, report };
}

describe('fromCsv', () => {
  it('reads rows as frozen objects named by the header row, quoted fields included', async () => {
    const path = await file('a.csv', 'id,name,note\n1,ann,"a, b"\n2,bob,"say ""hi"""\n3,cy,\n');
    const { got, report } = await collect(fromCsv(path, { name: 'people' }));
    assert.deepEqual(got, [
      { id: '1', name: 'ann', note: 'a, b' },
      { id: '2', name: 'bob', note: 'say "hi"' },
      { id: '3', name: 'cy', note: '' },
    ]);
    assert.ok(got.every((r) => Object.isFrozen(r)));
    assert.deepEqual(report.sources.people, { rows: 3, skipped: 0, reasons: {} });
    assert.deepEqual(report.failures, []);
  });

  it('counts and skips rows with the wrong column count or broken quotes, and cast failures', async () => {
    const path = await file('bad.csv', 'a,b\n1,2\n3\n4,5,6\n7,"8\n9,x\n10,11\n\n12,13\r\n');
    const { got, report } = await collect(
      fromCsv<{ a: number; b: number }>(path, {
        name: 'nums',
        cast: (v) => {
          const n = Number(v);
          if (v === '' || !Number.isFinite(n)) throw new Error('not a number');
          return n;
        },
      }),
    );
    // `7,"8\n9,x\n10,11…`: the quote swallows lines until the file ends or the quote closes.
    const rows = got.map((r) => [r.a, r.b]);
    assert.deepEqual(rows[0], [1, 2]);
    const s = report.sources.nums!;
    assert.equal(s.rows, got.length);
    assert.equal(
      s.skipped,
      (s.reasons['column-count'] ?? 0) + (s.reasons.quote ?? 0) + (s.reasons.cast ?? 0),
    );
    assert.ok((s.reasons['column-count'] ?? 0) >= 2, 'rows 3 and 4,5,6');
    assert.deepEqual(report.failures, []);
  });

  it('counts each malformed row exactly', async () => {
    const path = await file('count.csv', 'k,v\na,1\nb\nc,3,3\nd,x\ne,5\n');
    const { got, report } = await collect(
      fromCsv<{ k: string; v: number }>(path, {
        name: 'kv',
        cast: (v, col) => {
          if (col === 'k') return v;
          const n = Number(v);
          if (!Number.isFinite(n)) throw new Error('nan');
          return n;
        },
      }),
    );
    assert.deepEqual(got, [
      { k: 'a', v: 1 },
      { k: 'e', v: 5 },
    ]);
    assert.deepEqual(report.sources.kv, {
      rows: 2,
      skipped: 3,
      reasons: { 'column-count': 2, cast: 1 },
    });
  });

  it('keeps only the requested columns, with another delimiter', async () => {
    const path = await file('semi.csv', 'x;y;z\n1;2;3\n4;5;6\n');
    const { got } = await collect(fromCsv(path, { columns: ['z', 'x'], delimiter: ';' }));
    assert.deepEqual(got, [
      { x: '1', z: '3' },
      { x: '4', z: '6' },
    ]);
  });

  it('fails clearly when a requested column is not in the header', async () => {
    const path = await file('nocol.csv', 'x,y\n1,2\n');
    const { got, report } = await collect(fromCsv(path, { columns: ['w'], name: 'src' }));
    assert.deepEqual(got, []);
    assert.equal(report.failures.length, 1);
    const f = report.failures[0]!;
    assert.equal(f.operator, 'src');
    assert.ok(f.error instanceof ConfigError);
    assert.match(f.error.message, /has no column 'w'/);
  });

  it('an empty file, or one with a header only, is zero rows and completes', async () => {
    for (const [name, text] of [
      ['empty.csv', ''],
      ['header.csv', 'a,b\n'],
    ] as const) {
      const path = await file(name, text);
      let completed = false;
      const p = new Pipeline();
      const report = await p
        .output(
          fromCsv(path, { name: 'e' }),
          toCallback(() => {}, { onComplete: () => (completed = true) }),
        )
        .run();
      assert.equal(completed, true);
      assert.deepEqual(report.sources.e, { rows: 0, skipped: 0, reasons: {} });
      assert.deepEqual(report.failures, []);
    }
  });

  it('a missing file fails the source with a message naming the path', async () => {
    const path = join(dir, 'nope.csv');
    let err: unknown;
    const p = new Pipeline();
    const report = await p
      .output(
        fromCsv(path, { name: 'missing' }),
        toCallback(() => {}, { onError: (e) => (err = e) }),
      )
      .run();
    assert.equal(report.failures.length, 1);
    const f = report.failures[0]!;
    assert.ok(f.error instanceof ConfigError);
    assert.equal(f.error.message, `fromCsv: cannot read '${path}': no such file`);
    assert.equal(err, f.error, 'the public sink is told: the source runs at public');
  });

  it('a directory fails the source with a clear message', async () => {
    const { report } = await collect(fromCsv(dir, { name: 'd' }));
    const f = report.failures[0]!;
    assert.match((f.error as Error).message, /^fromCsv: cannot read '.*': it is a directory$/);
  });

  it('labels rows per value with labelOf, bounded by the source label', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const SECRET = Label.secrecy(alice.tag);
    const path = await file('lab.csv', 'who,v\npub,1\nsec,2\n');
    const got: [string, boolean][] = [];
    await p
      .output(
        fromCsv<{ who: string; v: string }>(path, {
          label: SECRET,
          labelOf: (r) => (r.who === 'sec' ? SECRET : Label.public),
        }).pipe(map((r) => r.v)),
        toCallback<string>((v, info) => got.push([v, info.label === SECRET]), { label: SECRET }),
      )
      .run();
    assert.deepEqual(got, [
      ['1', true],
      ['2', true],
    ]);
  });

  it('streams a large file in batches, never as one string', async () => {
    const n = 100_000;
    const lines = ['i,sq'];
    for (let i = 0; i < n; i++) lines.push(`${i},${i * i}`);
    const path = await file('big.csv', `${lines.join('\n')}\n`);
    let count = 0;
    let sum = 0;
    const report = await new Pipeline()
      .output(
        fromCsv<{ i: string }>(path, { name: 'big' }),
        toCallback<{ i: string }>((r) => {
          count++;
          sum += Number(r.i);
        }),
      )
      .run();
    assert.equal(count, n);
    assert.equal(sum, (n * (n - 1)) / 2);
    assert.equal(report.sources.big?.rows, n);
  });

  it('stops reading when the run is stopped', async () => {
    const lines = ['i'];
    for (let i = 0; i < 200_000; i++) lines.push(String(i));
    const path = await file('stop.csv', lines.join('\n'));
    let count = 0;
    const run = new Pipeline()
      .output(
        fromCsv(path, { name: 's' }),
        toCallback(() => {
          count++;
        }),
      )
      .start();
    run.stop();
    const report = await run.done;
    assert.ok(count < 200_000);
    assert.equal(report.sources.s?.rows, count);
  });

  it('rejects bad options at build time', () => {
    assert.throws(() => fromCsv(''), ConfigError);
    assert.throws(() => fromCsv(3 as never), ConfigError);
    assert.throws(() => fromCsv('x.csv', { columns: [] }), ConfigError);
    assert.throws(() => fromCsv('x.csv', { columns: [1] as never }), ConfigError);
    assert.throws(() => fromCsv('x.csv', { delimiter: '' }), ConfigError);
    assert.throws(() => fromCsv('x.csv', { delimiter: '"' }), ConfigError);
    assert.throws(() => fromCsv('x.csv', { cast: 'number' as never }), ConfigError);
    assert.throws(() => fromCsv('x.csv', { labelOf: 1 as never }), ConfigError);
  });

  it('rejects a header row that names a column twice', async () => {
    const path = await file('dup.csv', 'a,a\n1,2\n');
    const { report } = await collect(fromCsv(path));
    assert.match((report.failures[0]?.error as Error).message, /names a column twice/);
  });
});

describe('fromCsv header row', () => {
  it('a malformed header row fails the source instead of using the next row', async () => {
    for (const [name, text] of [
      ['badhead1.csv', 'a,b"x,c\n1,2,3\n4,5,6\n'],
      ['badhead2.csv', 'a,"b\n1,2\n'],
    ] as const) {
      const { got, report } = await collect(fromCsv(await file(name, text)));
      assert.deepEqual(got, []);
      assert.match((report.failures[0]?.error as Error).message, /header row of .* is malformed/);
    }
  });

  it('a column named __proto__ is a field, not the prototype', async () => {
    const path = await file('proto.csv', '__proto__,b\nx,y\n');
    const { got } = await collect(fromCsv<Record<string, string>>(path));
    const row = got[0]!;
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.keys(row), ['__proto__', 'b']);
    assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 'x');
  });
});
