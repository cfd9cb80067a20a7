/**
 * ES-module unit code (`format: 'module'`): the same outputs as the script form in every tier
 * (0, 1, 2, and 3 over the loopback transport); every construct that could reach outside the
 * compartment is refused at load, in every tier, before any of the code runs; and the tricks
 * that parse (`eval`, `Function`, strings that spell `import(`) are contained at run time: the
 * unit never gains fs, net, child_process or process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, Engine } from '../src/index.js';
import {
  ModuleRefusedError,
  isolatedUnit,
  loopbackTransport,
  managedUnit,
  measure,
  type ManagedTier,
  type UnitFormat,
} from '../src/isolation.js';

interface Started {
  idle(): Promise<void>;
  stop(): Promise<void>;
  readonly measurement: string;
}

/** Start the code in `tier` (3: a managed unit over the loopback transport). */
function start(
  engine: Engine,
  tier: ManagedTier,
  source: string,
  format: UnitFormat,
): Promise<Started> {
  const spec = { name: 'm', source, format, deterministic: true, seed: 7 };
  if (tier === 3)
    return managedUnit(engine, { ...spec, tier, transport: () => loopbackTransport() });
  return isolatedUnit(engine, { ...spec, tier });
}

/** Runs `source` in `tier` over 5 inputs; what it published, by topic. */
async function run(
  tier: ManagedTier,
  source: string,
  format: UnitFormat,
): Promise<{ out: unknown[]; measurement: string; audit: string[] }> {
  const engine = new Engine();
  const out: unknown[] = [];
  engine.unit({ name: 'c' }, (ctx) => {
    ctx.subscribe('out', (ev) => out.push(ev.toJSON()));
  });
  const u = await start(engine, tier, source, format);
  const src = engine.unit({ name: 's' });
  for (let i = 0; i < 5; i++) src.publish('in', src.event().add('x', i));
  for (let k = 0; k < 3; k++) {
    await engine.idle();
    await u.idle();
  }
  await u.stop();
  const audit = engine.audit.entries().map((e) => `${e.kind} ${e.op ?? ''}`);
  return { out, measurement: u.measurement, audit };
}

const SCRIPT = `
let n = 0;
unit.subscribe('in', (ev) => {
  n += ev.parts.x;
  // SES's text check refuses a script holding these characters anywhere: built at run time.
  unit.publish('out', { n, r: Math.random(), t: Date.now(), s: 'imp' + 'ort("fs") <' + '!-- --' + '>' });
});`;

// The same unit as a module: a default export receiving the API, with comments and strings that
// spell what SES's text check rejects (they are not code: the parse says so).
const MODULE = `// This unit does not import("fs"): it could not.
let n = 0;
/* import(x) <!-- --> */
export default function start(api) {
  const o = { import(v) { return v; } };
  api.subscribe('in', (ev) => {
    n += o.import(ev.parts.x);
    api.publish('out', { n, r: Math.random(), t: Date.now(), s: 'import("fs") <!-- -->' });
  });
}`;

// A module that uses the \`unit\` binding directly, with no default export.
const MODULE_DIRECT = `let n = 0;
unit.subscribe('in', (ev) => {
  n += ev.parts.x;
  unit.publish('out', { n, r: Math.random(), t: Date.now(), s: 'import("fs") <!-- -->' });
});`;

