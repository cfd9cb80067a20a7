/**
 * The guest side of an isolated unit, the same in every tier: SES `lockdown()` once per
 * process (or thread), then one Compartment per unit whose only endowment is `unit`, its API
 * over plain data. Tier 0 runs it in the host's process; tiers 1 and 2 run it in a worker
 * thread or a child process (worker-entry.ts, child-entry.ts), behind the thread or process
 * boundary as a second wall.
 *
 * Inside the compartment there is no `require`, `import`, `process`, timer or shared global;
 * the intrinsics are frozen; `Date.now()` and `Math.random()` throw, unless the deterministic
 * mode replaces them with a logical clock (events handled so far) and a seeded generator.
 * A unit given as an ES module is checked and rewritten into the same script form first,
 * here in the guest that runs it (module-source.ts), whatever its host checked.
 */
import { RecordEvent, ViewEvent } from './guest-event.js';
import { GuestState } from './guest-state.js';
import type { EventView } from '../index.js';
import type { ExportMode, GuestInit, PartLabelRequest, StateSnapshot } from './protocol.js';

interface Ses {
  lockdown(options?: Record<string, string>): void;
  harden<T>(x: T): T;
  Compartment: new (options: Record<string, unknown>) => {
    evaluate(source: string, options?: Record<string, unknown>): unknown;
  };
}

let ses: Ses | undefined;
/** module-source.ts's `moduleToScript`, loaded where a module unit runs (acorn: ≈ 20 ms). */
let toScript: ((source: string) => string) | undefined;

/**
 * Lock down this realm once (≈ 15–30 ms) and return the SES globals. Never called at import
 * time: only when a tier-0 unit starts, or in a tier-1/2 guest. A realm that someone else
 * already locked down is used as it is. Given the `init` of an ES-module unit, the module
 * checker is loaded first (before the lockdown, like the rest of the guest's own code).
 */
export async function ensureLockdown(init?: GuestInit): Promise<Ses> {
  if (init?.format === 'module') toScript ??= (await import('./module-source.js')).moduleToScript;
  if (ses !== undefined) return ses;
  await import('ses');
  const g = globalThis as unknown as Ses;
  if (!Object.isFrozen(Object.prototype)) {
    g.lockdown({
      // The host's own code (errors, stacks, console, node:test) keeps working as before;
      // guests never see a host error object (see unitApi).
      errorTaming: 'unsafe',
      stackFiltering: 'verbose',
      overrideTaming: 'severe',
      consoleTaming: 'unsafe',
      domainTaming: 'unsafe',
    });
  }
  // Once per realm: the classes of what handlers receive are shared by every guest here.
  g.harden(ViewEvent);
  g.harden(RecordEvent);
  ses = g;
  return g;
}

/** mulberry32: a small seeded generator for the deterministic mode (not for cryptography). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Handler = (event: ViewEvent | RecordEvent) => void;

/**
 * Tier 0's receiver of one subscription, built in the unit's compartment from this text (ours,
 * not the code's: it reads no global, only its parameters), so that each unit gets its own
 * compiled copy: its call to the handler then always meets the same function, and V8 can inline
 * the handler there instead of going through a generic call. The code cannot reach the
 * receiver nor the view it is given (the engine holds the one, the other is a local): it
 * receives the ViewEvent, as from `deliver`.
 */
const RECEIVER = `(handler, clock, View, failed) => (view) => {
  clock.n++;
  try {
    handler(new View(view));
  } catch {
    failed();
  }
}`;

/** Receiver texts made so far (each guest's is numbered). */
let receivers = 0;

type MakeReceiver = (
  handler: Handler,
  clock: { n: number },
  view: typeof ViewEvent,
  failed: () => void,
) => (view: EventView) => void;

/** Receives each publish of a guest, in order, while its handler runs. */
export type Emit = (
  topic: string,
  parts: Readonly<Record<string, unknown>>,
  labels: Readonly<Record<string, PartLabelRequest>> | undefined,
) => void;

/**
 * Receives each one-part publish (`unit.publishPart`) of a guest; without one, the guest hands
 * it to Emit as a one-part object.
 */
export type EmitPart = (
  topic: string,
  name: string,
  value: unknown,
  label: PartLabelRequest | undefined,
) => void;

function isNames(x: unknown): x is readonly string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

/** Checks one part's label request (guest side: errors stay here). */
function checkLabel(r: unknown): PartLabelRequest {
  if (typeof r !== 'object' || r === null) throw new TypeError('a part label is an object');
  const { secrecy, integrity } = r as { secrecy?: unknown; integrity?: unknown };
  if (
    (secrecy !== undefined && !isNames(secrecy)) ||
    (integrity !== undefined && !isNames(integrity))
  )
    throw new TypeError('secrecy and integrity are arrays of tag names');
  return r;
}

/** Checks the optional per-part label requests of a publish (guest side: errors stay here). */
function checkLabels(labels: unknown): Record<string, PartLabelRequest> | undefined {
  if (labels === undefined) return undefined;
  if (typeof labels !== 'object' || labels === null) throw new TypeError('labels is an object');
  for (const r of Object.values(labels) as unknown[]) checkLabel(r);
  return labels as Record<string, PartLabelRequest>;
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0)
    throw new TypeError('a topic is a non-empty string');
}

const isArray = Array.isArray;

/** The parts of `unit.publish`: an object of name → value. */
function checkParts(parts: unknown): void {
  if (typeof parts !== 'object' || parts === null || isArray(parts))
    throw new TypeError('parts is an object of name → value');
}

