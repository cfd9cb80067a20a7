import { ConfigError, OverloadError } from '../errors.js';
import {
  FlowViolationError,
  Label,
  MalformedInputError,
  PrivilegeSet,
  createTagTCB,
  deriveTagWithPrivilegesTCB,
  partLabelTCB,
  partNameTCB,
  readPartTCB,
  type Privilege,
  type Tag,
} from '../tcb/index.js';
import { AuditLog, type AuditLogOptions } from './audit-log.js';
import * as events from './event.js';
import type { Event } from './event.js';
import { createSink, deliverToSink, isSinkTCB, type Sink, type SinkRecord } from './sink.js';
import {
  Subscription,
  UnitContext,
  UnitState,
  checkPublish,
  type EngineInternals,
  type Filter,
  type Handler,
  type SubRecord,
  type TopicRecord,
} from './unit-context.js';

export interface EngineOptions {
  /** Label checks (default true). `false` exists only to measure their cost; it is audited. */
  readonly checks?: boolean;
  /** Queue length above which `publish` returns false (backpressure). Default 16384. */
  readonly highWater?: number;
  /** Deliveries per turn of the event loop before yielding to I/O. Default 4096. */
  readonly batchSize?: number;
  readonly audit?: AuditLog | AuditLogOptions;
}

export interface UnitSpec {
  /** Unique id of the unit (public: used in grants and the audit log). */
  readonly name: string;
  /** Initial label (default public). */
  readonly label?: Label;
  /** Privileges the host gives the unit (genuine Privilege objects it holds). */
  readonly privileges?: Iterable<Privilege>;
  /** Called with errors the unit's handlers or filters throw (runs as the unit). */
  readonly onError?: (error: unknown) => void;
}

function grantOf(made: { tag: Tag; privileges: readonly Privilege[] }): TagGrant {
  const { tag, privileges } = made;
  const [plus, minus, plusAuth, minusAuth] = privileges as [
    Privilege,
    Privilege,
    Privilege,
    Privilege,
  ];
  return Object.freeze({ tag, plus, minus, plusAuth, minusAuth, all: privileges });
}

/** A tag created by the host, with the creator's four privileges. */
export interface TagGrant {
  readonly tag: Tag;
  readonly plus: Privilege;
  readonly minus: Privilege;
  readonly plusAuth: Privilege;
  readonly minusAuth: Privilege;
  readonly all: readonly Privilege[];
}

