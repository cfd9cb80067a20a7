import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { Label } from '../../labels.js';
import { Pipeline } from '../pipeline.js';
import { toCallback } from '../sinks/to-callback.js';
import { fromNdjson } from './from-ndjson.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-ndjson-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(text: string | undefined, options = {}) {
  const path = join(dir, `f${String(Math.random()).slice(2)}.ndjson`);
  if (text !== undefined) await writeFile(path, text);
  const got: unknown[] = [];
  const report = await new Pipeline()
    .output(
      fromNdjson(path, { name: 'nd', ...options }),
      toCallback((v) => got.push(v)),
    )
    .run();
  return { got, report, path };
}

describe('fromNdjson', () => {
  it('reads one JSON value per line (CRLF, no final newline)', async () => {
    const { got, report } = await read('{"a":1,"b":[1,{"c":2}]}\r\n"s"\n3\nnull\n[1,2]');
    assert.deepEqual(got, [{ a: 1, b: [1, { c: 2 }] }, 's', 3, null, [1, 2]]);
    assert.deepEqual(report.sources.nd, { rows: 5, skipped: 0, reasons: {} });
  });

  it('values are deeply frozen when they cross to a higher label', async () => {
    const path = join(dir, 'frozen.ndjson');
    await writeFile(path, '{"a":1,"b":[1,{"c":2}]}\n');
    const p = new Pipeline();
    const got: unknown[] = [];
    p.output(
      fromNdjson(path),
      toCallback((v) => got.push(v), { label: Label.secrecy(p.tag('t').tag) }),
    );
    await p.run();
    const first = got[0] as { b: [number, { c: number }] };
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.b) && Object.isFrozen(first.b[1]));
  });

  it('counts and skips malformed lines; blank lines are ignored', async () => {
    const { got, report } = await read('{"ok":1}\n{bad\n\n   \n{"ok":2}\n[1,\n');
    assert.deepEqual(got, [{ ok: 1 }, { ok: 2 }]);
    assert.deepEqual(report.sources.nd, { rows: 2, skipped: 2, reasons: { json: 2 } });
    assert.deepEqual(report.failures, []);
  });

  it('skips lines longer than maxLineLength without holding them', async () => {
    const long = `"${'x'.repeat(200_000)}"`;
    const { got, report } = await read(`1\n${long}\n2\n${long}`, { maxLineLength: 1000 });
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(report.sources.nd, { rows: 2, skipped: 2, reasons: { 'too-long': 2 } });
  });

  it('reads lines split across read chunks', async () => {
    const values = Array.from({ length: 20_000 }, (_, i) => ({ i, pad: 'p'.repeat(i % 50) }));
    const { got } = await read(values.map((v) => JSON.stringify(v)).join('\n'));
    assert.deepEqual(got, values);
  });

  it('an empty file is zero values and completes', async () => {
    const { got, report } = await read('');
    assert.deepEqual(got, []);
    assert.deepEqual(report.sources.nd, { rows: 0, skipped: 0, reasons: {} });
    assert.deepEqual(report.failures, []);
  });

  it('a missing file fails the source with a message naming the path', async () => {
    const { report, path } = await read(undefined);
    const f = report.failures[0]!;
    assert.equal(f.operator, 'nd');
    assert.equal((f.error as Error).message, `fromNdjson: cannot read '${path}': no such file`);
  });

  it('a directory fails the source (read error mapped to a clear message)', async () => {
    const report = await new Pipeline()
      .output(
        fromNdjson(dir, { name: 'd' }),
        toCallback(() => {}),
      )
      .run();
    assert.match((report.failures[0]?.error as Error).message, /it is a directory$/);
  });

  it('rejects bad options at build time', () => {
    assert.throws(() => fromNdjson(''), ConfigError);
    assert.throws(() => fromNdjson('x', { maxLineLength: 0 }), ConfigError);
    assert.throws(() => fromNdjson('x', { maxLineLength: 1.5 }), ConfigError);
  });
});
