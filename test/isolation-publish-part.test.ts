/**
 * `unit.publishPart(topic, name, value, label?)`: an event of one part, with no object built
 * per event in tier 0. In every tier (and in a managed unit, which takes the one-part object
 * path) it publishes exactly what `unit.publish(topic, { [name]: value }, { [name]: label })`
 * does: the same parts, labels, refusals and audit entries; the value is copied and frozen when
 * published; a bad topic or name is the code's own error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import type { Tier } from '../src/isolation.js';
import { runFed } from './support/isolation.js';

/** The same handler written with publish (objects) and with publishPart. */
const body = (one: boolean): string => {
  const pub = (topic: string, name: string, value: string, label?: string): string =>
    one
      ? `unit.publishPart('${topic}', ${name}, ${value}${label === undefined ? '' : `, ${label}`});`
      : `unit.publish('${topic}', { [${name}]: ${value} }${label === undefined ? '' : `, { [${name}]: ${label} }`});`;
  return `unit.subscribe('in', (ev) => {
    const x = ev.get('x');
    ${pub('out', "'x'", 'x * 2')}
    ${pub('out', "'s'", 'x', "{ secrecy: ['alice'] }")}
    ${pub('out', "'__proto__'", 'x + 1')}
    const o = { a: [x] };
    ${pub('out', "'o'", 'o')}
    o.a.push(99);
    ${pub('out', "'d'", 'x', '{ secrecy: [] }')}
    ${pub('out', "'m'", 'x', "{ secrecy: ['mallory'] }")}
    ${pub('out', "'bad\\u0001name'", 'x')}
  });
  unit.subscribe('oops', () => { unit.publishPart('out', 42, 1); });
  unit.subscribe('oops', () => { unit.publishPart('', 'x', 1); });`;
};

type Kind = Tier | 'managed';

async function run(kind: Kind, one: boolean) {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  const got: unknown[] = [];
  engine.unit({ name: 'c', label: A }, (ctx) =>
    ctx.subscribe('out', (ev) => {
      const [name] = ev.names();
      const v = ev.get(name as string);
      assert.ok(Object.isFrozen(v));
      // Every part is at alice's label (the unit's own, or asked for by name).
      got.push([name, v, ev.labelOf(name as string)?.toString() === A.toString()]);
    }),
  );
  const spec = { name: 'w', label: A, tags: { alice: alice.tag }, source: body(one) };
  const src = engine.unit({ name: 's' });
  const feed = (): void => {
    for (let i = 0; i < 3; i++) src.publish('in', src.event().add('x', i));
    src.publish('oops', src.event().add('go', 1));
  };
  await runFed(engine, kind, spec, feed);
  const counts = engine.audit.counts();
  return {
    got,
    refusedWrites: counts['refused-write'] ?? 0,
    unitErrors: counts['unit-error'] ?? 0,
    audit: engine.audit.entries().map((e) => e.op),
  };
}

describe('unit.publishPart', () => {
  for (const kind of [0, 1, 2, 'managed'] as const) {
    it(`${kind === 'managed' ? 'managed tier 0' : `tier ${String(kind)}`}: publishes what publish does with a one-part object`, async () => {
      const A = await run(kind, false);
      const B = await run(kind, true);
      assert.deepEqual(B.got, A.got);
      assert.equal(B.refusedWrites, A.refusedWrites);
      // Both forms share the two 'oops' handlers (a bad name, a bad topic): the code's errors.
      assert.equal(B.unitErrors, A.unitErrors);
      assert.equal(B.unitErrors, 3 * 3 + 2);
      // Per input: x, s (at alice), __proto__ (a part like any other), o (copied when
      // published: the later push is not seen); d (below the unit's label), m (an unmapped tag)
      // and a name with a control character are refused on the host and audited.
      const rows = B.got as [string, unknown, boolean][];
      assert.equal(rows.length, 3 * 4);
      assert.deepEqual(
        rows.slice(0, 3).map(([n, v]) => [n, v]),
        [
          ['x', 0],
          ['s', 0],
          ['__proto__', 1],
        ],
      );
      // Tier 0 copies the value as it is published. Tiers 1 and 2 encode an object value when
      // the batch is sent, so a change made later in the same batch is seen, in both forms
      // alike (batch-codec.ts; a known difference between tiers, not asserted here).
      if (kind === 0 || kind === 'managed')
        assert.deepEqual(rows[3]?.slice(0, 2), ['o', { a: [0] }]);
      assert.ok(rows.every(([, , atA]) => atA));
      assert.equal(B.refusedWrites, 3);
      // No audit entry quotes a name or tag name the code chose.
      assert.ok(B.audit.every((op) => !op.includes('mallory') && !op.includes('bad')));
    });
  }
});
