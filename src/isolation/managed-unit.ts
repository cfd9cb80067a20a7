/**
 * `managedUnit`: an isolated unit the host can watch (probes), restrain (throttle,
 * quarantine, kill) and move with its state between tiers while it runs (live migration).
 *
 * The engine side (the unit's context, its subscriptions, the publisher that builds its
 * outputs at its label) stays put; only the backend running the code changes. A migration:
 * start the new backend first (pre-warmed: the unit keeps running meanwhile), then pause
 * (deliveries are buffered in order), drain the old backend (every event it was given is
 * handled and its outputs published), move the state (unit.state and the logical clock), start
 * delivering to the new backend (the buffer first), stop the old. No event is lost or handled
 * twice, and the order of deliveries, hence per producer, is kept.
 */
import { ConfigError, type Engine, type EventView, type UnitContext } from '../index.js';
import { IsolationError, Publisher, limitsOf, type IsolatedUnitSpec } from './isolated-unit.js';
import { guestInit, measure } from './unit-code.js';
import { probeValues, type ProbeValues } from './probes.js';
import type { GuestInit } from './protocol.js';
import type { EndReason, RemoteLimits } from './remote-guest.js';
import { OutputGate } from './output-gate.js';
import type { TransportFactory } from './tier3-transport.js';
import { startBackend, type Backend, type BackendHooks, type ManagedTier } from './unit-backend.js';

export interface ManagedUnitSpec extends Omit<IsolatedUnitSpec, 'tier'> {
  readonly tier: ManagedTier;
  /** How to reach tier 3 (another machine); needed to start in, or move to, tier 3. */
  readonly transport?: TransportFactory;
  /**
   * Events a quarantine keeps for the unit (default 100 000). One more ends the unit
   * (`ended` = 'overflow', audited): its kept input is dropped rather than let grow without
   * bound, and nothing upstream is held up (a quarantine may last forever, so it does not
   * apply backpressure to the unit's producers).
   */
  readonly keptInput?: number;
}

const DEFAULT_KEPT_INPUT = 100_000;

/** One migration, as `unit.history` and `onMigrated` show it (never a state value). */
export interface MigrationRecord {
  readonly from: ManagedTier;
  readonly to: ManagedTier;
  readonly measurement: string;
  /** Input paused: drain, state transfer, switch-over (ms). */
  readonly pauseMs: number;
  /** Whole move, including starting the new tier (ms). */
  readonly totalMs: number;
  /** Keys of state moved, and events buffered during the pause. */
  readonly keys: number;
  readonly buffered: number;
}

type Listener<T> = (x: T) => void;

export class ManagedUnit {
  readonly name: string;
  readonly measurement: string;
  readonly #engine: Engine;
  readonly #ctx: UnitContext;
  readonly #init: GuestInit;
  readonly #limits: RemoteLimits;
  readonly #transport: TransportFactory | undefined;
  readonly #keptInput: number;
  readonly #gate = new OutputGate();
  readonly #out: Publisher;
  readonly #valve: { close(): void; open(): void };
  readonly #history: MigrationRecord[] = [];
  readonly #migrated = new Set<Listener<MigrationRecord>>();
  readonly #probed = new Set<Listener<ProbeValues>>();
  #backend!: Backend;
  /** Deliveries kept while paused (a move) or quarantined, in order. */
  #inbox: { s: number; view: EventView }[] = [];
  #paused = false;
  #quarantined = false;
  #stopping = false;
  #moving: Promise<unknown> = Promise.resolve();
  #ended: EndReason | undefined;
  #probes: ProbeValues | undefined;

  private constructor(engine: Engine, ctx: UnitContext, spec: ManagedUnitSpec, init: GuestInit) {
    this.#engine = engine;
    this.#ctx = ctx;
    this.name = ctx.id;
    this.#init = init;
    this.measurement = measure(spec.source);
    this.#limits = limitsOf(spec.limits);
    this.#transport = spec.transport;
    this.#keptInput = spec.keptInput ?? DEFAULT_KEPT_INPUT;
    this.#out = new Publisher(engine, ctx, spec.tags ?? {});
    this.#valve = engine.valve();
  }

