import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../errors.js';
import { ASA_COLUMN_COUNT, ASA_HEADER, ASA_INDEX } from './asa-schema.js';
import { CARRIERS } from './asa-tables.js';
import { asaChunks, generateAsaFile } from './generate-asa.js';

const text = (options: Parameters<typeof asaChunks>[0]): string =>
  Buffer.concat([...asaChunks(options)]).toString('latin1');

describe('generateAsa', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-gen-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const c = join(dir, 'c.csv');
    const progress: number[] = [];
    const r = await generateAsaFile(a, {
      rows: 20_000,
      seed: 7,
      chunkBytes: 64 * 1024,
      onProgress: (done, total) => {
        assert.equal(total, 20_000);
        progress.push(done);
      },
    });
    await generateAsaFile(b, { rows: 20_000, seed: 7 });
    await generateAsaFile(c, { rows: 20_000, seed: 8 });
    const [ba, bb, bc] = await Promise.all([readFile(a), readFile(b), readFile(c)]);
    assert.equal(r.rows, 20_000);
    assert.equal(r.bytes, ba.length);
    assert.ok(ba.equals(bb), 'same seed, different chunk size: same bytes');
    assert.ok(!ba.equals(bc), 'different seed: different bytes');
    assert.ok(progress.length > 2, 'progress reported per chunk');
    assert.deepEqual(
      progress,
      [...progress].sort((x, y) => x - y),
    );
    assert.equal(progress.at(-1), 20_000);
  });

  it('has the header and 29 fields per row, real carriers, ~2 % NA delays', () => {
    const lines = text({ rows: 50_000, seed: 1 }).split('\n');
    assert.equal(lines[0], ASA_HEADER);
    assert.equal(lines.at(-1), '', 'ends with a newline');
    const rows = lines.slice(1, -1);
    assert.equal(rows.length, 50_000);
    const carriers = new Set<string>();
    let na = 0;
    for (const row of rows) {
      const f = row.split(',');
      assert.equal(f.length, ASA_COLUMN_COUNT);
      assert.equal(f[0], '2008');
      carriers.add(f[ASA_INDEX.UniqueCarrier]!);
      if (f[ASA_INDEX.ArrDelay] === 'NA') na++;
      else assert.match(f[ASA_INDEX.ArrDelay]!, /^-?\d+$/);
    }
    assert.deepEqual([...carriers].sort(), CARRIERS.map((c) => c.code).sort());
    assert.ok(na > 500 && na < 1500, `NA delays: ${na}`);
    assert.equal(rows[0]!.slice(0, 11), '2008,1,1,2,', 'Jan 1 2008 was a Tuesday');
    assert.equal(rows.at(-1)!.slice(0, 13), '2008,12,31,3,');
  });

  it('injects bad rows on request and supports CRLF', () => {
    const rows = text({ rows: 3000, seed: 3, badRowRate: 0.3, eol: '\r\n' })
      .split('\r\n')
      .slice(1, -1);
    const counts = rows.map((r) => r.split(',').length);
    assert.ok(counts.some((n) => n === 28));
    assert.ok(counts.some((n) => n === 30));
    assert.ok(rows.some((r) => r.split(',')[ASA_INDEX.ArrDelay] === '1O'));
    assert.ok(rows.every((r) => !r.includes('\n')));
  });

  it('writes only the header for zero rows and refuses bad options', async () => {
    assert.equal(text({ rows: 0 }), ASA_HEADER + '\n');
    assert.throws(() => text({ rows: -1 }), ConfigError);
    assert.throws(() => text({ rows: 1.5 }), ConfigError);
    assert.throws(() => text({ rows: 1, badRowRate: 2 }), ConfigError);
    await assert.rejects(
      generateAsaFile(join(dir, 'x.csv'), { rows: 1, chunkBytes: 0 }),
      ConfigError,
    );
    await assert.rejects(
      generateAsaFile(join(dir, 'no', 'such', 'dir.csv'), { rows: 10 }),
      /ENOENT/,
    );
  });
});
