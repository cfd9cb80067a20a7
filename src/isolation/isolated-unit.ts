/**
 * `isolatedUnit`: run a unit's code, given as source text, in isolation tier 0, 1 or 2, behind
 * one protocol (protocol.ts). The code never holds a Label, Privilege, Tag, Event or engine
 * object: it subscribes and publishes plain data through `unit`, and the host does every label
 * check on its side:
 * - inbound, the engine delivers each event to the host's end at the unit's label, so only
 *   the parts the unit may see are projected (hidden parts never cross), as plain data;
 * - outbound, each publish comes back as plain data and the host builds the event at the
 *   unit's label (tag names the code uses are mapped by `spec.tags`), so the write rule and
 *   every other check of the engine apply as for any unit.
 * The code's measurement (sha256 of the source) is recorded in the audit log when it starts.
 */
import {
  ConfigError,
  Label,
  SluiceError,
  type Engine,
  type Event,
  type Privilege,
  type Subscription,
  type Tag,
  type UnitContext,
} from '../index.js';
import { ensureLockdown, Guest } from './guest.js';
import type { PartLabelRequest } from './protocol.js';
import { registerPipeEnd } from './pipe.js';
import { guestInit, measure, type UnitCode } from './unit-code.js';
import { RemoteGuest, type EndReason, type RemoteLimits } from './remote-guest.js';

export type Tier = 0 | 1 | 2;

/** Limits of tiers 1 and 2 (tier 0 has none: an infinite loop there hangs the process). */
export type IsolationLimits = Partial<RemoteLimits>;

/** A unit's code (`source`, `format`, deterministic mode) and where and how it runs. */
export interface IsolatedUnitSpec extends UnitCode {
  readonly name: string;
  readonly label?: Label;
  readonly privileges?: Iterable<Privilege>;
  readonly tier: Tier;
  /** Tag names the code may use in part labels. */
  readonly tags?: Readonly<Record<string, Tag>>;
  readonly limits?: IsolationLimits;
}

export interface IsolatedUnit {
  readonly name: string;
  readonly tier: Tier;
  /** `sha256:<hex>` of the source. */
  readonly measurement: string;
  /** Why the unit ended (undefined while it runs). */
  readonly ended: EndReason | undefined;
  /** Events delivered to the unit and not yet handled (tier 0: always 0; bounded in tiers 1, 2). */
  readonly backlog: number;
  /** Resolves when every event delivered so far is handled and its publishes are made. */
  idle(): Promise<void>;
  /** Resolves when the unit's backlog is small enough to send it more (backpressure). */
  ready(): Promise<void>;
  /** Stop: no more deliveries; what was delivered is handled first; then the guest ends. */
  stop(): Promise<void>;
}

/** An isolated unit could not start (its code failed to load, or the guest did not start). */
export class IsolationError extends SluiceError {
  constructor(message: string) {
    super('E_ISOLATION', message);
  }
}

/**
 * Object.prototype.hasOwnProperty, called with `.call` on the code's objects (never their own
 * property): inside a for-in over the same object V8 folds `hasOwn.call(o, key)` to a map check.
 */
// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call
const hasOwn = Object.prototype.hasOwnProperty;

const DEFAULT_LIMITS: RemoteLimits = {
  memoryMb: 64,
  eventBudgetMs: 5,
  heartbeatMs: 1000,
  startMs: 10_000,
  batchSize: 512,
  maxInFlight: 4,
};

export function limitsOf(given: IsolationLimits | undefined): RemoteLimits {
  const l = { ...DEFAULT_LIMITS, ...given };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`limit ${k} must be a positive integer`);
  }
  return l;
}

/** Builds and publishes the events of a unit's outputs, at its label, on the host side. */
export class Publisher {
  readonly #ctx: UnitContext;
  readonly #engine: Engine;
  readonly #tags: Readonly<Record<string, Tag>>;
  readonly #labels = new Map<string, Label>();

  constructor(engine: Engine, ctx: UnitContext, tags: Readonly<Record<string, Tag>>) {
    this.#engine = engine;
    this.#ctx = ctx;
    this.#tags = tags;
  }

