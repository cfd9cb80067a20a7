import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureLockdown, Guest } from './guest.js';
import { ModuleRefusedError, moduleToScript } from './module-source.js';
import type { GuestInit } from './protocol.js';
import { loopbackTransport } from './tier3-transport.js';

/** Loads `source` as a module in a tier-0 guest; the parts of each publish it made. */
async function load(source: string): Promise<Record<string, unknown>[]> {
  const s = await ensureLockdown({ source: '', format: 'module', deterministic: false, seed: 1 });
  const out: Record<string, unknown>[] = [];
  new Guest(s, { source, format: 'module', deterministic: false, seed: 1 }, (_t, p) => {
    out.push({ ...p });
  });
  return out;
}

describe('moduleToScript', () => {
  it('the guest refuses a module itself, whatever its host checked (tier 0 and over a transport)', async () => {
    const init: GuestInit = {
      source: `import fs from 'node:fs';`,
      format: 'module',
      deterministic: false,
      seed: 1,
    };
    const s = await ensureLockdown({ source: '', format: 'module', deterministic: false, seed: 1 });
    assert.throws(() => new Guest(s, init, () => undefined), ModuleRefusedError);
    const t = loopbackTransport();
    const got = await new Promise<unknown>((resolve) => {
      t.onReceiveBatch((ms) => {
        resolve(ms[0]);
      });
      t.sendBatch([{ k: 'init', init }]);
    });
    t.close();
    assert.deepEqual(got, { k: 'init-failed' });
  });

  it('keeps the values of strings, templates and names that spell what SES rejects by text', async () => {
    const out = await load(`
      const o = { import(v) { return v + 1; }, $import: 2 };
      const $import = (v) => v * 10;
      let a = 3;
      const b = a-->0;
      const c = a<!--a;
      export default (u) => u.publish('t', {
        s: '\\import(x) \\\\import( <!-- -->',
        t: \`import(\${a}) <!--\`,
        n: o.import(1) + o.$import + $import(1),
        a, b, c,
      });`);
    assert.deepEqual(out, [
      { s: 'import(x) \\import( <!-- -->', t: 'import(1) <!--', n: 14, a: 1, b: true, c: false },
    ]);
  });

  it('a named default function is the one called, with the real unit even if the body shadows it', async () => {
    const out = await load(`
      export default function go(api) { api.publish('t', { same: api === real() }); }
      function real() { return unit; }
      { const unit = 'shadow'; }
      var unit;`);
    assert.deepEqual(out, [{ same: true }]);
  });

  it("mode 'return' (gateway handlers): the default export is returned, and may be async", async () => {
    const src = 'let n = 0; export default async function h(x) { n += x; return n; }';
    assert.throws(
      () => moduleToScript(src),
      (e) => (e as ModuleRefusedError).refused === 'default-export',
    );
    const s = await ensureLockdown();
    const c = new s.Compartment({ __options__: true });
    const load = c.evaluate(`(function (unit) {\n${moduleToScript(src, 'return')}\n})`) as (
      u: undefined,
    ) => (x: number) => Promise<number>;
    const h = load(undefined);
    assert.equal(await h(2), 2);
    assert.equal(await h(3), 5);
    for (const bad of ['export default function* g() {}', 'export default class C {}'])
      assert.throws(() => moduleToScript(bad, 'return'), ModuleRefusedError);
    assert.throws(() => moduleToScript('export default await 1;', 'return'), ModuleRefusedError);
    const none = c.evaluate(`(function (unit) {\n${moduleToScript('let x = 1;', 'return')}\n})`);
    assert.throws(() => (none as (u: undefined) => unknown)(undefined), TypeError);
  });

  it('a default export that is not a function fails to load', async () => {
    await assert.rejects(load(`export default 42;`), TypeError);
  });

  it('property: any string literal, however it spells import( or HTML comments, keeps its value', async () => {
    const piece = fc.constantFrom(
      'import',
      '(',
      '<!--',
      '-->',
      '\\',
      'i',
      ' ',
      '/*',
      '//',
      '.',
      'x',
      '\u2028',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const v = pieces.join('');
        const out = await load(
          `export default (u) => u.publish('t', { v: ${JSON.stringify(v)} });`,
        );
        assert.deepEqual(out, [{ v }]);
      }),
      { numRuns: 300, examples: [[['import', '//', 'import', '//']]] },
    );
  });

  it('never throws anything but ModuleRefusedError on text it refuses', () => {
    for (const src of [
      'export default 1; export default 2',
      '\\u0069mport("x")',
      '/import(/',
      'a b',
      // Nested past acorn's stack check: refused, not a RangeError.
      `const a = ${'['.repeat(5000)}${']'.repeat(5000)};`,
    ]) {
      assert.throws(
        () => moduleToScript(src),
        (e: unknown) => e instanceof ModuleRefusedError,
      );
    }
  });
});
