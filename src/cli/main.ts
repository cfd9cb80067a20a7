#!/usr/bin/env node
/** The `sluice` command: thin over the library (commander for parsing). */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { runTrading } from '../demo/trading.js';
import { SluiceError } from '../errors.js';
import { printTradingReport } from './print-trading.js';

function intArg(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${String(min)}`);
    return n;
  };
}

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const program = new Command('sluice')
  .description('Information-flow-controlled event stream processing')
  .version(pkg.version);

const demo = program.command('demo').description('run a demo application on the embedded engine');
demo
  .command('trading')
  .description('traders, an exchange and a regulator exchanging labelled events (DEFCon)')
  .option('--ticks <n>', 'market ticks to publish', intArg(1), 10_000)
  .option('--seed <n>', 'random seed', intArg(0), 42)
  .option('--json', 'print one JSON object instead of tables')
  .action(async (o: { ticks: number; seed: number; json?: boolean }) => {
    const report = await runTrading({ ticks: o.ticks, seed: o.seed });
    if (o.json === true) console.log(JSON.stringify(report));
    else printTradingReport(report);
  });

try {
  await program.parseAsync();
} catch (e) {
  const msg = e instanceof SluiceError ? `${e.code}: ${e.message}` : String(e);
  process.stderr.write(`sluice: ${msg}\n`);
  process.exitCode = 1;
}