function positiveInt(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${what} must be a positive integer`);
  return v;
}

/** Module constants, not live imports: V8 inlines calls through them unchecked (see event.ts). */
const { eventPartsTCB, eventPresenceTCB, sealEventTCB, viewOfTCB } = events;

/** Out of line (rare): why an event could not be sealed for publishing. */
function notSealable(e: Event): never {
  checkPublish('topic', e);
  throw new MalformedInputError('publish takes an open event created by this unit');
}

/** Deliveries nested deeper than this on the stack go through the queue instead. */
const MAX_DEPTH = 64;
// On the hot path, boolean fields are tested with `=== true`: V8 compiles `if (x.flag)` on a
// field to a generic truthiness test (≈ 12 instructions: false, '', undetectable, number,
// bigint), and `x.flag === true` to one compare (≈ 90 instructions per event, measured).

/**
 * The in-process event engine: units, publish/subscribe, dispatch with backpressure, sinks and
 * the audit log.
 *
 * Dispatch is depth-first and synchronous where it can be (publish calls the subscribers'
 * handlers at once, as RxJS does: no queue, no allocation, and a slow unit slows its producer),
 * and goes through one FIFO queue, drained in batches, when it cannot: a busy (re-entered)
 * unit, a subscription that already has queued deliveries, or a stack deeper than MAX_DEPTH.
 * Each subscription receives events in publish order. Which path a delivery takes depends only
 * on the chain of deliveries that caused it, and a unit is only ever delivered events whose
 * presence flows to it, so the order a unit sees depends only on events it may see, never on
 * how much work units above it do.
 */
export class Engine {
  readonly audit: AuditLog;
  readonly #checks: boolean;
  readonly #highWater: number;
  readonly #lowWater: number;
  readonly #hardLimit: number;
  readonly #batch: number;
  readonly #units = new Map<string, UnitState>();
  readonly #topics = new Map<string, TopicRecord>();
  readonly #internals: EngineInternals;

  #qe: (Event | undefined)[] = new Array<Event | undefined>(1024).fill(undefined);
  #qs: (SubRecord | undefined)[] = new Array<SubRecord | undefined>(1024).fill(undefined);
  #head = 0;
  #size = 0;
  #running = false;
  #scheduled = false;
  #readyWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #delivered = 0;
  #depth = 0;
  /** Valves closed now (see `valve`). */
  #closedValves = 0;

  constructor(options: EngineOptions = {}) {
    this.audit = options.audit instanceof AuditLog ? options.audit : new AuditLog(options.audit);
    this.#checks = options.checks ?? true;
    this.#highWater = positiveInt(options.highWater, 16384, 'highWater');
    this.#lowWater = Math.max(1, this.#highWater >> 1);
    this.#hardLimit = this.#highWater * 8;
    this.#batch = positiveInt(options.batchSize, 4096, 'batchSize');
    if (!this.#checks) {
      this.audit.record({ kind: 'checks-disabled', op: 'engine created with label checks off' });
    }
    this.#internals = {
      audit: this.audit,
      publish: (u, topic, e, presence) => this.#publish(u, topic, e, presence),
      subscribe: (u, topic, handler, filter) => this.#subscribe(u, topic, handler, filter),
      output: (u, sink, e, presence) => {
        this.#output(u, sink, e, presence);
      },
      unitById: (id) => this.#units.get(id),
      createTag: (name, by) => this.#createTag(name, by),
      ready: () => this.ready(),
      close: (u) => {
        this.#close(u);
      },
    };
  }

  /** Are label checks on? */
  get checks(): boolean {
    return this.#checks;
  }

  /** Create a tag as the host (configuration); the host receives its four privileges. */
  createTag(name: string): TagGrant {
    return grantOf(this.#createTag(name, 'host'));
  }

  /**
   * The tag derived from `seed` for `context` (the same in every process: HMAC of the context
   * under the seed), as the host; the holder of the seed receives its four privileges. This is
   * how a pipeline that keeps state in a store gets the same tags, hence the same labels, after
   * a restart: the seed is the authority, so keep it as secret as the data it labels.
   */
  deriveTag(seed: Uint8Array, context: string, name: string): TagGrant {
    const made = deriveTagWithPrivilegesTCB(seed, context, name);
    this.audit.record({
      kind: 'tag-created',
      unit: 'host',
      op: `derive tag ${made.tag.toString()}`,
    });
    return grantOf(made);
  }

  #createTag(name: string, by: string): { tag: Tag; privileges: readonly Privilege[] } {
    const made = createTagTCB(name);
    this.audit.record({ kind: 'tag-created', unit: by, op: `create tag ${made.tag.toString()}` });
    return made;
  }

  /** Start a unit. `setup(ctx)` (optional) subscribes it; the returned context drives it. */
  unit(spec: UnitSpec, setup?: (ctx: UnitContext) => void): UnitContext {
    const s = spec as Partial<UnitSpec> | null;
    if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || s.name.length === 0) {
      throw new ConfigError('a unit needs a non-empty name');
    }
    if (this.#units.has(spec.name))
      throw new ConfigError(`a unit named '${spec.name}' already exists`);
    const label = Label.assert(spec.label ?? Label.public, `label of unit '${spec.name}'`);
    const given: unknown = spec.privileges ?? [];
    if (typeof (given as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new ConfigError('privileges must be an iterable of Privilege objects');
    }
    const privileges = PrivilegeSet.from(given as Iterable<unknown>);
    if (spec.onError !== undefined && typeof spec.onError !== 'function') {
      throw new ConfigError('onError must be a function');
    }
    const u = new UnitState(spec.name, label, privileges, this.audit, this.#checks, spec.onError);
    this.#units.set(u.id, u);
    this.audit.record({
      kind: 'unit-started',
      unit: u.id,
      op: `start with privileges [${privileges.describe().join(' ')}]`,
      to: label.toString(),
    });
    const ctx = new UnitContext(u, this.#internals);
    if (setup !== undefined) setup(ctx);
    return ctx;
  }

  /** A boundary to the world at `label`: only data that may flow to `label` reaches `write`. */
  sink(name: string, label: Label, write: (record: SinkRecord) => void): Sink {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('a sink needs a name');
    Label.assert(label, `label of sink '${name}'`);
    if (typeof write !== 'function') throw new ConfigError('a sink needs a write function');
    return createSink(name, label, write);
  }

  /**
   * A valve for a buffer outside the engine's queue (an isolated unit's backlog): while any
   * valve is closed, `publish` outside dispatch returns false and `ready()` waits, exactly as
   * when the queue is above its high-water mark, so sources slow down for it too.
   */
  valve(): { close(): void; open(): void } {
    let closed = false;
    return Object.freeze({
      close: () => {
        if (!closed) {
          closed = true;
          this.#closedValves++;
        }
      },
      open: () => {
        if (closed) {
          closed = false;
          this.#closedValves--;
          this.#wake();
        }
      },
    });
  }

  /** Resolves when the queue is at or below its low-water mark (and every valve is open). */
  ready(): Promise<void> {
    if (this.#size <= this.#lowWater && this.#closedValves === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Resolves when every queued delivery has been dispatched. */
  idle(): Promise<void> {
    if (this.#size === 0 && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Dispatch everything queued now, synchronously (no-op when called from inside a handler). */
  flush(): void {
    if (this.#running) return;
    while (this.#size > 0) this.#run(this.#batch);
    this.#wake();
  }

  /** Queue length and delivery count, for probes and tests. */
  stats(): { queued: number; delivered: number; units: number } {
    return { queued: this.#size, delivered: this.#delivered, units: this.#units.size };
  }

  #subscribe(
    u: UnitState,
    topic: string,
    handler: Handler,
    filter: Filter | undefined,
  ): Subscription {
    const rec: SubRecord = { active: true, pending: 0, unit: u, handler, filter };
    let t = this.#topics.get(topic);
    if (t === undefined) this.#topics.set(topic, (t = { subs: [] }));
    t.subs.push(rec);
    return new Subscription(rec);
  }

  #close(u: UnitState): void {
    u.closed = true;
    // A topic's record is never replaced (units cache it, see #publish): only its list is.
    for (const t of this.#topics.values()) {
      t.subs = t.subs.filter((s) => {
        if (s.unit !== u) return true;
        s.active = false;
        return false;
      });
    }
    this.#units.delete(u.id);
  }

  #publish(u: UnitState, topic: string, e: Event, presence: Label): boolean {
    if (u.closed || (!this.#running && this.#size >= this.#hardLimit)) {
      this.#refusePublish(u, topic, e);
    }
    // The unit's last topic and its record (records are never replaced): no map lookup and no
    // check when a unit publishes on the same topic again, as most do. A unit's cached topic is
    // set only with its record, so a hit is a checked topic (the initial '' never hits).
    const cached = u.topicRecord;
    const t = u.topic === topic && cached !== undefined ? cached : this.#topicOf(u, topic, e);
    if (!sealEventTCB(e, u, presence, topic)) notSealable(e);
    if (t !== undefined) {
      const subs = t.subs;
      for (let i = 0; i < subs.length; i++) {
        const s = subs[i] as SubRecord;
        // The presence check here is the dispatch-time check for a delivery made at once (nothing
        // runs between it and the handler); queued deliveries are checked again in #run.
        // `a === b ||` before each flowsTo on the hot path: the common case costs no call.
        const to = s.unit.label;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- see MAX_DEPTH
        if (this.#checks === true && presence !== to && !presence.flowsTo(to)) continue;
        if (s.pending === 0 && s.unit.busy === 0 && this.#depth < MAX_DEPTH) this.#deliver(e, s);
        else this.#enqueue(e, s);
      }
    }
    // Inside dispatch the queue holds deliveries to units of every label, so its length would
    // tell a handler how much secret work is pending (a write-down). A handler cannot wait for
    // the queue anyway (dispatch is synchronous): it is told `true`; sources outside dispatch
    // get the real signal.
    return this.#running || (this.#size < this.#highWater && this.#closedValves === 0);
  }

  #topicOf(u: UnitState, topic: string, e: Event): TopicRecord | undefined {
    checkPublish(topic, e);
    const t = this.#topics.get(topic);
    if (t !== undefined) {
      u.topic = topic;
      u.topicRecord = t;
    }
    return t;
  }

  #refusePublish(u: UnitState, topic: string, e: Event): never {
    checkPublish(topic, e);
    if (u.closed) throw new MalformedInputError('this unit is closed');
    throw new OverloadError('dispatch queue full: when publish returns false, await ctx.ready()');
  }

  #output(u: UnitState, sink: Sink, e: Event, presence: Label): void {
    if (!isSinkTCB(sink)) throw new MalformedInputError('output takes a sink from engine.sink()');
    const parts: SinkRecord['parts'][number][] = [];
    const to = sink.label;
    const refuse = (what: string): never => {
      u.audit.record({
        kind: 'refused-output',
        unit: u.id,
        op: `output to sink '${sink.name}': ${what}`,
        from: u.label.toString(),
        to: to.toString(),
      });
      throw new FlowViolationError(
        `output to sink '${sink.name}' at ${to.toString()}: ${what} at ${u.label.toString()} may not flow there`,
      );
    };
    if (this.#checks && !presence.flowsTo(to)) refuse('the event');
    for (const p of eventPartsTCB(e)) {
      const label = partLabelTCB(p);
      const reader = this.#checks ? to : label;
      const value = readPartTCB(p, reader);
      if (value !== undefined) parts.push(Object.freeze({ name: partNameTCB(p), label, value }));
      else if (label.flowsTo(u.label)) refuse('a part this unit can see');
    }
    if (!sealEventTCB(e, u, presence, sink.name)) {
      throw new MalformedInputError('output takes an open event created by this unit');
    }
    try {
      deliverToSink(sink, Object.freeze({ parts: Object.freeze(parts) }));
    } catch {
      u.audit.record({ kind: 'sink-error', unit: u.id, op: `sink '${sink.name}' threw` });
    }
  }

  #enqueue(e: Event, s: SubRecord): void {
    let cap = this.#qe.length;
    if (this.#size === cap) {
      const qe = new Array<Event | undefined>(cap * 2).fill(undefined);
      const qs = new Array<SubRecord | undefined>(cap * 2).fill(undefined);
      for (let i = 0; i < cap; i++) {
        const j = (this.#head + i) & (cap - 1);
        qe[i] = this.#qe[j];
        qs[i] = this.#qs[j];
      }
      this.#qe = qe;
      this.#qs = qs;
      this.#head = 0;
      cap *= 2;
    }
    const t = (this.#head + this.#size) & (cap - 1);
    this.#qe[t] = e;
    this.#qs[t] = s;
    this.#size++;
    s.pending++;
    if (!this.#running && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#tick);
    }
  }

  readonly #tick = (): void => {
    this.#scheduled = false;
    if (this.#running) return;
    this.#run(this.#batch);
    if (this.#size > 0) {
      this.#scheduled = true;
      setImmediate(this.#tick);
    }
    this.#wake();
  };

  #wake(): void {
    if (this.#size <= this.#lowWater && this.#closedValves === 0 && this.#readyWaiters.length > 0) {
      const w = this.#readyWaiters;
      this.#readyWaiters = [];
      for (const r of w) r();
    }
    if (this.#size === 0 && this.#idleWaiters.length > 0) {
      const w = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const r of w) r();
    }
  }

  #run(budget: number): void {
    this.#running = true;
    try {
      while (this.#size > 0 && budget-- > 0) {
        const mask = this.#qe.length - 1;
        const h = this.#head;
        const e = this.#qe[h] as Event;
        const s = this.#qs[h] as SubRecord;
        this.#qe[h] = undefined;
        this.#qs[h] = undefined;
        this.#head = (h + 1) & mask;
        this.#size--;
        s.pending--;
        // The subscriber's label may have changed since the event was queued: check again.
        if (this.#checks) {
          const presence = eventPresenceTCB(e) as Label;
          const to = s.unit.label;
          if (presence !== to && !presence.flowsTo(to)) continue;
        }
        this.#deliver(e, s);
      }
    } finally {
      this.#running = false;
    }
  }

  /** Deliver now; the caller has just checked that the event's presence flows to the unit. */
  #deliver(e: Event, s: SubRecord): void {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- see MAX_DEPTH
    if (s.active !== true) return;
    const u = s.unit;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- see MAX_DEPTH
    const view = viewOfTCB(e, this.#checks === true ? u.label : null);
    u.busy++;
    this.#depth++;
    // No finally on the hot path (it cost ≈ 30 instructions per delivery, measured): every
    // throw is caught, and #unitError does not throw, so the counters are always restored.
    try {
      if (s.filter === undefined || s.filter(view)) {
        this.#delivered++;
        s.handler(view);
      }
    } catch (err) {
      this.#unitError(u, err);
    }
    u.busy--;
    this.#depth--;
  }

  /** A handler or filter threw: audit it and tell the unit. Never throws (see #deliver). */
  #unitError(u: UnitState, err: unknown): void {
    this.audit.record({
      kind: 'unit-error',
      unit: u.id,
      op: 'a handler or filter threw',
      from: u.label.toString(),
    });
    if (u.onError === undefined) return;
    try {
      u.onError(err);
    } catch {
      // An error handler that throws is the unit's problem only; it is counted above.
    }
  }
}

/**
 * One small engine that lives as long as the module, holding one object of each shape on the
 * dispatch path (engine, unit, context, subscription, event, part, view, audit log). V8 keeps a
 * hidden class only while some object has it: when every engine and event of a process is
 * collected (say, between two runs), the shapes die, the inline caches of the hot path are left
 * pointing at dead shapes, and the code compiled next falls back to generic property lookups
 * (≈ 35 % slower dispatch, measured). Holding one of each keeps the caches valid. It has no
 * tags, and nothing outside this module can reach it.
 */
const shapes: unknown[] = [];
{
  const keeper = new Engine({ checks: true });
  const ctx = keeper.unit({ name: 'shapes' }, (c) => {
    c.subscribe('shapes', (view) => shapes.push(view, c.derive(view)));
  });
  ctx.publish('shapes', ctx.event().add('shapes', 'shapes').add('n', 0));
  ctx.publish('shapes', ctx.event().add('n', 0));
  shapes.push(keeper, ctx);
}
