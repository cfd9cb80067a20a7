import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { formatCheck, formatViolations, Pipeline } from '../pipeline/pipeline.js';

/**
 * Load a pipeline file: an ES module (.js/.mjs) whose default export (or export `pipeline`) is
 * a Pipeline or a function returning one (or a promise of one). Building it runs no operator.
 */
export async function loadPipeline(file: string): Promise<Pipeline> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`${file}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : 'it could not be loaded';
    throw new ConfigError(`${file}: cannot load the module (${String(why)})`);
  }
  let p: unknown = mod.default ?? mod.pipeline;
  if (typeof p === 'function') p = await (p as () => unknown)();
  if (!(p instanceof Pipeline)) {
    throw new ConfigError(
      `${file} does not export a pipeline: export default a Pipeline (or a function returning one)`,
    );
  }
  return p;
}

/** `sluice check FILE`: print every node with its labels; false on a violation. */
export async function checkCommand(file: string): Promise<boolean> {
  const p = await loadPipeline(file);
  const report = p.check();
  if (report.cycle === undefined) console.log(formatCheck(report));
  if (report.ok) {
    console.log(`\n✓ ${p.name}: no flow violation`);
    return true;
  }
  console.log(`\n${formatViolations(report)}`);
  return false;
}

/** `sluice run FILE`: check, then run to the end and summarise. */
export async function runCommand(file: string): Promise<boolean> {
  const p = await loadPipeline(file);
  const report = await p.run();
  const refused = Object.entries(report.refused);
  process.stderr.write(
    `${p.name}: done; ${String(report.failures.length)} operator failure(s)${refused.length > 0 ? `; refused by the monitor: ${refused.map(([n, c]) => `${n} ${String(c)}`).join(', ')}` : ''}\n`,
  );
  for (const f of report.failures) {
    process.stderr.write(`  ${f.operator} failed (at label ${f.label})\n`);
  }
  return report.failures.length === 0;
}
