import { inspect } from 'node:util';
import {
  Label,
  MalformedInputError,
  partLabelTCB,
  partNameTCB,
  readPartTCB,
  type LabelledPart,
  type PartValue,
} from '../tcb/index.js';

const VIEW_KEY = Symbol('sluice.view');

/** Whoever may add parts to an open event: applies the write rule (and audits refusals). */
export interface PartWriter {
  writePart(name: string, value: unknown, label: Label | undefined): LabelledPart;
}

let sealedParts: (e: Event) => LabelledPart[];
let sealedTop: (e: Event) => Label;
let sealedPresence: (e: Event) => Label | undefined;
let sealedTopic: (e: Event) => string;
let seal: (e: Event, owner: PartWriter, presence: Label, topic: string) => boolean;
let viewedEvent: (v: EventView) => Event;
let isEvent: (x: unknown) => x is Event;
let isView: (x: unknown) => x is EventView;

/**
 * An event: named, labelled, immutable parts, plus its presence label (the label of whoever
 * decided that it exists). A unit creates one open (`ctx.event()`), adds parts with `add`, and
 * publishes it, which seals it for good. Its only public member is `add`: everything else is
 * reached through the engine's trusted functions, so an event says nothing about hidden parts
 * it carries (say, after `ctx.derive`).
 */
export class Event {
  readonly #owner: PartWriter;
  #parts: LabelledPart[];
  #top: Label = Label.public;
  #presence: Label | undefined = undefined;
  #topic = '';

  constructor(owner: PartWriter, parts: LabelledPart[]) {
    this.#owner = owner;
    this.#parts = parts;
  }

  static {
    sealedParts = (e) => e.#parts;
    sealedTop = (e) => e.#top;
    sealedPresence = (e) => e.#presence;
    sealedTopic = (e) => e.#topic;
    isEvent = (x): x is Event => typeof x === 'object' && x !== null && #parts in x;
    seal = (e, owner, presence, topic) => {
      if (owner !== e.#owner || e.#presence !== undefined) return false;
      e.#presence = presence;
      e.#topic = topic;
      const parts = e.#parts;
      let top = parts.length === 0 ? Label.public : partLabelTCB(parts[0] as LabelledPart);
      for (let i = 1; i < parts.length; i++) top = top.join(partLabelTCB(parts[i] as LabelledPart));
      e.#top = top;
      return true;
    };
  }

  /**
   * Add part `name` with `value` (deeply copied and frozen) at `label` (default: the unit's
   * current label). Write rule: FlowViolationError if the unit may not write at `label`.
   */
  add(name: string, value: unknown, label?: Label): this {
    if (this.#presence !== undefined) {
      throw new MalformedInputError('an event cannot change after it is published');
    }
    const part = this.#owner.writePart(name, value, label);
    // `[part]` for the first part: growing an empty array costs ~30 ns, a literal ~3 ns.
    if (this.#parts.length === 0) this.#parts = [part];
    else this.#parts.push(part);
    return this;
  }

  [inspect.custom](): string {
    return this.#presence === undefined ? 'Event(open)' : 'Event(published)';
  }
}

/** Trusted: seal an open event of `owner`'s; false if already sealed or someone else's. */
export function sealEventTCB(e: Event, owner: PartWriter, presence: Label, topic: string): boolean {
  return seal(e, owner, presence, topic);
}

/** Trusted: every part of an event, hidden ones included. */
export function eventPartsTCB(e: Event): readonly LabelledPart[] {
  return sealedParts(e);
}

/** Trusted: the presence label of a sealed event (undefined while open). */
export function eventPresenceTCB(e: Event): Label | undefined {
  return sealedPresence(e);
}

/** Brand check: a genuine event (forged objects, `Object.create(Event.prototype)` and proxies fail). */
export function isEventTCB(x: unknown): x is Event {
  return isEvent(x);
}

/** Brand check: a genuine view made by the engine. */
export function isViewTCB(x: unknown): x is EventView {
  return isView(x);
}

/** Trusted: the event behind a view (for `derive`, which forwards hidden parts unopened). */
export function viewEventTCB(v: EventView): Event {
  return viewedEvent(v);
}

/** Trusted: the projection of a sealed event for a reader at `reader` (null: checks are off). */
export function viewOfTCB(e: Event, reader: Label | null): EventView {
  const top = sealedTop(e);
  const parts = sealedParts(e);
  if (reader === null) return new EventView(VIEW_KEY, e, top, parts);
  if (top === reader || top.flowsTo(reader)) return new EventView(VIEW_KEY, e, reader, parts);
  return new EventView(
    VIEW_KEY,
    e,
    reader,
    parts.filter((p) => partLabelTCB(p).flowsTo(reader)),
  );
}

/**
 * What a unit receives: the parts of an event it may see, nothing else. A part it may not see
 * is absent: `get` returns undefined, `has` false, and no method, key, JSON or inspection
 * reveals its name, label, value or count.
 */
export class EventView {
  readonly #event: Event;
  readonly #reader: Label;
  readonly #visible: readonly LabelledPart[];

  constructor(key: symbol, event: Event, reader: Label, visible: readonly LabelledPart[]) {
    if (key !== VIEW_KEY) throw new MalformedInputError('event views are made by the engine');
    this.#event = event;
    this.#reader = reader;
    this.#visible = visible;
  }

  static {
    viewedEvent = (v) => v.#event;
    isView = (x): x is EventView => typeof x === 'object' && x !== null && #event in x;
  }

  /** The topic the event was published on. */
  get topic(): string {
    return sealedTopic(this.#event);
  }

  /** Label of whoever decided that this event exists (always ⊑ the reader's label). */
  get presence(): Label {
    return sealedPresence(this.#event) as Label;
  }

  /** The value of the newest visible part called `name`, or undefined. */
  get(name: string): PartValue | undefined {
    const v = this.#visible;
    for (let i = v.length - 1; i >= 0; i--) {
      const p = v[i] as LabelledPart;
      if (partNameTCB(p) === name) return readPartTCB(p, this.#reader);
    }
    return undefined;
  }

  /** Every visible value called `name`, oldest first. */
  getAll(name: string): PartValue[] {
    const out: PartValue[] = [];
    for (const p of this.#visible) {
      if (partNameTCB(p) === name) out.push(readPartTCB(p, this.#reader) as PartValue);
    }
    return out;
  }

  has(name: string): boolean {
    return this.#visible.some((p) => partNameTCB(p) === name);
  }

  /** The label of the newest visible part called `name`, or undefined. */
  labelOf(name: string): Label | undefined {
    for (let i = this.#visible.length - 1; i >= 0; i--) {
      const p = this.#visible[i] as LabelledPart;
      if (partNameTCB(p) === name) return partLabelTCB(p);
    }
    return undefined;
  }

  /** Names of the visible parts, oldest first. */
  names(): string[] {
    return this.#visible.map(partNameTCB);
  }

  /** The visible parts as a plain object (the newest part wins a name). */
  toJSON(): Record<string, PartValue> {
    const out: Record<string, PartValue> = {};
    for (const p of this.#visible) {
      // A part may be called '__proto__': define it as data, never as the object's prototype.
      Object.defineProperty(out, partNameTCB(p), {
        value: readPartTCB(p, this.#reader),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  [inspect.custom](): string {
    return `EventView ${inspect(this.toJSON())}`;
  }
}

// Units share this process: no unit may patch the classes every unit's events go through.
for (const C of [Event, EventView]) {
  Object.freeze(C.prototype);
  Object.freeze(C);
}
