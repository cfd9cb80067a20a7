/**
 * Adversarial isolated units: each attack is contained (it fails, or reaches only the
 * attacker's own compartment, thread or process), and every other unit still receives all its
 * events. Tier 0's known hole: an infinite loop hangs the host's thread (SES cannot interrupt
 * running code), which is why tier 1 exists; it is not tested here, by design.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import { IsolationError, isolatedUnit, type IsolationLimits, type Tier } from '../src/isolation.js';
import { settle } from './support/isolation.js';

const N = 50;

/** A benign isolated unit in the same tier: forwards every x it sees to 'ok'. */
const BENIGN = `unit.subscribe('in', (ev) => unit.publish('ok', { x: ev.parts.x, probe: typeof globalThis.signal }));`;

interface Run {
  /** What the attacker published on 'leak'. */
  leaks: Record<string, unknown>[];
  /** x values an in-process victim received on 'in', and the benign unit forwarded on 'ok'. */
  direct: unknown[];
  forwarded: { x: unknown; probe: unknown }[];
  /** The nested value the in-process victim saw, after the attacker tried to mutate it. */
  nested: unknown[];
  engine: Engine;
  ended: string | undefined;
}

async function attack(tier: Tier, source: string, limits?: IsolationLimits): Promise<Run> {
  const engine = new Engine();
  const secret = engine.createTag('secret');
  const S = Label.secrecy(secret.tag);
  const r: Run = { leaks: [], direct: [], forwarded: [], nested: [], engine, ended: undefined };
  const attacker = await isolatedUnit(engine, {
    name: 'attacker',
    tier,
    source,
    ...(limits === undefined ? {} : { limits }),
  });
  const benign = await isolatedUnit(engine, { name: 'benign', tier, source: BENIGN });
  engine.unit({ name: 'victim', label: S }, (ctx) => {
    ctx.subscribe('in', (ev) => {
      r.direct.push(ev.get('x'));
      r.nested.push(ev.get('obj'));
    });
    ctx.subscribe('ok', (ev) => r.forwarded.push(ev.toJSON() as { x: unknown; probe: unknown }));
    ctx.subscribe('leak', (ev) => r.leaks.push(ev.toJSON()));
  });
  const src = engine.unit({ name: 'src' });
  for (let i = 0; i < N; i++) {
    src.publish(
      'in',
      src
        .event()
        .add('x', i)
        .add('obj', { y: i, list: [i] })
        .add('hidden', i, S),
    );
    // Spread the events out a little, so that a killed attacker dies in the middle of the run.
    if (i % 10 === 9) await new Promise((res) => setTimeout(res, 5));
  }
  await settle(engine, [attacker, benign]);
  r.ended = attacker.ended;
  await attacker.stop();
  await benign.stop();
  return r;
}

function assertOthersUnharmed(r: Run): void {
  const xs = Array.from({ length: N }, (_, i) => i);
  assert.deepEqual(r.direct, xs);
  assert.deepEqual(
    r.forwarded.map((f) => f.x),
    xs,
  );
  for (const f of r.forwarded) assert.equal(f.probe, 'undefined');
  r.nested.forEach((v, i) => assert.deepEqual(v, { y: i, list: [i] }));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((globalThis as Record<string, unknown>).signal, undefined);
}

function handlerErrors(e: Engine): number {
  return e.audit.counts()['unit-error'] ?? 0;
}

