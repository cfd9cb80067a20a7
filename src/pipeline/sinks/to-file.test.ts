import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { keyBy } from '../operators/key-by.js';
import { map } from '../operators/map.js';
import { Pipeline } from '../pipeline.js';
import { from } from '../sources/from.js';
import { fromAsync } from '../sources/from-async.js';
import { fromTopic } from '../sources/from-topic.js';
import { toFile } from './to-file.js';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tofile-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const fresh = (ext: string) => join(dir, `out${String(++n)}.${ext}`);
const lines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);

describe('toFile', () => {
  it('writes NDJSON, and the run ends only once the file is flushed and closed', async () => {
    const path = fresh('ndjson');
    const values = [{ a: 1 }, 'two', 3, null, [4], undefined];
    const report = await new Pipeline().output(from(values), toFile(path)).run();
    assert.deepEqual(report.failures, []);
    // Read at once: no waiting, the run's end means the file is complete.
    assert.deepEqual(await lines(path), [{ a: 1 }, 'two', 3, null, [4], null]);
  });

  it('writes CSV quoted properly (commas, quotes, newlines), header from the first row', async () => {
    const path = fresh('csv');
    const rows = [
      { id: 1, text: 'plain', ok: true },
      { id: 2, text: 'a, b', ok: false },
      { id: 3, text: 'say "hi"', ok: true },
      { id: 4, text: 'two\nlines', ok: true },
      { id: 5, text: ' padded ', extra: 'ignored' },
    ];
    await new Pipeline().output(from(rows), toFile(path, { format: 'csv' })).run();
    const text = await readFile(path, 'utf8');
    assert.equal(text.split('\n')[0], 'id,text,ok');
    assert.deepEqual(parse(text, { columns: true }), [
      { id: '1', text: 'plain', ok: 'true' },
      { id: '2', text: 'a, b', ok: 'false' },
      { id: '3', text: 'say "hi"', ok: 'true' },
      { id: '4', text: 'two\nlines', ok: 'true' },
      { id: '5', text: ' padded ', ok: '' },
    ]);
  });

  it('writes CSV in the given column order; an empty stream still gets the header', async () => {
    const path = fresh('csv');
    await new Pipeline()
      .output(
        from([{ a: 1, b: 2, 'c.d': 3 }]),
        toFile(path, { format: 'csv', columns: ['c.d', 'a'] }),
      )
      .run();
    assert.equal(await readFile(path, 'utf8'), 'c.d,a\n3,1\n');
    const empty = fresh('csv');
    await new Pipeline().output(from([]), toFile(empty, { format: 'csv', columns: ['x'] })).run();
    assert.equal(await readFile(empty, 'utf8'), 'x\n');
    const none = fresh('ndjson');
    await new Pipeline().output(from([]), toFile(none)).run();
    assert.equal(await readFile(none, 'utf8'), '');
  });

  it('per-key files: each key gets its own file holding only its rows', async () => {
    const p = new Pipeline();
    const tenant = p.family('tenant');
    const rows = Array.from({ length: 3000 }, (_, i) => ({ t: ['a', 'b', 'c'][i % 3]!, i }));
    const sub = join(dir, 'per-key');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub));
    const report = await p
      .output(
        from(rows).pipe(keyBy((r) => r.t, tenant)),
        toFile((k) => join(sub, `${String(k)}.ndjson`), { perKey: tenant }),
      )
      .run();
    assert.deepEqual(report.failures, []);
    assert.deepEqual((await readdir(sub)).sort(), ['a.ndjson', 'b.ndjson', 'c.ndjson']);
    for (const k of ['a', 'b', 'c']) {
      const got = (await lines(join(sub, `${k}.ndjson`))) as { t: string; i: number }[];
      assert.equal(got.length, 1000);
      assert.ok(got.every((r) => r.t === k));
      assert.deepEqual(
        got.map((r) => r.i),
        rows.filter((r) => r.t === k).map((r) => r.i),
      );
    }
  });

  it('a per-key stream needs a per-key file sink: the check refuses one file for all keys', () => {
    const p = new Pipeline();
    const tenant = p.family('tenant');
    p.output(from([{ t: 'a' }]).pipe(keyBy((r) => r.t, tenant)), toFile(fresh('ndjson')));
    assert.equal(p.check().ok, false);
  });

  it('a secret stream cannot reach a public file', () => {
    const p = new Pipeline();
    const SECRET = Label.secrecy(p.tag('alice').tag);
    p.output(from([1], { label: SECRET }), toFile(fresh('ndjson')));
    assert.equal(p.check().ok, false);
    const q = new Pipeline();
    q.output(from([1], { label: SECRET }), toFile(fresh('ndjson'), { label: SECRET }));
    assert.equal(q.check().ok, true);
  });

  it('two keys mapped to one path fail the sink instead of mixing their rows', async () => {
    const p = new Pipeline();
    const tenant = p.family('tenant');
    const path = fresh('ndjson');
    const report = await p
      .output(
        from([{ t: 'a' }, { t: 'b' }]).pipe(keyBy((r) => r.t, tenant)),
        toFile(() => path, { perKey: tenant, name: 'files' }),
      )
      .run();
    assert.equal(report.failures[0]?.operator, 'files');
    assert.match((report.failures[0]?.error as Error).message, /two keys map to the file/);
  });

  it('backpressure: a slow file never lets 200k rows pile up in memory', async () => {
    const path = fresh('ndjson');
    const total = 200_000;
    const row = (i: number) => ({ i, pad: 'x'.repeat(80) });
    const rowBytes = JSON.stringify(row(100_000)).length + 1;
    let maxLag = 0;
    // A producer that never yields to the event loop by itself (only microtasks): without
    // backpressure nothing would reach the disk until it is done.
    // eslint-disable-next-line @typescript-eslint/require-await -- a generator that never waits on I/O
    async function* produce() {
      for (let i = 0; i < total; i++) {
        if (i % 5000 === 0) {
          const onDisk = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
          maxLag = Math.max(maxLag, i * rowBytes - onDisk);
        }
        yield row(i);
      }
    }
    const report = await new Pipeline().output(fromAsync(produce()), toFile(path)).run();
    assert.deepEqual(report.failures, []);
    const got = (await lines(path)) as { i: number }[];
    assert.equal(got.length, total);
    assert.equal(got[total - 1]?.i, total - 1);
    // In flight at any time: about one 64 KB batch plus the stream's buffer, never ~20 MB.
    assert.ok(maxLag < 2 * 1024 * 1024, `lag ${String(maxLag)} bytes`);
  });

  it('stopping a run closes the file, and `done` waits for it', async () => {
    const engine = (await import('../../engine/engine.js')).Engine;
    const e = new engine();
    const path = fresh('ndjson');
    const run = new Pipeline({ engine: e })
      .output(fromTopic(e, 'in').pipe(map((v) => v)), toFile(path))
      .start();
    const u = e.unit({ name: 'w' });
    u.publish('in', u.event().add('x', 1));
    run.stop();
    await run.done;
    assert.deepEqual(await lines(path), [{ x: 1 }]);
  });

  it('a file that cannot be written fails the sink with a message naming it', async () => {
    const path = join(dir, 'no-such-dir', 'out.ndjson');
    const report = await new Pipeline()
      .output(from([1, 2, 3]), toFile(path, { name: 'bad-file' }))
      .run();
    assert.equal(report.failures.length, 1);
    assert.equal(report.failures[0]?.operator, 'bad-file');
    assert.equal(
      (report.failures[0]?.error as Error).message,
      `toFile: cannot write '${path}': ENOENT`,
    );
  });

  it('a CSV row that is not an object fails the sink', async () => {
    const report = await new Pipeline()
      .output(from([1]), toFile(fresh('csv'), { format: 'csv', name: 'c' }))
      .run();
    assert.match((report.failures[0]?.error as Error).message, /a CSV row must be an object/);
  });

  it('rejects bad options at build time', () => {
    const fam = new Pipeline().family('f');
    assert.throws(() => toFile(''), ConfigError);
    assert.throws(() => toFile(() => 'x'), ConfigError);
    assert.throws(() => toFile('x', { perKey: fam }), ConfigError);
    assert.throws(() => toFile('x', { format: 'xml' as never }), ConfigError);
    assert.throws(() => toFile('x', { columns: ['a'] }), ConfigError);
    assert.throws(() => toFile('x', { format: 'csv', columns: [] }), ConfigError);
    assert.throws(() => toFile('x', { format: 'csv', columns: [1] as never }), ConfigError);
  });
});
