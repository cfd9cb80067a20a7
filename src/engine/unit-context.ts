import {
  FlowViolationError,
  InsufficientPrivilegeError,
  Label,
  MalformedInputError,
  PrivilegeSet,
  canChangeLabel,
  canWrite,
  type LabelledPart,
  type PrivilegeKind,
  Tag,
} from '../tcb/index.js';
import * as core from '../tcb/index.js';
import type { AuditLog } from './audit-log.js';
import * as events from './event.js';
import {
  type Event,
  copyEventTCB,
  isEventTCB,
  isViewTCB,
  viewEventTCB,
  type EventView,
  type PartWriter,
} from './event.js';
import type { Sink } from './sink.js';

/** Module constants, not live imports: V8 inlines calls through them unchecked (see event.ts). */
const { writeOwnPart, writePart } = core;
const EventClass = events.Event;

/** No topic cached yet: the empty string, which is never a valid topic. (A string, not a symbol:
 * comparing a string with a string-or-symbol field took a generic call on every publish.) */
const NO_TOPIC = '';

const KINDS: readonly unknown[] = ['plus', 'minus', 'plus-auth', 'minus-auth'];

/**
 * The arguments of publish, checked in order: a topic (a non-empty string), then an event from
 * `ctx.event()`. Off the hot path: the engine calls it only when something is wrong or new.
 */
export function checkPublish(topic: unknown, event: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new MalformedInputError('a topic is a non-empty string');
  }
  if (!isEventTCB(event)) throw new MalformedInputError('publish takes an event from ctx.event()');
}

/** A unit's handler for one delivered event. */
export type Handler = (event: EventView) => void;
/** A subscription filter: runs over the parts visible to the subscriber only. */
export type Filter = (event: EventView) => boolean;

/** Engine-internal: one subscription. */
export interface SubRecord {
  active: boolean;
  /** Deliveries of this subscription still in the queue: while > 0, new ones queue behind. */
  pending: number;
  readonly unit: UnitState;
  readonly handler: Handler;
  readonly filter: Filter | undefined;
}

/** Engine-internal: the subscriptions of one topic (the record lives as long as the engine). */
export interface TopicRecord {
  subs: SubRecord[];
}

/**
 * Engine-internal state of a unit: its current label and privileges. Never reachable from unit
 * code (the context holds it in a private field).
 */
export class UnitState implements PartWriter {
  closed = false;
  /** Handler frames of this unit on the stack (a busy unit is never re-entered: it gets queued). */
  busy = 0;
  /** The topic this unit last published on, and its subscriptions (the engine's cache). A
   * checked, non-empty string once set: a hit means the topic needs no check. */
  topic: string = NO_TOPIC;
  topicRecord: TopicRecord | undefined = undefined;

  constructor(
    readonly id: string,
    public label: Label,
    public privileges: PrivilegeSet,
    readonly audit: AuditLog,
    readonly checks: boolean,
    readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  writePart(name: string, value: unknown, label: Label | undefined): LabelledPart {
    // At the unit's own label (the common case) the write rule holds by reflexivity, checks or not.
    if (label === undefined) return writeOwnPart(this.label, name, value);
    const to = label;
    try {
      return writePart(this.checks ? this.label : to, this.privileges, name, to, value);
    } catch (e) {
      this.refused(e, to);
      throw e;
    }
  }

  /** Audit a refused write (kept out of writePart, which is on the hot path). */
  refused(e: unknown, to: Label): void {
    if (e instanceof FlowViolationError) {
      this.audit.record({
        kind: 'refused-write',
        unit: this.id,
        op: 'add part',
        from: this.label.toString(),
        to: Label.assert(to).toString(),
      });
    }
  }

  /** The presence label for an output: the unit's label, or a lower one its privileges allow. */
  presence(requested: Label | undefined, op: 'publish' | 'output'): Label {
    if (requested === undefined || requested === this.label) return this.label;
    Label.assert(requested, 'presence');
    if (this.checks && !canWrite(this.label, this.privileges, requested)) {
      this.audit.record({
        kind: op === 'publish' ? 'refused-publish' : 'refused-output',
        unit: this.id,
        op: `${op} at a lower presence`,
        from: this.label.toString(),
        to: requested.toString(),
      });
      throw new FlowViolationError(
        `${op}: unit at ${this.label.toString()} may not publish at presence ${requested.toString()}`,
      );
    }
    return requested;
  }
}

/** What the engine offers a unit's context (internal; not part of the public API). */
export interface EngineInternals {
  readonly audit: AuditLog;
  publish(u: UnitState, topic: string, event: Event, presence: Label): boolean;
  subscribe(
    u: UnitState,
    topic: string,
    handler: Handler,
    filter: Filter | undefined,
  ): Subscription;
  output(u: UnitState, sink: Sink, event: Event, presence: Label): void;
  unitById(id: string): UnitState | undefined;
  createTag(name: string, by: string): { tag: Tag; privileges: readonly unknown[] };
  ready(): Promise<void>;
  close(u: UnitState): void;
}

/** A live subscription; `unsubscribe()` stops further deliveries (queued ones are dropped). */
export class Subscription {
  readonly #record: { active: boolean };
  constructor(record: { active: boolean }) {
    this.#record = record;
  }
  get active(): boolean {
    return this.#record.active;
  }
  unsubscribe(): void {
    this.#record.active = false;
  }
}

export interface PublishOptions {
  /** Publish at this presence label instead of the unit's own (needs privileges if lower). */
  readonly presence?: Label;
}

/**
 * A unit's API: everything a processing unit may do. Checks happen here or in the trusted
 * core; the unit never holds its privileges, its state or the engine.
 */
export class UnitContext {
  readonly #u: UnitState;
  readonly #engine: EngineInternals;

