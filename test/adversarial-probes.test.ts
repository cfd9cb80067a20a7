/**
 * Adversarial managed units under the agent and the default policy: each attack is contained,
 * the right probe fires (and no rule fires for the benign unit), and every other unit still
 * receives all its events. The secret is a part at label S that only the attacker (at S) and
 * the in-process victim may read.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Engine, Label } from '../src/index.js';
import {
  Agent,
  type AgentAction,
  type IsolationLimits,
  type ManagedTier,
  type ManagedUnit,
} from '../src/isolation.js';

const N = 256;
/** The secret bits: a fixed pseudo-random sequence, about half ones. */
const BITS = Array.from({ length: N }, (_, i) => ((i * 2654435761) >>> 13) & 1);
const BENIGN = `unit.subscribe('in', (ev) => unit.publish('ok', { x: ev.parts.x }));`;

interface Run {
  engine: Engine;
  agent: Agent;
  attacker: ManagedUnit;
  /** x values the in-process victim and the benign managed unit received / forwarded. */
  direct: unknown[];
  forwarded: unknown[];
  /** Attacker outputs, with the time each was delivered. */
  leaks: { at: number; v: unknown }[];
  /** When the agent carried out its first action on the attacker. */
  actedAt: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Units of the current test: a test that fails before stopping them must not leave their
 * workers running (the file would never exit). */
const live: ManagedUnit[] = [];
afterEach(() => {
  for (const u of live.splice(0)) u.kill();
});

async function attack(
  tier: ManagedTier,
  source: string,
  opts: {
    limits?: IsolationLimits;
    every?: number;
    gapMs?: number;
    onAt?: (i: number, r: Run) => Promise<void>;
    /** Run the attacker at the public label (the secret part is then hidden from it). */
    public?: boolean;
  } = {},
): Promise<Run> {
  const engine = new Engine();
  const secret = engine.createTag('secret');
  const S = Label.secrecy(secret.tag);
  const agent = new Agent(engine);
  const attacker = await agent.start({
    name: 'attacker',
    tier,
    ...(opts.public === true ? {} : { label: S }),
    source,
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
  });
  live.push(attacker);
  const benign = await agent.start({ name: 'benign', tier, source: BENIGN });
  live.push(benign);
  const r: Run = {
    engine,
    agent,
    attacker,
    direct: [],
    forwarded: [],
    leaks: [],
    actedAt: Infinity,
  };
  agent.onAction((a) => {
    if (a.unit === 'attacker') r.actedAt = Math.min(r.actedAt, performance.now());
  });
  engine.unit({ name: 'victim', label: S }, (ctx) => {
    ctx.subscribe('in', (ev) => r.direct.push(ev.get('x')));
    ctx.subscribe('ok', (ev) => r.forwarded.push(ev.get('x')));
    ctx.subscribe('leak', (ev) => r.leaks.push({ at: performance.now(), v: ev.get('v') }));
  });
  const src = engine.unit({ name: 'src' });
  for (let i = 0; i < N; i++) {
    src.publish('in', src.event().add('x', i).add('bit', BITS[i], S));
    if (i % (opts.every ?? 16) === (opts.every ?? 16) - 1) await pause(opts.gapMs ?? 1);
    await opts.onAt?.(i, r);
  }
  for (let i = 0; i < 3; i++) {
    await agent.idle();
    await engine.idle();
    await benign.idle();
    if (attacker.ended === undefined && !attacker.quarantined) await attacker.idle();
  }
  await benign.stop();
  return r;
}

function assertOthersUnharmed(r: Run): void {
  const xs = Array.from({ length: N }, (_, i) => i);
  assert.deepEqual(r.direct, xs);
  assert.deepEqual(r.forwarded, xs);
  // No rule fired for the benign unit.
  assert.deepEqual(
    r.agent.actions.filter((a) => a.unit !== 'attacker'),
    [],
  );
}

function fired(r: Run): AgentAction[] {
  return r.agent.actions.filter((a) => a.unit === 'attacker');
}

describe('adversarial managed units (probes, policy, agent)', () => {
  it('an emit flood modulating its rate with a secret bit: outputSpread fires, the unit is throttled to an even rate', async () => {
    const r = await attack(
      0,
      `unit.subscribe('in', (ev) => { const n = ev.parts.bit === 1 ? 30 : 1; for (let i = 0; i < n; i++) unit.publish('leak', { v: i }); });`,
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    assert.equal(a[0]?.rule, 'output-flood');
    assert.ok(a[0]?.probes.includes('outputSpread'));
    assert.equal(r.attacker.throttled, 1000);
    // After the throttle, outputs leave at about 1000/s whatever the bits: no 20 ms slot
    // carries more than 1000/s × 20 ms plus one tick's allowance.
    const late = r.leaks.filter((l) => l.at > r.actedAt);
    assert.ok(late.length > 100, String(late.length));
    const slots = new Map<number, number>();
    for (const l of late)
      slots.set(Math.floor(l.at / 20), (slots.get(Math.floor(l.at / 20)) ?? 0) + 1);
    for (const n of slots.values()) assert.ok(n <= 60, `a 20 ms slot released ${String(n)}`);
    // The audit names the rule and the probe, never a value.
    const audit = r.engine.audit.entries().filter((e) => e.kind === 'probe-fired');
    assert.equal(audit.length, 1);
    assert.match(
      audit[0]?.op ?? '',
      /rule 'output-flood' \(outputSpread\) in tier 0: throttle to 1000\/s/,
    );
    r.attacker.kill();
  });

  it('timing modulation by busy-waiting on a secret bit: the timing probe fires, the unit is escalated with its state, no output lost', async () => {
    const r = await attack(
      0,
      `unit.subscribe('in', (ev) => {
        let s = 0;
        if (ev.parts.bit === 1) for (let i = 0; i < 3e6; i++) s += i;
        unit.state.set('n', (unit.state.get('n') ?? 0) + 1);
        unit.publish('leak', { v: unit.state.get('n') + (s === -1 ? 1 : 0) });
      });`,
      { limits: { eventBudgetMs: 200 } },
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    assert.ok(a.length >= 1);
    assert.ok(
      a[0]?.probes.includes('serviceSpreadMs') || a[0]?.probes.includes('cpuMsPerEvent'),
      `fired ${JSON.stringify(a[0])}`,
    );
    assert.ok('escalate' in (a[0]?.action as object));
    assert.equal(r.attacker.tier, 1);
    assert.equal(r.attacker.history[0]?.from, 0);
    // Every event was handled exactly once, across the move (the counter lives in unit.state).
    assert.deepEqual(
      r.leaks.map((l) => l.v),
      Array.from({ length: N }, (_, i) => i + 1),
    );
    await r.attacker.stop();
  });

  it('timing modulation that starts after the first window (when timing is sampled): the timing probe still fires, the unit is escalated, no output lost', async () => {
    // No pauses in the source: the windows are fast, so after the first one (timed in full)
    // only a random sample of events is timed. The attacker waits out the first window.
    const r = await attack(
      0,
      `let k = 0;
      unit.subscribe('in', (ev) => {
        let s = 0;
        if (k++ >= 64 && ev.parts.bit === 1) for (let i = 0; i < 3e6; i++) s += i;
        unit.state.set('n', (unit.state.get('n') ?? 0) + 1);
        unit.publish('leak', { v: unit.state.get('n') + (s === -1 ? 1 : 0) });
      });`,
      { limits: { eventBudgetMs: 200 }, every: N },
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    assert.ok(a.length >= 1);
    assert.ok(
      a[0]?.probes.includes('serviceSpreadMs') || a[0]?.probes.includes('cpuMsPerEvent'),
      `fired ${JSON.stringify(a[0])}`,
    );
    assert.ok('escalate' in (a[0]?.action as object));
    assert.equal(r.attacker.tier, 1);
    assert.deepEqual(
      r.leaks.map((l) => l.v),
      Array.from({ length: N }, (_, i) => i + 1),
    );
    await r.attacker.stop();
  });

  it('an infinite loop after a long event: tier 0 escalates it to tier 1 in time, whose watchdog kills it; others unaffected', async () => {
    const r = await attack(
      0,
      `unit.subscribe('in', (ev) => {
        if (ev.parts.x === 10) { let s = 0; for (let i = 0; i < 1e8; i++) s += i; if (s === -1) unit.publish('leak', { v: s }); }
        if (ev.parts.x >= 160) for (;;) {}
        unit.publish('leak', { v: ev.parts.x });
      });`,
      {
        limits: { heartbeatMs: 200, eventBudgetMs: 20 },
        // The attacker's loop starts at event 160; the source keeps its pace.
        onAt: async (i, run) => {
          if (i === 100) await run.agent.idle();
        },
      },
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    // The long event fires long-event, or cpu-hog when it also lifts the window's mean.
    assert.ok(['long-event', 'cpu-hog'].includes(a[0]?.rule ?? ''), a[0]?.rule);
    assert.deepEqual(a[0]?.action, { escalate: 1 });
    for (let i = 0; i < 50 && r.attacker.ended === undefined; i++) await pause(50);
    assert.equal(r.attacker.ended, 'cpu');
    assert.equal(r.attacker.tier, 1);
    // Its outputs: in order, no gap, none duplicated, nothing from the looping event on, and
    // everything it emitted before the agent's check at event 100. A guest killed in the middle
    // of a batch loses that batch's outputs (they leave with the batch's reply, which never
    // comes): whether the batch that holds event 160 started at 144 or at 160 depends on the
    // machine's load (seen in CI: outputs 0–143). A known limit, in README (isolation).
    const got = r.leaks.map((l) => l.v);
    assert.deepEqual(
      got,
      Array.from({ length: got.length }, (_, i) => i),
    );
    assert.ok(got.length >= 100 && got.length <= 160, String(got.length));
  });

  it('unbounded memory in tier 1: heapGrowthMb fires, escalated to tier 2, then killed; others unaffected', async () => {
    const r = await attack(
      1,
      `const hoard = [];
      unit.subscribe('in', (ev) => { hoard.push(new Array(64 * 1024).fill(ev.parts.x)); unit.publish('leak', { v: hoard.length }); });`,
      { limits: { memoryMb: 96 }, every: 8, gapMs: 5 },
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    assert.ok(a.length >= 1);
    for (const x of a) assert.deepEqual(x.probes, ['heapGrowthMb']);
    assert.equal(a[0]?.rule, 'memory-growth');
    // Moved to tier 2 (then killed by the agent's second rule, or by its heap limit, if it
    // kept growing there), or killed by tier 1's heap limit before the move was done.
    assert.ok(
      r.attacker.history.some((h) => h.from === 1 && h.to === 2) || r.attacker.ended === 'memory',
      String(r.attacker.ended),
    );
    if (r.attacker.ended === undefined) await r.attacker.stop();
  });

  it('a unit that keeps reading parts it may not see: the not-found probe fires and it is quarantined', async () => {
    // Public attacker: the 'bit' part (at S) is hidden from it, and looks exactly absent.
    const r = await attack(
      0,
      `unit.subscribe('in', (ev) => {
        const found = ['bit', 'password', 'ssn', 'salary', 'token'].filter((n) => ev.parts[n] !== undefined || n in ev.parts);
        unit.publish('leak', { v: found.length });
      });`,
      { public: true },
    );
    assertOthersUnharmed(r);
    const a = fired(r);
    assert.equal(a[0]?.rule, 'probing');
    assert.deepEqual(a[0]?.probes, ['notFoundPerEvent']);
    assert.equal(r.attacker.quarantined, true);
    // Outputs stopped at the quarantine (the first window and the events before the action).
    assert.ok(r.leaks.length >= 64 && r.leaks.length < N, String(r.leaks.length));
    for (const l of r.leaks) assert.equal(l.v, 0);
    // The probe counts; no audit entry names a part the unit looked for.
    for (const e of r.engine.audit.entries())
      assert.doesNotMatch(e.op, /\bbit\b|password|ssn|salary|token/);
    r.attacker.kill();
  });
});