  /** Start a unit's code in `spec.tier`, watched; resolves once it has loaded and subscribed. */
  static async start(engine: Engine, spec: ManagedUnitSpec): Promise<ManagedUnit> {
    const t: unknown = spec.tier;
    if (t !== 0 && t !== 1 && t !== 2 && t !== 3) throw new ConfigError('tier must be 0 to 3');
    const init = guestInit(spec);
    limitsOf(spec.limits);
    const kept: unknown = spec.keptInput;
    if (kept !== undefined && (!Number.isSafeInteger(kept) || (kept as number) < 1))
      throw new ConfigError('keptInput must be a positive integer');
    const ctx = engine.unit({
      name: spec.name,
      ...(spec.label === undefined ? {} : { label: spec.label }),
      ...(spec.privileges === undefined ? {} : { privileges: spec.privileges }),
    });
    const u = new ManagedUnit(engine, ctx, spec, init);
    const b = await u.#start(spec.tier);
    if (typeof b === 'string') {
      ctx.close();
      u.#audit('unit-stopped', `tier ${spec.tier} ${u.measurement}: ${b}`);
      throw new IsolationError(`unit '${ctx.id}': ${b}`);
    }
    u.#backend = b;
    u.#audit('unit-isolated', `start tier ${spec.tier} ${u.measurement} (managed)`);
    b.subs.forEach((topic, i) => {
      ctx.subscribe(topic, (view) => {
        u.#receive(i, view);
      });
    });
    return u;
  }

