#!/usr/bin/env node
/** The `sluice` command: thin over the library (commander for parsing). */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { runTrading } from '../demo/trading.js';
import { SluiceError } from '../errors.js';
import { printTradingReport } from './print-trading.js';
import { flightsCommand, type FlightsCommand } from './flights.js';
import { checkCommand, runCommand } from './pipeline-file.js';
import { serve } from './serve.js';

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

demo
  .command('flights')
  .description(
    'DELAYEDFLIGHTS (SecureStreams) with labels: per-carrier reports and a declassified leaderboard',
  )
  .option(
    '--input <file>',
    'an ASA on-time CSV file (default: real BTS flights from vega-datasets)',
  )
  .option(
    '--rows <n>',
    'generate this many seeded ASA rows instead (7009728 = 2008.csv)',
    intArg(0),
  )
  .option('--seed <n>', 'random seed for --rows', intArg(0), 2008)
  .option('--k <n>', 'release only carriers with at least k delayed flights', intArg(1), 20)
  .option('--json', 'print one JSON object (the public, declassified view)')
  .option('--data-dir <dir>', 'keep the per-carrier state in a SQLite store here (checkpoints)')
  .option('--resume', 'continue from the state kept in --data-dir (else start afresh)')
  .action(async (o: FlightsCommand) => {
    if (o.input !== undefined && o.rows !== undefined) {
      throw new InvalidArgumentError('give --input or --rows, not both');
    }
    await flightsCommand(o);
  });

program
  .command('check')
  .argument('<pipeline>', 'an ES module whose default export is a Pipeline')
  .description('static flow check: every operator with its label; non-zero exit on a violation')
  .action(async (file: string) => {
    if (!(await checkCommand(file))) process.exitCode = 1;
  });
program
  .command('run')
  .argument('<pipeline>', 'an ES module whose default export is a Pipeline')
  .description('check, then run a pipeline to the end')
  .action(async (file: string) => {
    if (!(await runCommand(file))) process.exitCode = 1;
  });

program
  .command('serve')
  .description('start the HTTP gateway (principals, clearances, handlers, SSE) and print its URL')
  .requiredOption('--config <file>', 'the gateway configuration (JSON)')
  .option('--port <n>', 'port to listen on (default: the config, else 8080; 0 = any)', intArg(0))
  .option('--host <host>', 'address to listen on (default: the config, else 127.0.0.1)')
  .option('--data-dir <dir>', 'where the SQLite faceted store keeps its file', '.sluice-data')
  .action(async (o: { config: string; port?: number; host?: string; dataDir: string }) => {
    const gateway = await serve(o);
    console.log(`sluice: gateway listening on ${gateway.url ?? ''}`);
    const stop = () => {
      void gateway.close();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

try {
  await program.parseAsync();
} catch (e) {
  const msg = e instanceof SluiceError ? `${e.code}: ${e.message}` : String(e);
  process.stderr.write(`sluice: ${msg}\n`);
  process.exitCode = 1;
}
