/**
 * Adversarial: a unit that keeps the event objects its handler received. Tier 0 now calls the
 * handler through a receiver compiled in the unit's own compartment (guest.ts), so check what
 * a unit can do with what it is given: each delivery is a new event object; one kept from an
 * earlier delivery still reads its own event, never a later one's parts; the event has no own
 * property or symbol; and the usual ways up the stack (`caller`, `arguments.callee`) reach
 * neither the receiver nor the engine's view. Tier 1 and a managed tier-0 unit (which delivers
 * through `Guest.deliver`) must behave the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import { runFed } from './support/isolation.js';

const SOURCE = `
const kept = [];
unit.subscribe('in', function handler(ev) {
  const x = ev.get('x');
  const old = kept.map((k) => [k.get('x'), k.get('y') === undefined, k.topic]);
  const same = kept.some((k) => k === ev);
  kept.push(ev);
  const tricks = [];
  for (const f of [
    () => handler.caller,
    () => handler.arguments,
    () => arguments.callee,
    () => Object.getOwnPropertyNames(ev).concat(Object.getOwnPropertySymbols(ev).map(String)),
  ]) {
    try {
      const t = f();
      tricks.push(Array.isArray(t) ? t.join(',') : t === undefined ? 'undefined' : typeof t);
    } catch {
      tricks.push('refused');
    }
  }
  unit.publish('out', { x, old, same, tricks });
});`;

async function run(kind: 0 | 1 | 'managed') {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  const got: unknown[] = [];
  engine.unit({ name: 'c', label: A }, (ctx) =>
    ctx.subscribe('out', (ev) => got.push(ev.toJSON())),
  );
  const spec = { name: 'w', label: A, source: SOURCE };
  const src = engine.unit({ name: 's', label: A });
  const feed = (): void => {
    // Event i carries x = i; from the second on, also a part y the first event did not have.
    for (let i = 0; i < 3; i++) {
      const e = src.event().add('x', i);
      src.publish('in', i === 0 ? e : e.add('y', i));
    }
  };
  await runFed(engine, kind, spec, feed);
  return got;
}

describe('a unit that keeps the events it received', () => {
  for (const kind of [0, 1, 'managed'] as const) {
    it(`${kind === 'managed' ? 'managed tier 0' : `tier ${String(kind)}`}: a kept event reads its own parts only; nothing reaches up the stack`, async () => {
      const got = (await run(kind)) as {
        x: number;
        old: [number, boolean, string][];
        same: boolean;
        tricks: string[];
      }[];
      assert.equal(got.length, 3);
      got.forEach((r, i) => {
        assert.equal(r.x, i);
        // Every kept event still reads its own x (and the first never sees a later y).
        assert.deepEqual(
          r.old,
          Array.from({ length: i }, (_, j) => [j, j === 0, 'in']),
        );
        assert.equal(r.same, false);
        const [caller, args, callee, own] = r.tricks;
        assert.ok(caller === 'refused' || caller === 'undefined', String(caller));
        assert.ok(args === 'refused' || args === 'undefined', String(args));
        assert.equal(callee, 'refused');
        assert.equal(own, '');
      });
    });
  }
});