  #label(r: PartLabelRequest | undefined): Label | undefined {
    if (r === undefined) return undefined;
    const key = JSON.stringify([r.secrecy ?? [], r.integrity ?? []]);
    let l = this.#labels.get(key);
    if (l === undefined) {
      const tag = (n: string): Tag => {
        const t = Object.hasOwn(this.#tags, n) ? this.#tags[n] : undefined;
        // The name is chosen by the code: never echoed.
        if (t === undefined) throw new ConfigError('a part label names a tag the host did not map');
        return t;
      };
      l = Label.of({
        secrecy: (r.secrecy ?? []).map(tag),
        integrity: (r.integrity ?? []).map(tag),
      });
      this.#labels.set(key, l);
    }
    return l;
  }

  /** The label requested for part `name` (undefined: the unit's label). */
  #partLabel(l: unknown, name: string): Label | undefined {
    if (l === undefined || !Object.hasOwn(l as object, name)) return undefined;
    return this.#label((l as Record<string, PartLabelRequest>)[name]);
  }

  /** Publish one output of tier 0 (the code's own object, read now). */
  publish(
    t: string,
    p: Readonly<Record<string, unknown>>,
    l: Readonly<Record<string, PartLabelRequest>> | undefined,
  ): void {
    if (l !== undefined) {
      this.#publishLabelled(t, p, l);
      return;
    }
    const ctx = this.#ctx;
    try {
      const ev = ctx.event();
      // The names of Object.keys (own, enumerable, strings), in its order: for-in with an own
      // check, which V8 folds away when for-in runs on the object's enum cache (then every name
      // is own); no array is made and no prototype is looked up.
      for (const name in p) if (hasOwn.call(p, name)) ev.add(name, p[name]);
      ctx.publish(t, ev);
    } catch (e) {
      this.#refused(e);
    }
  }

  /** `publish` with per-part label requests (kept apart: the common path stays small). */
  #publishLabelled(
    t: string,
    p: Readonly<Record<string, unknown>>,
    l: Readonly<Record<string, PartLabelRequest>>,
  ): void {
    const ctx = this.#ctx;
    try {
      const ev = ctx.event();
      for (const name in p) {
        if (hasOwn.call(p, name)) ev.add(name, p[name], this.#partLabel(l, name));
      }
      ctx.publish(t, ev);
    } catch (e) {
      this.#refused(e);
    }
  }

  /** Publish one one-part output of tier 0 (`unit.publishPart`; `l` checked for shape by the guest). */
  publishPart(t: string, name: string, value: unknown, l: PartLabelRequest | undefined): void {
    const ctx = this.#ctx;
    try {
      const ev = ctx.event();
      // Without a label request, no label lookup (kept off the common path: smaller code).
      ctx.publish(t, l === undefined ? ev.add(name, value) : this.#labelled(ev, name, value, l));
    } catch (e) {
      this.#refused(e);
    }
  }

  #labelled(ev: Event, name: string, value: unknown, l: PartLabelRequest): Event {
    return ev.add(name, value, this.#label(l));
  }

  /** Publish one decoded output of tier 1 or 2 (`labels` is untrusted: checked here). */
  publishParts(
    t: string,
    names: readonly string[],
    values: readonly unknown[],
    labels: unknown,
  ): void {
    const ctx = this.#ctx;
    try {
      const ev = ctx.event();
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        ev.add(name, values[i], this.#partLabel(labels, name));
      }
      ctx.publish(t, ev);
    } catch (e) {
      this.#refused(e);
    }
  }

  /** A refused publish: audited (by the engine or here) and dropped. */
  #refused(e: unknown): void {
    const ctx = this.#ctx;
    this.#engine.audit.record({
      kind: 'unit-error',
      unit: ctx.id,
      op:
        e instanceof SluiceError
          ? `isolated publish refused (${e.code})`
          : 'isolated publish refused',
      from: ctx.label.toString(),
    });
  }

  /** An event refused because the unit's backlog is at its hard limit (its producers ignored backpressure). */
  overloaded(): void {
    this.#engine.audit.record({
      kind: 'unit-error',
      unit: this.#ctx.id,
      op: 'isolated unit overloaded: an event was refused',
      from: this.#ctx.label.toString(),
    });
  }

  handlerErrors(n: number): void {
    for (let i = 0; i < n; i++) {
      this.#engine.audit.record({
        kind: 'unit-error',
        unit: this.#ctx.id,
        op: 'an isolated handler threw',
        from: this.#ctx.label.toString(),
      });
    }
  }
}

