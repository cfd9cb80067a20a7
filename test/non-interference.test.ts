/**
 * Non-interference (DESIGN.md §1): what units and sinks at or below an observer label Lo see
 * and do depends only on data that may flow to Lo. We build a random engine, run it twice with
 * the same structure and the same low values, but different values for every part whose label
 * does not flow to Lo (in the second run such parts may also be renamed or missing, and events
 * whose source label does not flow to Lo may not happen), and require identical low traces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Engine,
  Label,
  SluiceError,
  type EventView,
  type Sink,
  type UnitContext,
} from '../src/index.js';

const TOPICS = ['a', 'b', 'c', 'd'] as const;
const PART_NAMES = ['x', 'y', 'z'] as const;
const MAX_HOP = 3;

/** A pool of 4 tags shared by every run (labels are interned, so both runs use equal labels). */
const pool = new Engine();
const TAGS = [0, 1, 2, 3].map((i) => pool.createTag(`ni-${i}`).tag);

/** Secrecy over the 4 tags, integrity over the first 2 (bit masks). */
interface LabelBits {
  readonly s: number;
  readonly i: number;
}
const labelBits: fc.Arbitrary<LabelBits> = fc.record({
  s: fc.integer({ min: 0, max: 15 }),
  i: fc.integer({ min: 0, max: 3 }),
});

function toLabel(b: LabelBits): Label {
  return Label.of({
    secrecy: TAGS.filter((_, k) => ((b.s >> k) & 1) === 1),
    integrity: TAGS.filter((_, k) => ((b.i >> k) & 1) === 1),
  });
}

type Mode = 'sum' | 'concat' | 'raise' | 'derive' | 'cond' | 'output' | 'leak';

interface UnitPlan {
  readonly label: LabelBits;
  readonly subs: readonly { topic: number; filtered: boolean }[];
  readonly mode: Mode;
  readonly out: number;
  readonly raise: LabelBits;
  readonly sink: number;
}

interface PartPlan {
  readonly name: number;
  readonly label: LabelBits;
  /** Value in run A; in run B too, unless the part's label does not flow to Lo. */
  readonly a: number | string;
  readonly b: number | string;
  /** In run B a high part may also be missing, or carry another name. */
  readonly inB: boolean;
  readonly nameB: number;
}

interface EventPlan {
  readonly topic: number;
  readonly source: LabelBits;
  readonly parts: readonly PartPlan[];
  readonly flush: boolean;
  /** In run B an event whose source label does not flow to Lo may not happen at all. */
  readonly inB: boolean;
}

interface Plan {
  readonly observer: LabelBits;
  readonly highWater: number;
  readonly batchSize: number;
  readonly sinks: readonly LabelBits[];
  readonly units: readonly UnitPlan[];
  readonly events: readonly EventPlan[];
  readonly drain: 'flush' | 'idle';
}

const value = fc.oneof(fc.integer({ min: -50, max: 50 }), fc.string({ maxLength: 4 }));

