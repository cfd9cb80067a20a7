import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runDelayedFlights } from '../src/demo/flights/delayed-flights.js';
import { generateAsaFile } from '../src/demo/flights/generate-asa.js';
import { referenceDelayedFlights } from '../src/demo/flights/reference.js';
import { writeVegaFlightsCsv } from '../src/demo/flights/vega-flights.js';
import { FacetedStore } from '../src/store.js';

const run = promisify(execFile);
const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-df-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function matchesReference(path: string, k: number) {
  const got = await runDelayedFlights({ input: path, k });
  const ref = await referenceDelayedFlights(path);
  assert.equal(got.rows, ref.rows);
  assert.equal(got.skipped, ref.skipped);
  assert.equal(got.malformed, ref.malformed);
  // Every carrier's own report equals the reference exactly (counts) and to 1e-9 (averages).
  assert.equal(got.reports.length, ref.perCarrier.size);
  for (const r of got.reports) {
    const x = ref.perCarrier.get(r.carrier);
    assert.ok(x, `carrier ${r.carrier} in the reference`);
    assert.equal(r.delayed, x.delayed);
    assert.ok(Math.abs(r.avg_arr_delay - x.avgArrDelay) <= 1e-9);
    assert.match(r.label, new RegExp(`carrier:${r.carrier}#`));
  }
  // The public leaderboard holds exactly the carriers with ≥ k delayed flights, and no sum.
  const expected = [...ref.perCarrier].filter(([, v]) => v.delayed >= k).map(([c]) => c);
  assert.deepEqual(got.leaderboard.map((l) => l.carrier).sort(), expected.sort());
  for (const l of got.leaderboard) {
    assert.deepEqual(Object.keys(l).sort(), ['avg_arr_delay', 'carrier', 'delayed']);
    const x = ref.perCarrier.get(l.carrier)!;
    assert.equal(l.delayed, x.delayed);
    assert.ok(Math.abs(l.avg_arr_delay - x.avgArrDelay) <= 1e-9);
  }
  assert.equal(got.audit.released, got.leaderboard.length);
  assert.equal(got.audit.withheld, ref.perCarrier.size - got.leaderboard.length);
  return got;
}

describe('DELAYEDFLIGHTS pipeline', () => {
  it('matches the independent reference on a generated file with bad rows', async () => {
    const f = join(dir, 'gen.csv');
    await generateAsaFile(f, { rows: 30_000, seed: 7, badRowRate: 0.01 });
    const got = await matchesReference(f, 400);
    assert.ok(got.malformed > 0 && got.skipped > 0);
    assert.ok(got.audit.withheld > 0, 'some carriers are below k');
  });

  it('matches the reference on the real vega-datasets flights', async () => {
    const f = join(dir, 'vega.csv');
    const n = await writeVegaFlightsCsv(f);
    const got = await matchesReference(f, 20);
    assert.equal(got.rows, n);
  });

  it('keeps its per-carrier state in a store: run again, it resumes past every flight', async () => {
    const f = join(dir, 'kept.csv');
    await generateAsaFile(f, { rows: 20_000, seed: 3 });
    const store = await FacetedStore.sqlite({ dataDir: join(dir, 'kept') });
    try {
      const first = await runDelayedFlights({ input: f, k: 50, state: { store, every: 997 } });
      assert.equal(first.resumed, 0);
      const again = await runDelayedFlights({ input: f, k: 50, state: { store, every: 997 } });
      assert.ok(again.resumed > 10_000, 'every flight was counted before');
      assert.deepEqual(again.reports, first.reports);
      assert.deepEqual(again.leaderboard, first.leaderboard);
    } finally {
      await store.close();
    }
  });

  it('reports a missing file or a file that is not ASA CSV as an error', async () => {
    await assert.rejects(runDelayedFlights({ input: join(dir, 'nope.csv'), k: 1 }), /nope\.csv/);
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '');
    await assert.rejects(runDelayedFlights({ input: empty, k: 1 }), /empty\.csv/);
  });
});

describe('sluice CLI: demo flights, check, run', () => {
  it('demo flights --json prints the public view only', async () => {
    const { stdout } = await run('node', [CLI, 'demo', 'flights', '--rows', '20000', '--json']);
    const j = JSON.parse(stdout) as {
      rows: number;
      k: number;
      leaderboard: { carrier: string; delayed: number; avg_arr_delay: number }[];
    };
    assert.equal(j.rows, 20000);
    assert.equal(j.k, 20);
    assert.ok(j.leaderboard.length > 0);
    assert.ok(j.leaderboard.every((r) => r.delayed >= 20));
    assert.doesNotMatch(stdout, /sum/);
  });

  it('demo flights --data-dir keeps the state; --resume continues it to the same public view', async () => {
    const data = join(dir, 'state');
    const args = [CLI, 'demo', 'flights', '--rows', '20000', '--json', '--data-dir', data];
    const first = await run('node', args);
    const again = await run('node', [...args, '--resume']);
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(first.stdout));
    const shown = await run('node', [
      CLI,
      'demo',
      'flights',
      '--rows',
      '20000',
      '--data-dir',
      data,
      '--resume',
    ]);
    assert.match(shown.stdout, /Resumed from the kept state: \d+ flights were already counted/);
    await assert.rejects(
      run('node', [CLI, 'demo', 'flights', '--resume']),
      (e: { stderr: string }) => /--resume needs --data-dir/.test(e.stderr),
    );
  });

  it('demo flights with a missing input fails with a clear message and no stack', async () => {
    await assert.rejects(
      run('node', [CLI, 'demo', 'flights', '--input', join(dir, 'missing.csv')]),
      (e: { code: number; stderr: string }) =>
        e.code === 1 && /missing\.csv: no such file/.test(e.stderr) && !/\n\s+at /.test(e.stderr),
    );
  });

  it('check passes a good pipeline and rejects the preemption leak with its path', async () => {
    const ok = await run('node', [CLI, 'check', 'examples/pipelines/tenants.mjs']);
    assert.match(ok.stdout, /no flow violation/);
    await assert.rejects(
      run('node', [CLI, 'check', 'examples/pipelines/leak.mjs']),
      (e: { code: number; stdout: string }) =>
        e.code === 1 &&
        /secret-alarms =\(notifier, control flow\)=> takeUntil#\d+ → double → public-ticker/.test(
          e.stdout,
        ),
    );
  });

  it('run refuses to start a pipeline that fails the check; bad files get clear errors', async () => {
    await assert.rejects(
      run('node', [CLI, 'run', 'examples/pipelines/leak.mjs']),
      (e: { code: number; stdout: string; stderr: string }) =>
        e.code === 1 && e.stdout === '' && /E_FLOW/.test(e.stderr),
    );
    await assert.rejects(
      run('node', [CLI, 'check', 'examples/pipelines/cycle.mjs']),
      (e: { code: number; stdout: string }) =>
        e.code === 1 &&
        /the pipeline has a cycle: write-ticks → read-ticks → echo → write-ticks/.test(e.stdout),
    );
    const notPipeline = join(dir, 'not-a-pipeline.mjs');
    await writeFile(notPipeline, 'export default 42;\n');
    await assert.rejects(run('node', [CLI, 'check', notPipeline]), (e: { stderr: string }) =>
      /does not export a pipeline/.test(e.stderr),
    );
  });
});