/** Start a unit's code in isolation `tier`; resolves once it has loaded and subscribed. */
export async function isolatedUnit(engine: Engine, spec: IsolatedUnitSpec): Promise<IsolatedUnit> {
  const tier = spec.tier;
  const t: unknown = tier;
  if (t !== 0 && t !== 1 && t !== 2) throw new ConfigError('tier must be 0, 1 or 2');
  const init = guestInit(spec);
  const limits = limitsOf(spec.limits);
  const measurement = measure(spec.source);
  const ctx = engine.unit({
    name: spec.name,
    ...(spec.label === undefined ? {} : { label: spec.label }),
    ...(spec.privileges === undefined ? {} : { privileges: spec.privileges }),
  });
  const out = new Publisher(engine, ctx, spec.tags ?? {});
  const audit = (kind: 'unit-isolated' | 'unit-stopped', op: string): void => {
    engine.audit.record({ kind, unit: ctx.id, op, from: ctx.label.toString() });
  };
  const subscriptions: Subscription[] = [];
  const fail = (what: string): never => {
    ctx.close();
    audit('unit-stopped', `tier ${tier} ${measurement}: ${what}`);
    throw new IsolationError(`unit '${ctx.id}': ${what}`);
  };

  if (tier === 0) {
    const s = await ensureLockdown(init);
    let guest: Guest;
    try {
      guest = new Guest(
        s,
        init,
        (t, p, l) => {
          out.publish(t, p, l);
        },
        (t, name, value, l) => {
          out.publishPart(t, name, value, l);
        },
      );
    } catch {
      return fail('its code failed to load');
    }
    audit('unit-isolated', `start tier 0 ${measurement}`);
    const failed = (): void => {
      out.handlerErrors(1);
    };
    guest.subscriptions.forEach((topic, i) => {
      subscriptions.push(ctx.subscribe(topic, guest.receiver(i, failed)));
    });
    let stopped = false;
    return Object.freeze({
      name: ctx.id,
      tier,
      measurement,
      get ended() {
        return stopped ? ('stopped' as const) : undefined;
      },
      backlog: 0,
      idle: () => engine.idle(),
      ready: () => Promise.resolve(),
      stop: () => {
        if (!stopped) {
          stopped = true;
          ctx.close();
          audit('unit-stopped', `stop tier 0 ${measurement}`);
        }
        return Promise.resolve();
      },
    });
  }

  const valve = engine.valve();
  const remote = new RemoteGuest(limits, {
    output: (t, names, values, labels) => {
      out.publishParts(t, names, values, labels);
    },
    errors: (n) => {
      out.handlerErrors(n);
    },
    full: (on) => {
      if (on) valve.close();
      else valve.open();
    },
    ended: (why: EndReason) => {
      if (!started) return; // a failed start is audited by fail() below
      for (const sub of subscriptions) sub.unsubscribe();
      ctx.close();
      audit('unit-stopped', `killed tier ${tier} ${measurement}: ${why}`);
    },
  });
  let started = false;
  const subs = await remote.start(tier, init);
  if (subs === null)
    return fail(
      remote.ended === 'start'
        ? 'its code failed to load or start'
        : `the guest ended (${remote.ended ?? 'exit'})`,
    );
  started = true;
  audit('unit-isolated', `start tier ${tier} ${measurement}`);
  subs.forEach((topic, i) => {
    subscriptions.push(
      ctx.subscribe(topic, (view) => {
        if (!remote.enqueue(i, view) && remote.ended === undefined) out.overloaded();
      }),
    );
  });
  const low = limits.batchSize * limits.maxInFlight;
  const handle: IsolatedUnit = Object.freeze({
    name: ctx.id,
    tier,
    measurement,
    get ended() {
      return remote.ended;
    },
    get backlog() {
      return remote.backlog;
    },
    idle: async () => {
      await engine.idle();
      await remote.below(0);
    },
    ready: () => remote.below(low),
    stop: async () => {
      if (remote.ended !== undefined) return;
      for (const sub of subscriptions) sub.unsubscribe();
      await remote.below(0);
      // The guest may have ended (been killed) while draining.
      if ((remote.ended as EndReason | undefined) !== undefined) return;
      remote.stop();
      ctx.close();
      audit('unit-stopped', `stop tier ${tier} ${measurement}`);
    },
  });
  if (tier === 1) registerPipeEnd(handle, { engine, remote, id: ctx.id, label: ctx.label, subs });
  return handle;
}
