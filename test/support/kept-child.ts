/**
 * The child process of test/kept-state.test.ts: runs the kept pipeline over an NDJSON file with
 * the SQLite store under a data dir, printing `progress N` lines; with `slow`, it sleeps 1 ms
 * every 100 events so the parent can SIGKILL it mid-run. Writes `{results, resumed}` to `out`.
 * Does nothing unless SLUICE_KEPT_CHILD=1 (the test runner loads every file under dist/test).
 */
import { writeFileSync } from 'node:fs';
import { FacetedStore } from '../../src/store.js';
import { keptPipeline } from './kept-pipeline.js';

async function main(): Promise<void> {
  const [dataDir, input, out, slow] = process.argv.slice(2) as [string, string, string, string];
  const store = await FacetedStore.sqlite({ dataDir });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const k = keptPipeline(store, input, {
    every: 500,
    progressEvery: 100,
    onProgress: (n) => {
      if (slow === 'slow') Atomics.wait(pause, 0, 0, 1);
      if (n % 1000 === 0) process.stdout.write(`progress ${String(n)}\n`);
    },
  });
  const report = await k.run();
  await store.close();
  writeFileSync(out, JSON.stringify({ results: k.results, resumed: report.resumed }));
}

if (process.env.SLUICE_KEPT_CHILD === '1') await main();