  constructor(u: UnitState, engine: EngineInternals) {
    this.#u = u;
    this.#engine = engine;
  }

  get id(): string {
    return this.#u.id;
  }

  /** The unit's current label. It changes only through `changeLabel`. */
  get label(): Label {
    return this.#u.label;
  }

  /** The unit's privileges, described (e.g. `alice#1a2b3c+`); descriptions confer nothing. */
  get privileges(): string[] {
    return this.#u.privileges.describe();
  }

  /** A new, open event owned by this unit. */
  event(): Event {
    return new EventClass(this.#u, null, null);
  }

  /**
   * A new, open event carrying every part of a received one, including parts this unit may not
   * see (forwarded unopened, as DEFCon does); add parts, then publish.
   */
  derive(view: EventView): Event {
    if (!isViewTCB(view))
      throw new MalformedInputError('derive takes an event view a handler received');
    return copyEventTCB(viewEventTCB(view), this.#u);
  }

  /**
   * Publish an event of this unit's on `topic`. Returns false when the engine's queue is above
   * its high-water mark: a well-behaved source then awaits `ready()`. Always true from inside a
   * handler (the queue length there would depend on other units' secret work).
   */
  publish(topic: string, event: Event, options?: PublishOptions): boolean {
    const u = this.#u;
    // The common call: at the unit's own label. The engine checks topic and event on this path
    // (a topic once on the unit's cache miss, the event as it seals it), in the order below.
    if (options === undefined) return this.#engine.publish(u, topic, event, u.label);
    checkPublish(topic, event);
    const requested = options.presence;
    const presence = requested === undefined ? u.label : u.presence(requested, 'publish');
    return this.#engine.publish(u, topic, event, presence);
  }

  /** Subscribe to `topic`; the filter and the handler see only the parts this unit may see. */
  subscribe(topic: string, handler: Handler, options: { filter?: Filter } = {}): Subscription {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new MalformedInputError('a topic is a non-empty string');
    }
    if (typeof handler !== 'function') throw new MalformedInputError('a handler is a function');
    if (options.filter !== undefined && typeof options.filter !== 'function') {
      throw new MalformedInputError('a filter is a function');
    }
    return this.#engine.subscribe(this.#u, topic, handler, options.filter);
  }

  /**
   * Send an event to the world through a sink. FlowViolationError (nothing sent) if the event's
   * presence, or a part this unit can see, may not flow to the sink's label; parts this unit
   * cannot see that may not flow there are withheld silently.
   */
  output(sink: Sink, event: Event, options?: PublishOptions): void {
    if (!isEventTCB(event)) throw new MalformedInputError('output takes an event from ctx.event()');
    this.#engine.output(this.#u, sink, event, this.#u.presence(options?.presence, 'output'));
  }

  /** Resolves when the engine's queue has drained below its low-water mark. */
  ready(): Promise<void> {
    return this.#engine.ready();
  }

  /** Change this unit's label explicitly; needs t+ for every tag added, t- for every tag removed. */
  changeLabel(to: Label): void {
    const u = this.#u;
    Label.assert(to, 'new label');
    const from = u.label;
    if (u.checks && !canChangeLabel(from, u.privileges, to)) {
      u.audit.record({
        kind: 'refused-label-change',
        unit: u.id,
        op: 'change label',
        from: from.toString(),
        to: to.toString(),
      });
      throw new InsufficientPrivilegeError(
        `change label from ${from.toString()} to ${to.toString()}: missing t+ or t- privileges`,
      );
    }
    u.label = to;
    u.audit.record({
      kind: 'label-change',
      unit: u.id,
      op: 'change label',
      from: from.toString(),
      to: to.toString(),
    });
  }

  /** Create a tag; this unit receives all four privileges on it. */
  createTag(name: string): Tag {
    const { tag, privileges } = this.#engine.createTag(name, this.#u.id);
    this.#u.privileges = this.#u.privileges.withAll(privileges);
    return tag;
  }

  /**
   * Grant `kind` on `tag` to another unit; needs t+auth (for plus kinds) or t-auth (minus). A
   * grant is a message the receiver can observe, so it obeys the write rule too: this unit's
   * label must flow to the receiver's (or its privileges must cover the difference).
   */
  grant(unitId: string, tag: Tag, kind: PrivilegeKind): void {
    const u = this.#u;
    const target = this.#engine.unitById(unitId);
    if (target === undefined) throw new MalformedInputError(`grant: no unit '${unitId}'`);
    // Never echo a caller-chosen string into the audit log: an invalid kind is not quoted.
    const k = KINDS.includes(kind) ? kind : 'an invalid kind';
    const op = `grant ${k} on ${Tag.isTag(tag) ? tag.toString() : 'a non-tag'} to ${target.id}`;
    if (u.checks && !canWrite(u.label, u.privileges, target.label)) {
      u.audit.record({
        kind: 'refused-grant',
        unit: u.id,
        op,
        from: u.label.toString(),
        to: target.label.toString(),
      });
      throw new FlowViolationError(
        `${op}: a unit at ${u.label.toString()} may not send to a unit at ${target.label.toString()}`,
      );
    }
    try {
      target.privileges = u.privileges.grantTCB(target.privileges, tag, kind);
    } catch (e) {
      u.audit.record({ kind: 'refused-grant', unit: u.id, op });
      throw e;
    }
    u.audit.record({ kind: 'grant', unit: u.id, op });
  }

  /** Stop this unit: its subscriptions end and its queued deliveries are dropped. */
  close(): void {
    this.#engine.close(this.#u);
  }
}

for (const C of [UnitContext, Subscription]) {
  Object.freeze(C.prototype);
  Object.freeze(C);
}
