/**
 * The agent: watches managed units' probe windows, applies the policy (policy.ts) and acts:
 * escalates (live migration with state), throttles, quarantines or kills. Each decision is
 * audited (`probe-fired`: the rule, the names of the probes that fired and the action, never
 * their values, which could follow what the unit read) and kept in `actions`.
 *
 * Decisions are taken when a window closes (inside the unit's delivery) and carried out on
 * the next turn of the event loop, one at a time per unit.
 */
import type { Engine } from '../index.js';
import { ManagedUnit, type ManagedUnitSpec } from './managed-unit.js';
import { DEFAULT_POLICY, matches, type Policy, type PolicyAction } from './policy.js';
import type { ProbeName, ProbeValues } from './probes.js';
import type { ManagedTier } from './unit-backend.js';

export interface AgentAction {
  readonly unit: string;
  readonly rule: string;
  readonly probes: readonly ProbeName[];
  readonly action: PolicyAction;
  /** The unit's tier when the rule fired. */
  readonly tier: ManagedTier;
  /** Whether the action was carried out (a failed escalation, say, is false). */
  done: boolean;
}

function describe(a: PolicyAction): string {
  if (typeof a === 'string') return a;
  return 'escalate' in a ? `escalate to tier ${a.escalate}` : `throttle to ${a.throttle}/s`;
}

export class Agent {
  readonly #engine: Engine;
  readonly #policy: Policy;
  readonly #actions: AgentAction[] = [];
  readonly #listeners = new Set<(a: AgentAction) => void>();
  readonly #busy = new Map<ManagedUnit, Promise<void>>();
  readonly #streaks = new Map<ManagedUnit, number[]>();

  constructor(engine: Engine, policy: Policy = DEFAULT_POLICY) {
    this.#engine = engine;
    this.#policy = policy;
  }

  /** Start a managed unit and watch it. */
  async start(spec: ManagedUnitSpec): Promise<ManagedUnit> {
    const u = await ManagedUnit.start(this.#engine, spec);
    this.watch(u);
    return u;
  }

  watch(u: ManagedUnit): void {
    this.#streaks.set(
      u,
      this.#policy.rules.map(() => 0),
    );
    u.onProbe((v) => {
      this.#window(u, v);
    });
  }

  /** Every decision so far. */
  get actions(): readonly AgentAction[] {
    return [...this.#actions];
  }

  onAction(f: (a: AgentAction) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /** Resolves when every decision taken so far is carried out. */
  async idle(): Promise<void> {
    while (this.#busy.size > 0) await Promise.all(this.#busy.values());
  }

  #applicable(u: ManagedUnit, a: PolicyAction): boolean {
    if (u.ended !== undefined) return false;
    if (a === 'kill') return true;
    if (a === 'quarantine') return !u.quarantined;
    if ('escalate' in a) return a.escalate > u.tier;
    return u.throttled === undefined || a.throttle < u.throttled;
  }

  #window(u: ManagedUnit, v: ProbeValues): void {
    const streaks = this.#streaks.get(u);
    if (streaks === undefined || this.#busy.has(u)) return;
    let chosen: { i: number; probes: ProbeName[] } | undefined;
    this.#policy.rules.forEach((r, i) => {
      const hit = matches(r.when, v);
      streaks[i] = hit === undefined ? 0 : (streaks[i] ?? 0) + 1;
      if (chosen === undefined && hit !== undefined && (streaks[i] ?? 0) >= r.windows) {
        if (this.#applicable(u, r.then)) chosen = { i, probes: hit };
      }
    });
    if (chosen === undefined) return;
    const r = this.#policy.rules[chosen.i];
    if (r === undefined) return;
    streaks[chosen.i] = 0;
    const a: AgentAction = {
      unit: u.name,
      rule: r.name,
      probes: chosen.probes,
      action: r.then,
      tier: u.tier,
      done: false,
    };
    this.#actions.push(a);
    this.#engine.audit.record({
      kind: 'probe-fired',
      unit: u.name,
      op: `rule '${r.name}' (${chosen.probes.join(', ')}) in tier ${u.tier}: ${describe(r.then)}`,
    });
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#act(u, r.then))
      .then(
        () => {
          a.done = true;
        },
        () => undefined,
      )
      .finally(() => {
        this.#busy.delete(u);
        for (const f of this.#listeners) f(a);
      });
    this.#busy.set(u, run);
  }

  async #act(u: ManagedUnit, a: PolicyAction): Promise<void> {
    if (a === 'kill') u.kill();
    else if (a === 'quarantine') u.quarantine();
    else if ('escalate' in a) {
      if ((await u.migrate(a.escalate)) === undefined) throw new Error('not moved');
    } else u.throttle(a.throttle);
  }
}