describe('ES-module units', () => {
  it('give the same outputs as the script form in tiers 0, 1, 2 and 3 (loopback); measured as given', async () => {
    const want = (await run(0, SCRIPT, 'script')).out;
    assert.equal(want.length, 5);
    assert.deepEqual((want[4] as { n: number }).n, 10);
    for (const tier of [0, 1, 2, 3] as ManagedTier[]) {
      for (const source of [MODULE, MODULE_DIRECT]) {
        const got = await run(tier, source, 'module');
        assert.deepEqual(got.out, want, `tier ${tier}`);
        // The measurement is of the module's own source, and the audit log records it.
        assert.equal(got.measurement, measure(source));
        assert.ok(
          got.audit.some((a) => a.startsWith('unit-isolated') && a.includes(measure(source))),
        );
      }
    }
  });

  // Each: refused at load in every tier, before any of the code ran (it would publish 'ran').
  const REFUSED: Record<string, string> = {
    'import-declaration': `unit.publish('ran', {}); import fs from 'node:fs';`,
    'export-from': `unit.publish('ran', {}); export * from 'node:net';`,
    'named-export': `unit.publish('ran', {}); export const x = 1;`,
    'dynamic-import': `unit.publish('ran', {}); import('node:child_process');`,
    'import-meta': `unit.publish('ran', {}); const u = import.meta.url;`,
    require: `unit.publish('ran', {}); const cp = require('child_process');`,
    'direct-eval': `unit.publish('ran', {}); eval('import("node:fs")');`,
    'top-level-await': `unit.publish('ran', {}); await Promise.resolve();`,
    'default-export': `unit.publish('ran', {}); export default class { };`,
    syntax: `unit.publish('ran', {}); export default (u) => {}; export default (u) => {};`,
  };
  for (const [refused, source] of Object.entries(REFUSED)) {
    it(`refuses ${refused} in every tier, running none of the code`, async () => {
      for (const tier of [0, 1, 2, 3] as ManagedTier[]) {
        const engine = new Engine();
        const ran: unknown[] = [];
        engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('ran', (ev) => ran.push(ev)));
        await assert.rejects(start(engine, tier, source, 'module'), (e: unknown) => {
          assert.ok(e instanceof ModuleRefusedError);
          assert.equal(e.code, 'E_MODULE_REFUSED');
          assert.equal(e.refused, refused);
          assert.match(e.message, /^unit module refused: .+ \(line 1, column \d+\)$/);
          return true;
        });
        await engine.idle();
        assert.deepEqual(ran, [], `tier ${tier}`);
        // Nothing started: no unit, no audit of a start.
        assert.ok(!engine.audit.entries().some((a) => a.kind === 'unit-isolated'));
      }
    });
  }

  it('refuses an unknown format before anything starts', async () => {
    const engine = new Engine();
    await assert.rejects(
      start(engine, 0, 'unit;', 'commonjs' as UnitFormat),
      (e: unknown) => e instanceof ConfigError && /format/.test(e.message),
    );
  });

  it('refuses escaped keywords, and does not echo the source in its message', async () => {
    const engine = new Engine();
    const big = `const secret = '${'s3cr3t'.repeat(5000)}';\n`;
    for (const source of [
      `${big}\\u0069mport('node:fs');`,
      `${big}const r = /${'s3cr3t'.repeat(50)}import(/;`,
      `${big}const v = String.raw\`import( ${'s3cr3t'.repeat(50)}\`;`,
      `${big}const x = 'unterminated ${'s3cr3t'.repeat(50)}`,
    ]) {
      await assert.rejects(start(engine, 0, source, 'module'), (e: unknown) => {
        assert.ok(e instanceof ModuleRefusedError);
        assert.ok(e.message.length < 260, e.message);
        assert.doesNotMatch(e.message, /(s3cr3t){3}/);
        return true;
      });
    }
  });

  // Parses, so it loads: each trick is tried at run time, inside the compartment, and fails.
  const TRICKS = `
const e = eval;
const F = Function;
const tries = [
  () => e('import("node:fs")'),
  () => e('imp' + 'ort("node:child_process")'),
  () => e('\\\\u0069mport("node:net")'),
  () => e('typeof process === "undefined" ? undefined : process.env'),
  () => F('return import("node:fs")')(),
  () => new F('return imp' + 'ort("node:fs")')(),
  () => F('return this')(),
  () => (function () {}).constructor('return import("node:fs")')(),
  () => (async function () {}).constructor('return await import("node:fs")')(),
  () => globalThis.process,
  () => e('typeof require === "undefined" ? undefined : require("node:fs")'),
  () => e('this.process'),
  () => unit.constructor.constructor('return process')(),
];
export default (api) => {
  api.subscribe('in', () => {
    const got = tries.map((t) => {
      try {
        const v = t();
        if (v && typeof v.then === 'function') {
          v.then((m) => api.publish('leak', { m: typeof m }), () => {});
          return 'promise';
        }
        return v === undefined || v === globalThis ? String(v === undefined ? v : 'compartment-global') : typeof v;
      } catch (err) {
        return err.name;
      }
    });
    api.publish('out', { got: got.join(',') });
  });
};`;

  for (const tier of [0, 1] as ManagedTier[]) {
    it(`contains eval/Function/import tricks at run time (tier ${tier}): no fs, net, child_process or process`, async () => {
      const engine = new Engine();
      const out: string[] = [];
      const leaks: unknown[] = [];
      engine.unit({ name: 'c' }, (ctx) => {
        ctx.subscribe('out', (ev) => out.push(ev.get('got') as string));
        ctx.subscribe('leak', (ev) => leaks.push(ev.toJSON()));
      });
      const u = await start(engine, tier, TRICKS, 'module');
      const src = engine.unit({ name: 's' });
      src.publish('in', src.event().add('x', 1));
      for (let k = 0; k < 3; k++) {
        await engine.idle();
        await u.idle();
      }
      await new Promise((r) => setTimeout(r, 50));
      await u.stop();
      assert.deepEqual(leaks, []);
      assert.deepEqual(out[0]?.split(','), [
        'SyntaxError', // SES: the compartment's eval rejects text that may hold import(
        'SyntaxError', // the same text built at run time
        'SyntaxError', // an escaped keyword is no keyword
        'undefined', // no process
        'SyntaxError', // the compartment's Function: the same check
        'SyntaxError',
        'undefined', // the compartment's Function makes strict functions: no global `this`
        'TypeError', // Function.prototype.constructor is tamed by lockdown
        'TypeError', // and so is the async one
        'undefined',
        'undefined',
        'undefined', // indirect eval of an unknown name: undefined in the compartment's global
        'TypeError',
      ]);
    });
  }
});