const plan: fc.Arbitrary<Plan> = fc.record({
  observer: labelBits,
  // ≥ 14: the hard limit (8 × highWater) is above the most deliveries a plan can queue, so a
  // source never meets OverloadError (outside dispatch the queue length is a known resource channel).
  highWater: fc.integer({ min: 14, max: 64 }),
  batchSize: fc.integer({ min: 1, max: 16 }),
  sinks: fc.array(labelBits, { minLength: 1, maxLength: 3 }),
  units: fc.array(
    fc.record({
      label: labelBits,
      subs: fc.array(
        fc.record({ topic: fc.nat({ max: TOPICS.length - 1 }), filtered: fc.boolean() }),
        { maxLength: 3 },
      ),
      mode: fc.constantFrom<Mode>('sum', 'concat', 'raise', 'derive', 'cond', 'output', 'leak'),
      out: fc.nat({ max: TOPICS.length - 1 }),
      raise: labelBits,
      sink: fc.nat({ max: 2 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  events: fc.array(
    fc.record({
      topic: fc.nat({ max: TOPICS.length - 1 }),
      source: labelBits,
      parts: fc.array(
        fc.record({
          name: fc.nat({ max: PART_NAMES.length - 1 }),
          label: labelBits,
          a: value,
          b: value,
          inB: fc.boolean(),
          nameB: fc.nat({ max: PART_NAMES.length - 1 }),
        }),
        { maxLength: 4 },
      ),
      flush: fc.boolean(),
      inB: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  drain: fc.constantFrom<'flush' | 'idle'>('flush', 'idle'),
});

/** Everything a unit can compute from a view: its visible names, values, labels and presence. */
function digest(ev: EventView): { sum: number; text: string; hop: number } {
  let sum = 0;
  let text = '';
  for (const name of new Set(ev.names())) {
    if (name === 'hop') continue;
    for (const v of ev.getAll(name)) {
      if (typeof v === 'number') sum += v;
      else text += `${name}=${JSON.stringify(v)};`;
    }
  }
  const hop = ev.get('hop');
  return { sum, text, hop: typeof hop === 'number' ? hop : 0 };
}

function observe(ev: EventView): unknown {
  return {
    topic: ev.topic,
    presence: ev.presence.toString(),
    names: ev.names(),
    json: ev.toJSON(),
    labels: ev.names().map((n) => ev.labelOf(n)?.toString()),
    has: PART_NAMES.map((n) => ev.has(n)),
    get: PART_NAMES.map((n) => ev.get(n) ?? null),
  };
}

function describeError(e: unknown): unknown {
  return e instanceof SluiceError ? [e.name, e.code, e.message] : ['non-sluice', String(e)];
}

/** Run the plan with values `which`; return the trace an observer at Lo may see. */
async function run(p: Plan, which: 'a' | 'b'): Promise<unknown[]> {
  const lo = toLabel(p.observer);
  const trace: unknown[] = [];
  const engine = new Engine({ highWater: p.highWater, batchSize: p.batchSize });
  const sinks: Sink[] = p.sinks.map((bits, k) => {
    const label = toLabel(bits);
    const low = label.flowsTo(lo);
    return engine.sink(`sink-${k}`, label, (rec) => {
      if (!low) return;
      trace.push([
        'sink',
        k,
        rec.parts.map((part) => [part.name, part.label.toString(), part.value]),
      ]);
    });
  });

  p.units.forEach((u, k) => {
    const label = toLabel(u.label);
    const low = label.flowsTo(lo);
    const name = `u${k}`;
    const rec = (...entry: unknown[]) => {
      if (low) trace.push([name, ...entry]);
    };
    const act = (ctx: UnitContext, ev: EventView): void => {
      const d = digest(ev);
      if (d.hop >= MAX_HOP) return;
      const topic = TOPICS[u.out] as string;
      const fresh = () => ctx.event().add('hop', d.hop + 1);
      const publish = (e: ReturnType<UnitContext['event']>) => {
        rec('publish', topic, ctx.publish(topic, e));
      };
      switch (u.mode) {
        case 'sum':
          publish(fresh().add('sum', d.sum));
          break;
        case 'concat':
          publish(fresh().add('text', d.text));
          break;
        case 'raise':
          publish(
            fresh()
              .add('own', d.sum)
              .add('up', [d.sum, d.text], label.join(toLabel(u.raise))),
          );
          break;
        case 'derive':
          publish(
            ctx
              .derive(ev)
              .add('hop', d.hop + 1)
              .add('seen', ev.names().length),
          );
          break;
        case 'cond':
          if (d.sum % 2 !== 0 || d.text.length % 3 === 1) publish(fresh().add('odd', d.sum));
          break;
        case 'output': {
          const sink = sinks[u.sink % sinks.length] as Sink;
          try {
            ctx.output(sink, ctx.derive(ev).add('out', d.sum));
            rec('output', 'ok');
          } catch (e) {
            rec('output', describeError(e));
          }
          break;
        }
        case 'leak': {
          // Try to push what this unit sees below its label: every attempt must be refused.
          try {
            ctx.publish(topic, fresh().add('leak', d.sum), { presence: Label.public });
            rec('leak-publish', 'ok');
          } catch (e) {
            rec('leak-publish', describeError(e));
          }
          try {
            ctx.event().add('leak', d.text, Label.public);
            rec('leak-add', 'ok');
          } catch (e) {
            rec('leak-add', describeError(e));
          }
          for (const sink of sinks) {
            try {
              ctx.output(sink, ctx.event().add('leak', d.sum));
              rec('leak-output', sink.name, 'ok');
            } catch (e) {
              rec('leak-output', sink.name, describeError(e));
            }
          }
          break;
        }
      }
    };
    engine.unit(
      {
        name,
        label,
        onError: (e) => {
          rec('onError', describeError(e));
        },
      },
      (ctx) => {
        for (const s of u.subs) {
          const filter = (ev: EventView): boolean => {
            const d = digest(ev);
            const keep = (d.sum + d.text.length) % 3 !== 0;
            rec('filter', observe(ev), keep);
            return keep;
          };
          ctx.subscribe(
            TOPICS[s.topic] as string,
            (ev) => {
              rec('deliver', observe(ev));
              act(ctx, ev);
            },
            s.filtered ? { filter } : {},
          );
        }
      },
    );
  });

  const sources = new Map<Label, UnitContext>();
  for (const ev of p.events) {
    const srcLabel = toLabel(ev.source);
    if (which === 'b' && !ev.inB && !srcLabel.flowsTo(lo)) {
      if (ev.flush) engine.flush();
      continue;
    }
    let src = sources.get(srcLabel);
    if (src === undefined) {
      src = engine.unit({ name: `src${sources.size}`, label: srcLabel });
      sources.set(srcLabel, src);
    }
    const e = src.event();
    for (const part of ev.parts) {
      const label = toLabel(part.label).join(srcLabel);
      if (label.flowsTo(lo) || which === 'a') {
        e.add(PART_NAMES[part.name] as string, part.a, label);
      } else if (part.inB) {
        e.add(PART_NAMES[part.nameB] as string, part.b, label);
      }
    }
    try {
      src.publish(TOPICS[ev.topic] as string, e);
    } catch (err) {
      trace.push(['source', describeError(err)]);
    }
    if (ev.flush) engine.flush();
  }
  if (p.drain === 'flush') engine.flush();
  else await engine.idle();
  assert.equal(engine.stats().queued, 0);

  // The audit entries of low units are low too (without seq/time, which count everyone's).
  const lowUnits = new Set(
    p.units.flatMap((u, k) => (toLabel(u.label).flowsTo(lo) ? [`u${k}`] : [])),
  );
  for (const a of engine.audit.entries()) {
    if (a.unit !== undefined && lowUnits.has(a.unit)) {
      trace.push(['audit', a.kind, a.unit, a.op, a.from, a.to]);
    }
  }
  return trace;
}

describe('non-interference', () => {
  it('low units and low sinks see the same trace whatever the high values', async () => {
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const a = await run(p, 'a');
        const b = await run(p, 'b');
        assert.deepEqual(b, a);
      }),
      { numRuns: 300 },
    );
  });

  it('the property is not vacuous: a trace includes high-labelled parts when Lo is top', async () => {
    // Sanity check of the harness: with Lo = every secrecy tag and no integrity, every value is
    // low, so changing "high" values changes nothing; with a public Lo, a secret part does not
    // show up at all, though a unit at the top label sees it.
    const p: Plan = {
      observer: { s: 15, i: 0 },
      highWater: 16,
      batchSize: 4,
      sinks: [{ s: 15, i: 0 }],
      units: [
        {
          label: { s: 15, i: 0 },
          subs: [{ topic: 0, filtered: false }],
          mode: 'output',
          out: 1,
          raise: { s: 0, i: 0 },
          sink: 0,
        },
      ],
      events: [
        {
          topic: 0,
          source: { s: 0, i: 0 },
          parts: [{ name: 0, label: { s: 1, i: 0 }, a: 7, b: 8, inB: true, nameB: 0 }],
          flush: false,
          inB: true,
        },
      ],
      drain: 'flush',
    };
    const top = await run(p, 'a');
    assert.match(JSON.stringify(top), /"json":\{"x":7\}/);
    const low = await run({ ...p, observer: { s: 0, i: 0 } }, 'b');
    assert.doesNotMatch(JSON.stringify(low), /"x"/);
  });
});