/**
 * One unit's code in its compartment. `emit` receives each publish, in order, while the
 * handler runs (the parts object as the code gave it: the receiver copies what it keeps), and
 * `emitPart`, if given, each one-part publish (else `emit` gets them as one-part objects).
 */
export class Guest {
  readonly subscriptions: string[] = [];
  readonly #handlers: Handler[] = [];
  readonly #receiver: MakeReceiver;
  /** Events handled so far (the deterministic mode's clock); a cell the receivers count in. */
  readonly #clock = { n: 0 };
  /** The unit's key-value state (`unit.state`), which moves with it between tiers. */
  readonly state = new GuestState();

  constructor(s: Ses, init: GuestInit, emit: Emit, emitPart?: EmitPart) {
    let loading = true;
    const part: EmitPart =
      emitPart ??
      ((topic, name, value, label) => {
        // Computed keys define own data properties: a part called '__proto__' stays a part.
        emit(topic, { [name]: value }, label === undefined ? undefined : { [name]: label });
      });
    const subs = this.subscriptions;
    const handlers = this.#handlers;
    // Every function here is hardened and throws only errors of the shared (frozen) intrinsics.
    const unit = s.harden({
      subscribe(topic: unknown, handler: unknown): void {
        if (!loading) throw new Error('subscribe only while the unit loads');
        if (typeof topic !== 'string' || topic.length === 0)
          throw new TypeError('a topic is a non-empty string');
        if (typeof handler !== 'function') throw new TypeError('a handler is a function');
        subs.push(topic);
        handlers.push(handler as Handler);
      },
      publish(topic: unknown, parts: unknown, labels?: unknown): void {
        // The common call (a topic, an object, no labels) in one test; the rest checks in order.
        if (
          typeof topic !== 'string' ||
          topic.length === 0 ||
          typeof parts !== 'object' ||
          parts === null ||
          labels !== undefined ||
          isArray(parts)
        ) {
          checkTopic(topic);
          checkParts(parts);
          emit(topic, parts as Record<string, unknown>, checkLabels(labels));
        } else emit(topic, parts as Record<string, unknown>, undefined);
      },
      /** Publish an event of one part: the same as publish(topic, { [name]: value }), with no object to build. */
      publishPart(topic: unknown, name: unknown, value: unknown, label?: unknown): void {
        checkTopic(topic);
        if (typeof name !== 'string') throw new TypeError('a part name is a string');
        part(topic, name, value, label === undefined ? undefined : checkLabel(label));
      },
      state: this.state.api,
    });
    const globals: Record<string, unknown> = { unit };
    if (init.deterministic) {
      const math: Record<string, unknown> = {};
      for (const k of Object.getOwnPropertyNames(Math))
        math[k] = (Math as unknown as Record<string, unknown>)[k];
      math.random = seeded(init.seed);
      globals.Math = s.harden(math);
      globals.Date = s.harden({ now: () => this.#clock.n });
    }
    // An ES module is checked and rewritten here too, in the guest that runs it (module-source.ts).
    const isModule = init.format === 'module';
    if (isModule && toScript === undefined) throw new Error('ensureLockdown(init) loads modules');
    const body = isModule && toScript !== undefined ? toScript(init.source) : init.source;
    const c = new s.Compartment({ globals, __options__: true });
    try {
      // `unit` is a parameter, not only a global: a compartment's globals are reached through a
      // scope proxy (slow on the hot path); a parameter is a plain local. The wrapper changes no
      // authority: anything the code does, it does inside this compartment.
      // A module's direct `eval(` calls were refused by the parse: SES's guess by text is not needed.
      const load = c.evaluate(
        `(function (unit) {\n${body}\n})`,
        isModule ? { __rejectSomeDirectEvalExpressions__: false } : {},
      ) as (u: unknown) => void;
      load(unit);
    } finally {
      loading = false;
    }
    // A text of its own per guest: V8 caches what it compiled by source text, and a shared copy
    // would have one call site for every unit's handler again.
    this.#receiver = c.evaluate(`/* ${String(++receivers)} */ ${RECEIVER}`) as MakeReceiver;
  }

  /**
   * Tier 0: what the engine calls with each view of subscription `sub` (at the unit's label):
   * the same as `deliver(sub, new ViewEvent(view))`, with `failed()` called when the handler
   * throws (the error stays in the guest).
   */
  receiver(sub: number, failed: () => void): (view: EventView) => void {
    const h = this.#handlers[sub];
    if (h === undefined) return () => undefined;
    return this.#receiver(h, this.#clock, ViewEvent, failed);
  }

  /** The unit's state and logical clock, to move it to another tier (see ExportMode). */
  snapshot(mode: ExportMode = 'full'): StateSnapshot {
    if (mode === 'delta') return { ...this.state.delta(), clock: this.#clock.n };
    if (mode === 'track') this.state.track();
    return { entries: this.state.entries(), clock: this.#clock.n };
  }

  /** Take over a migrated unit's state and clock (before its first event here). */
  restore(s: StateSnapshot): void {
    if (s.deleted === undefined) this.state.replace(s.entries);
    else this.state.patch(s.entries, s.deleted);
    this.#clock.n = s.clock;
  }

  /**
   * Run the handler of subscription `sub` for one event; false if it threw (the error stays in
   * the guest). `event`'s values are deeply frozen already (see guest-event.ts).
   */
  deliver(sub: number, event: ViewEvent | RecordEvent): boolean {
    const h = this.#handlers[sub];
    if (h === undefined) return true;
    this.#clock.n++;
    try {
      h(event);
      return true;
    } catch {
      return false;
    }
  }
}