  get tier(): ManagedTier {
    return this.#backend.tier;
  }
  get ended(): EndReason | undefined {
    return this.#ended;
  }
  get history(): readonly MigrationRecord[] {
    return [...this.#history];
  }
  /** The latest probe window (undefined before the first 64 events). */
  get probes(): ProbeValues | undefined {
    return this.#probes;
  }
  get quarantined(): boolean {
    return this.#quarantined;
  }
  /** Outputs per second the unit is throttled to (undefined: not throttled). */
  get throttled(): number | undefined {
    return this.#gate.rate;
  }

  onMigrated(f: Listener<MigrationRecord>): () => void {
    this.#migrated.add(f);
    return () => this.#migrated.delete(f);
  }
  /** Called with each probe window (inside the unit's delivery: defer any heavy work). */
  onProbe(f: Listener<ProbeValues>): () => void {
    this.#probed.add(f);
    return () => this.#probed.delete(f);
  }

  #receive(s: number, view: EventView): void {
    if (this.#ended !== undefined || this.#stopping) return;
    if (this.#quarantined && this.#inbox.length >= this.#keptInput) {
      this.#backend.stop();
      this.#end(
        'overflow',
        `killed tier ${this.tier} ${this.measurement}: quarantine kept ${String(this.#keptInput)} events`,
      );
    } else if (this.#paused || this.#quarantined) this.#inbox.push({ s, view });
    else this.#deliver(s, view);
  }

  #deliver(s: number, view: EventView): void {
    if (!this.#backend.deliver(s, view) && this.#backend.ended === undefined)
      this.#out.overloaded();
  }

  /** An output the gate keeps is copied now (the code may change its object later). */
  #keep(publish: () => void): void {
    if (!this.#gate.keep(publish)) this.#out.handlerErrors(1);
  }

  #hooks(tier: ManagedTier): BackendHooks {
    const out = this.#out;
    // The guest's heap before its first event in this backend (each tier has its own heap).
    let heapBase = -1;
    return {
      output: (t, p, l) => {
        if (this.#gate.open) {
          out.publish(t, p, l);
          return;
        }
        let copy: { p: Record<string, unknown>; l: typeof l };
        try {
          copy = structuredClone({ p: { ...p }, l });
        } catch {
          out.handlerErrors(1); // not plain data: dropped, as the engine would refuse it
          return;
        }
        this.#keep(() => {
          out.publish(t, copy.p, copy.l);
        });
      },
      outputParts: (t, names, values, labels) => {
        if (this.#gate.open) out.publishParts(t, names, values, labels);
        else
          this.#keep(() => {
            out.publishParts(t, names, values, labels);
          });
      },
      errors: (n) => {
        out.handlerErrors(n);
      },
      full: (on) => {
        if (on) this.#valve.close();
        else this.#valve.open();
      },
      heap: (bytes) => {
        if (heapBase < 0) heapBase = bytes;
      },
      window: (w, heap) => {
        const v = probeValues(tier, w, heap, heapBase);
        this.#probes = v;
        for (const f of this.#probed) f(v);
      },
      ended: (why) => {
        this.#end(why, `killed tier ${tier} ${this.measurement}: ${why}`);
      },
    };
  }

  #start(tier: ManagedTier): Promise<Backend | string> {
    return startBackend(tier, this.#init, this.#limits, this.#hooks(tier), this.#transport);
  }

  #audit(kind: 'unit-isolated' | 'unit-stopped' | 'unit-migrated', op: string): void {
    this.#engine.audit.record({ kind, unit: this.#ctx.id, op, from: this.#ctx.label.toString() });
  }

  #end(why: EndReason, op: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = why;
    this.#inbox = [];
    this.#ctx.close();
    this.#gate.close();
    this.#valve.open();
    this.#audit('unit-stopped', op);
  }

  /**
   * Move the unit, with its state, to tier `to` (a no-op if it is there). Resolves with the
   * record of the move; rejects (IsolationError) if the new tier did not start, in which case
   * the unit keeps running where it was, or if the unit ended during the move.
   */
  migrate(to: ManagedTier): Promise<MigrationRecord | undefined> {
    const run = this.#moving.then(() => this.#migrate(to));
    this.#moving = run.catch(() => undefined);
    return run;
  }

  async #migrate(to: ManagedTier): Promise<MigrationRecord | undefined> {
    const from = this.#backend.tier;
    if (to === from || this.ended !== undefined) return undefined;
    const t0 = performance.now();
    const next = await this.#start(to);
    if (typeof next === 'string') throw new IsolationError(`unit '${this.name}': ${next}`);
    const old = this.#backend;
    if (this.#ended !== undefined || next.subs.join('\n') !== old.subs.join('\n')) {
      next.stop();
      throw new IsolationError(`unit '${this.name}': not moved (ended, or subscribed differently)`);
    }
    let keys: number;
    let t1: number;
    try {
      // Pre-copy while the unit runs: all of its state now, then (paused) only what changed.
      const copy = await old.exportState('track');
      keys = copy.entries.length;
      next.importState(copy);
      t1 = performance.now();
      this.#paused = true;
      await old.drained();
      if (old.ended !== undefined) throw new Error('ended');
      next.importState(await old.exportState('delta'));
    } catch {
      next.stop();
      this.#paused = false;
      this.#end(old.ended ?? 'exit', `killed tier ${from} ${this.measurement}: during a move`);
      throw new IsolationError(`unit '${this.name}': ended while moving`);
    }
    old.stop();
    this.#backend = next;
    this.#paused = false;
    const buffered = this.#inbox.length;
    if (!this.#quarantined) this.#flushInbox();
    const t2 = performance.now();
    const rec: MigrationRecord = {
      from,
      to,
      measurement: this.measurement,
      pauseMs: t2 - t1,
      totalMs: t2 - t0,
      keys,
      buffered,
    };
    this.#history.push(rec);
    this.#audit(
      'unit-migrated',
      `tier ${from} → ${to} ${this.measurement}: paused ${rec.pauseMs.toFixed(1)} ms, ${keys} keys`,
    );
    for (const f of this.#migrated) f(rec);
    return rec;
  }

  #flushInbox(): void {
    const inbox = this.#inbox;
    this.#inbox = [];
    for (const { s, view } of inbox) this.#deliver(s, view);
  }

  /** Release its outputs at no more than `outputsPerSec` (in order, evenly spaced). */
  throttle(outputsPerSec: number): void {
    if (!(outputsPerSec > 0) || !Number.isFinite(outputsPerSec))
      throw new ConfigError('a throttle is a positive number of outputs per second');
    this.#gate.throttle(outputsPerSec);
  }

  /** Stop delivering its outputs and its input; both are kept, in order, until release(). */
  quarantine(): void {
    this.#quarantined = true;
    this.#gate.hold();
  }

  /** End a quarantine: the kept input is delivered, the kept outputs released. */
  release(): void {
    if (!this.#quarantined || this.#ended !== undefined) return;
    this.#quarantined = false;
    this.#gate.unhold();
    if (!this.#paused) this.#flushInbox();
  }

  /** Resolves when every event delivered so far is handled and its outputs are published
   * (outputs held by a quarantine excepted). */
  async idle(): Promise<void> {
    await this.#engine.idle();
    await this.#moving;
    await this.#backend.drained();
    await this.#gate.drained();
  }

  ready(): Promise<void> {
    return this.#backend.ready();
  }

  /** Stop: what was delivered is handled first (a quarantined unit's kept input is dropped). */
  async stop(): Promise<void> {
    await this.#moving;
    if (this.#ended !== undefined || this.#stopping) return;
    this.#stopping = true;
    await this.#backend.drained();
    this.#backend.stop();
    if (!this.#quarantined) await this.#gate.drained();
    this.#end('stopped', `stop tier ${this.tier} ${this.measurement}`);
  }

  /** Kill now: its backlog and kept outputs are dropped (audited). */
  kill(): void {
    if (this.#ended !== undefined) return;
    this.#backend.stop();
    this.#end('stopped', `killed tier ${this.tier} ${this.measurement}: by the agent`);
  }
}

/** Start a managed unit (see ManagedUnit). */
export function managedUnit(engine: Engine, spec: ManagedUnitSpec): Promise<ManagedUnit> {
  return ManagedUnit.start(engine, spec);
}
