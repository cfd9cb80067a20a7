/**
 * Projection properties of the faceted store (DESIGN.md §1), as fast-check properties over
 * random labels and traces, for every backend (fewer runs for the SQL ones):
 * - every backend agrees with a literal reference model of the semantics;
 * - a write at l′ ⋢ l never changes what l sees;
 * - two runs that differ only in writes at labels ⋢ l give l identical results (every read at a
 *   label ⊑ l, and l's final view): a read's result depends only on l's projection.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import type { FacetedStore, JsonValue, StoreView } from '../src/store.js';
import { closeAll, storeBackends } from './support/store-backends.js';

after(closeAll);

const engine = new Engine();
const TAGS = [0, 1, 2].map((i) => engine.createTag(`proj-${i}`).tag);
const KEYS = ['k0', 'k1', 'k2', 'k3'] as const;

/** Secrecy over 3 tags, integrity over the first 2 (bit masks). */
const labelArb = fc
  .record({ s: fc.integer({ min: 0, max: 7 }), i: fc.integer({ min: 0, max: 3 }) })
  .map(({ s, i }) =>
    Label.of({
      secrecy: TAGS.filter((_, k) => ((s >> k) & 1) === 1),
      integrity: TAGS.filter((_, k) => ((i >> k) & 1) === 1),
    }),
  );

type Op =
  | { kind: 'put'; key: string; value: number }
  | { kind: 'delete'; key: string }
  | { kind: 'cas'; key: string; expected: number | undefined; next: number | undefined }
  | { kind: 'batch'; ops: { key: string; value: number | undefined }[] }
  | { kind: 'get'; key: string }
  | { kind: 'scan'; limit: number }
  | { kind: 'count' };

const keyArb = fc.constantFrom(...KEYS);
const small = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: keyArb, value: small }),
  fc.record({ kind: fc.constant('delete' as const), key: keyArb }),
  fc.record({
    kind: fc.constant('cas' as const),
    key: keyArb,
    expected: fc.option(small, { nil: undefined }),
    next: fc.option(small, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('batch' as const),
    ops: fc.array(fc.record({ key: keyArb, value: fc.option(small, { nil: undefined }) }), {
      maxLength: 3,
    }),
  }),
  fc.record({ kind: fc.constant('get' as const), key: keyArb }),
  fc.record({ kind: fc.constant('scan' as const), limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('count' as const) }),
);
interface Step {
  readonly label: Label;
  readonly op: Op;
}
const stepArb: fc.Arbitrary<Step> = fc.record({ label: labelArb, op: opArb });

/** The semantics, literally: facets (label, value, seq); newest visible wins. */
class Model {
  readonly #facets = new Map<string, { label: Label; value: number | undefined; seq: number }[]>();
  #seq = 0;
  read(l: Label, key: string): number | undefined {
    let best: { value: number | undefined; seq: number } | undefined;
    for (const f of this.#facets.get(key) ?? []) {
      if (f.label.flowsTo(l) && (best === undefined || f.seq > best.seq)) best = f;
    }
    return best?.value;
  }
  write(l: Label, key: string, value: number | undefined): void {
    const kept = (this.#facets.get(key) ?? []).filter((f) => !l.flowsTo(f.label));
    kept.push({ label: l, value, seq: ++this.#seq });
    this.#facets.set(key, kept);
  }
  view(l: Label) {
    const entries = KEYS.flatMap((key) => {
      const value = this.read(l, key);
      return value === undefined ? [] : [{ key, value }];
    });
    return entries;
  }
}

function apply(m: Model, { label, op }: Step): unknown {
  switch (op.kind) {
    case 'put':
      return m.write(label, op.key, op.value);
    case 'delete':
      return m.write(label, op.key, undefined);
    case 'cas':
      if (m.read(label, op.key) !== op.expected) return false;
      m.write(label, op.key, op.next);
      return true;
    case 'batch':
      for (const o of op.ops) m.write(label, o.key, o.value);
      return undefined;
    case 'get':
      return m.read(label, op.key);
    case 'scan':
      return m.view(label).slice(0, op.limit);
    case 'count':
      return m.view(label).length;
  }
}

async function run(s: FacetedStore, { label, op }: Step): Promise<unknown> {
  const v = s.at(label);
  switch (op.kind) {
    case 'put':
      return v.put(op.key, op.value);
    case 'delete':
      return v.delete(op.key);
    case 'cas':
      return v.compareAndSet(op.key, op.expected, op.next);
    case 'batch':
      return v.batch(
        op.ops.map((o) =>
          o.value === undefined
            ? { type: 'delete' as const, key: o.key }
            : { type: 'put' as const, key: o.key, value: o.value },
        ),
      );
    case 'get':
      return v.get(op.key);
    case 'scan':
      return (await v.scan({ limit: op.limit })).items;
    case 'count':
      return v.count();
  }
}

/** Everything `v` can see. */
async function snapshot(v: StoreView) {
  return {
    gets: await Promise.all(KEYS.map((k) => v.get(k))),
    scan: (await v.scan({ limit: 1000 })).items as unknown as JsonValue,
    count: await v.count(),
  };
}

for (const be of storeBackends()) {
  describe(`store projection properties: ${be.name}`, () => {
    it('agrees with the reference model on every operation', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), async (trace) => {
          const s = await be.open();
          const m = new Model();
          for (const step of trace) assert.deepEqual(await run(s, step), apply(m, step));
          await s.close();
        }),
        { numRuns: be.runs },
      );
    });

    it('a write at l′ ⋢ l never changes what l sees', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(stepArb, { maxLength: 15 }),
          labelArb,
          stepArb,
          async (trace, l, write) => {
            fc.pre(!write.label.flowsTo(l));
            const s = await be.open();
            for (const step of trace) await run(s, step);
            const before = await snapshot(s.at(l));
            await run(s, write);
            assert.deepEqual(await snapshot(s.at(l)), before);
            await s.close();
          },
        ),
        { numRuns: be.runs },
      );
    });

    it('runs differing only in writes at labels ⋢ l look identical to l', async () => {
      // Each step has a second op: run B executes it instead when the step is not visible to l.
      const pairArb = fc.record({ step: stepArb, alt: fc.option(opArb, { nil: undefined }) });
      await fc.assert(
        fc.asyncProperty(fc.array(pairArb, { maxLength: 20 }), labelArb, async (pairs, l) => {
          const observe = async (variant: 'a' | 'b') => {
            const s = await be.open();
            const seen: unknown[] = [];
            for (const { step, alt } of pairs) {
              const low = step.label.flowsTo(l);
              if (low) seen.push(await run(s, step));
              else if (variant === 'a') await run(s, step);
              else if (alt !== undefined) await run(s, { label: step.label, op: alt });
            }
            seen.push(await snapshot(s.at(l)));
            await s.close();
            return seen;
          };
          assert.deepEqual(await observe('b'), await observe('a'));
        }),
        { numRuns: be.runs },
      );
    });
  });
}
