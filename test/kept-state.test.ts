/**
 * Keyed operator state kept in the faceted store (Pipeline({ state })): a SIGKILLed process
 * resumes with exactly the results of an uninterrupted run; each key's state lives at that
 * key's label only; a key's secret inputs never change what another key or the public sees;
 * corrupt or incompatible state is a clear error that writes nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Label } from '../src/labels.js';
import { FacetedStore } from '../src/store.js';
import { closeAll, storeBackends } from './support/store-backends.js';
import { expected, keptPipeline, type Rec } from './support/kept-pipeline.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-kept-'));
  dirs.push(d);
  return d;
}
after(async () => {
  await closeAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function records(n: number, keys = 17, seed = 1): Rec[] {
  let x = seed;
  const out: Rec[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push({ k: `key-${String(x % keys)}`, v: (x >> 8) % 1000 });
  }
  return out;
}

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'support', 'kept-child.js');

interface ChildResult {
  readonly results: Record<string, unknown>;
  readonly resumed: Record<string, number>;
}

/** Run the child; with `killAt`, SIGKILL it once it reports that many events. */
function child(dataDir: string, input: string, killAt?: number): Promise<ChildResult | 'killed'> {
  const out = join(dataDir, 'out.json');
  const args = [CHILD, dataDir, input, out, killAt === undefined ? 'fast' : 'slow'];
  const c = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_KEPT_CHILD: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  c.stdout.setEncoding('utf8');
  c.stdout.on('data', (d: string) => {
    text += d;
    const m = /progress (\d+)\n[^\n]*$/.exec(text);
    if (killAt !== undefined && m !== null && Number(m[1]) >= killAt) c.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    c.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve(JSON.parse(readFileSync(out, 'utf8')) as ChildResult);
      else reject(new Error(`child exited with ${String(code)}`));
    });
  });
}

describe('kept state: a restarted process resumes', () => {
  it('SIGKILLed mid-run, restarted, gives the results of an uninterrupted run (SQLite file)', async () => {
    const recs = records(30000);
    const dir = tempDir();
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const whole = await child(join(dir, 'whole'), input);
    assert.notEqual(whole, 'killed');
    const w = whole as ChildResult;
    assert.deepEqual(w.results, expected(recs));
    assert.deepEqual(w.resumed, { records: 0 });

    const data = join(dir, 'crash');
    assert.equal(await child(data, input, 8000), 'killed');
    const again = await child(data, input);
    assert.notEqual(again, 'killed');
    const a = again as ChildResult;
    // It resumed mid-run: some events came from the kept state, the rest were read again.
    const from = a.resumed.records as number;
    assert.ok(from > 0 && from < 30000, `resumed at ${String(from)}`);
    assert.deepEqual(a.results, w.results);
  });
});