for (const tier of [0, 1, 2] as const) {
  describe(`adversarial isolation, tier ${String(tier)}`, () => {
    it('mutating a received part throws in the attacker; nobody else sees a change', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', (ev) => {
          try { ev.parts.x = 999 } catch { unit.publish('leak', { top: 'refused' }) }
          try { ev.parts.obj.y = 999 } catch { unit.publish('leak', { nested: 'refused' }) }
          ev.parts.obj.list.push(999);
        });`,
      );
      assertOthersUnharmed(r);
      assert.equal(r.leaks.length, 2 * N);
      // The last line throws in every handler: each is audited as an error of the attacker.
      assert.equal(handlerErrors(r.engine), N);
    });

    it("polluting Object.prototype / Array.prototype throws; the host's prototypes are untouched", async () => {
      const pushBefore = Array.prototype.push;
      const r = await attack(
        tier,
        `unit.subscribe('in', (ev) => {
          const out = {};
          try { Object.prototype.polluted = 1; out.obj = 'written' } catch { out.obj = 'refused' }
          try { Array.prototype.push = () => 0; out.arr = 'written' } catch { out.arr = 'refused' }
          try { Object.getPrototypeOf(ev.parts).polluted = 1; out.via = 'written' } catch { out.via = 'refused' }
          unit.publish('leak', out);
        });`,
      );
      assertOthersUnharmed(r);
      assert.equal(Array.prototype.push, pushBefore);
      assert.equal(r.leaks.length, N);
      for (const l of r.leaks)
        assert.deepEqual(l, { obj: 'refused', arr: 'refused', via: 'refused' });
    });

    it('a global written by one unit is invisible to another unit and to the host', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', () => { globalThis.signal = 'one'; unit.publish('leak', { mine: typeof globalThis.signal }); });`,
      );
      assertOthersUnharmed(r); // the benign unit's probe of globalThis.signal is 'undefined'
      for (const l of r.leaks) assert.equal(l.mine, 'string');
    });

    it('process, process.env, require and module are out of reach', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', () => {
          let env = 'none';
          try { env = typeof process.env } catch { env = 'threw' }
          unit.publish('leak', {
            process: typeof process, env, require: typeof require, module: typeof module,
            global: typeof global, buffer: typeof Buffer, timers: typeof setTimeout,
          });
        });`,
      );
      assertOthersUnharmed(r);
      for (const l of r.leaks) {
        assert.deepEqual(l, {
          process: 'undefined',
          env: 'threw',
          require: 'undefined',
          module: 'undefined',
          global: 'undefined',
          buffer: 'undefined',
          timers: 'undefined',
        });
      }
    });

    it('import of fs / net / child_process is rejected: the code does not load', async () => {
      const engine = new Engine();
      for (const m of ['fs', 'net', 'child_process']) {
        await assert.rejects(
          isolatedUnit(engine, {
            name: `imp-${m}-${String(tier)}`,
            tier,
            source: `import('${m}')`,
          }),
          IsolationError,
        );
        await assert.rejects(
          isolatedUnit(engine, {
            name: `st-${m}-${String(tier)}`,
            tier,
            source: `import x from '${m}';`,
          }),
          IsolationError,
        );
      }
      // …and from inside Function/eval at run time: the attempt throws, nothing is imported.
      const r = await attack(
        tier,
        `unit.subscribe('in', () => {
          const out = {};
          try { Function("return imp" + "ort('fs')")(); out.fn = 'ran' } catch { out.fn = 'refused' }
          try { (0, eval)("imp" + "ort('net')"); out.ev = 'ran' } catch { out.ev = 'refused' }
          unit.publish('leak', out);
        });`,
      );
      assertOthersUnharmed(r);
      for (const l of r.leaks) assert.deepEqual(l, { fn: 'refused', ev: 'refused' });
      const stopped = engine.audit.entries().filter((e) => e.kind === 'unit-stopped');
      assert.equal(stopped.length, 6);
    });

    it('eval / Function / constructor tricks reach only the compartment, never the host', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', (ev) => {
          const out = {};
          const g1 = Function('return this')();
          const g2 = (0, eval)('this');
          const g3 = ev.constructor.constructor('return globalThis')();
          const g4 = unit.publish.constructor('return globalThis')();
          out.same = g1 === globalThis && g2 === globalThis && g3 === globalThis && g4 === globalThis;
          out.process = [g1, g2, g3, g4].map((g) => typeof g.process).join();
          try { out.direct = typeof Function('return process')() } catch { out.direct = 'threw' }
          try { Date.now(); out.date = 'ran' } catch { out.date = 'threw' }
          try { Math.random(); out.random = 'ran' } catch { out.random = 'threw' }
          unit.publish('leak', out);
        });`,
      );
      assertOthersUnharmed(r);
      for (const l of r.leaks) {
        assert.deepEqual(l, {
          same: true,
          process: 'undefined,undefined,undefined,undefined',
          direct: 'threw',
          date: 'threw',
          random: 'threw',
        });
      }
    });

    it('publishing a hidden part it cannot see, or below its label, is impossible', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', (ev) => unit.publish('leak', { hidden: String(ev.parts.hidden), names: Object.keys(ev.parts).join() }));`,
      );
      assertOthersUnharmed(r);
      for (const l of r.leaks) assert.deepEqual(l, { hidden: 'undefined', names: 'x,obj' });
    });
  });
}

for (const tier of [1, 2] as const) {
  describe(`adversarial isolation, tier ${String(tier)}: resources`, () => {
    it('an infinite loop is killed by the watchdog; the other units receive every event', async () => {
      const r = await attack(
        tier,
        `unit.subscribe('in', (ev) => { if (ev.parts.x === 5) for (;;) {} unit.publish('leak', { x: ev.parts.x }); });`,
        { heartbeatMs: 200, eventBudgetMs: 5 },
      );
      assertOthersUnharmed(r);
      assert.equal(r.ended, 'cpu');
      assert.ok(r.leaks.length <= 5);
      const stops = r.engine.audit.entries().filter((e) => e.kind === 'unit-stopped');
      assert.ok(stops.some((e) => e.unit === 'attacker' && e.op.endsWith(': cpu')));
    });

    it('unbounded memory kills only the guest; the other units receive every event', async () => {
      const r = await attack(
        tier,
        `const hoard = [];
        unit.subscribe('in', (ev) => { if (ev.parts.x === 3) for (;;) hoard.push(new Array(1e5).fill(ev.parts.x)); });`,
        { memoryMb: 32, eventBudgetMs: 30_000 },
      );
      assertOthersUnharmed(r);
      assert.equal(r.ended, 'memory');
    });
  });
}
