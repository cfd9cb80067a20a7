/**
 * Adversarial: what tier 0 does with the object a unit hands to `unit.publish`. The host reads
 * it once, at the publish, with for…in and an own check (no prototype lookup, no array of
 * names), so these must hold: only own, enumerable, string-named properties become parts (not
 * inherited ones, not symbols, not non-enumerable ones); an accessor runs once and its result
 * is copied; a value changed after the publish changes nothing published; a proxy's traps run
 * in the unit and what they give is copied, but a proxy as a value is refused; a getter that
 * throws refuses the publish (audited) and the handler goes on; a publish from inside a getter
 * is its own event. Labelled publishes take the same names. Run in tier 0 and in a managed
 * tier-0 unit (which reaches the same publisher through its output gate).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import { runFed } from './support/isolation.js';

const SOURCE = `
const hidden = Symbol('hidden');
unit.subscribe('in', (ev) => {
  const x = ev.get('x');
  let reads = 0;
  unit.publish('out', { k: 'getter', get v() { reads++; return { n: x }; } });
  const o = Object.create({ inherited: 'parent', k: 'shadowed' });
  o.k = 'inherited';
  o.v = x;
  unit.publish('out', o);
  const p = { k: 'symbol', v: x, [hidden]: 'symbol value' };
  Object.defineProperty(p, 'quiet', { value: 'not enumerable', enumerable: false });
  unit.publish('out', p);
  const m = { k: 'mutated', v: { n: x, a: [x] } };
  unit.publish('out', m);
  m.v.n = -1;
  m.v.a.push(-1);
  m.k = 'changed';
  m.extra = 'late';
  unit.publish('out', new Proxy({ k: 'proxy', v: x }, {
    ownKeys: (t) => [...Reflect.ownKeys(t), 'ghost'],
    getOwnPropertyDescriptor: (t, n) =>
      n === 'ghost' ? undefined : Reflect.getOwnPropertyDescriptor(t, n),
  }));
  unit.publish('out', { k: 'proxy value', v: new Proxy({}, {}) });
  unit.publish('out', { k: 'throws', get v() { throw new Error('no'); } });
  unit.publish('out', {
    k: 'outer',
    get v() { unit.publish('out', { k: 'inner', v: x }); return x; },
  });
  unit.publish('out', Object.assign(Object.create(null), { k: 'null proto', v: x }));
  const q = Object.create({ inherited: 'parent' });
  q.k = 'labelled';
  q.v = x;
  unit.publish('out', q, { v: { secrecy: ['alice'] } });
  unit.publish('out', { k: 'done', v: reads });
});`;

/** What every `in` event with x should make come out, in order. */
const expected = (x: number): Record<string, unknown>[] => [
  { k: 'getter', v: { n: x } },
  { k: 'inherited', v: x },
  { k: 'symbol', v: x },
  { k: 'mutated', v: { n: x, a: [x] } },
  { k: 'proxy', v: x },
  { k: 'inner', v: x },
  { k: 'outer', v: x },
  { k: 'null proto', v: x },
  { k: 'labelled', v: x },
  { k: 'done', v: 1 },
];

async function run(managed: boolean) {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  const got: Record<string, unknown>[] = [];
  engine.unit({ name: 'c', label: A }, (ctx) =>
    ctx.subscribe('out', (ev) => {
      for (const n of ev.names()) assert.ok(Object.isFrozen(ev.get(n)));
      got.push(ev.toJSON());
    }),
  );
  const spec = { name: 'w', label: A, tags: { alice: alice.tag }, source: SOURCE };
  const src = engine.unit({ name: 's' });
  const feed = (): void => {
    for (let i = 0; i < 3; i++) src.publish('in', src.event().add('x', i));
  };
  await runFed(engine, managed ? 'managed' : 0, spec, feed);
  const refused = engine.audit.entries().filter((e) => e.op.startsWith('isolated publish refused'));
  return { got, refused: refused.length, handlerErrors: engine.audit.counts()['unit-error'] };
}

describe('tier 0: the object given to unit.publish', () => {
  for (const managed of [false, true]) {
    it(`${managed ? 'managed ' : ''}tier 0: only own enumerable string names, read once, copied`, async () => {
      const r = await run(managed);
      assert.deepEqual(r.got, [...expected(0), ...expected(1), ...expected(2)]);
      // The proxy value and the throwing getter: refused, audited, the handler went on.
      assert.equal(r.refused, 6);
      assert.equal(r.handlerErrors, 6);
    });
  }
});
