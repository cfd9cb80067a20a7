import { inspect } from 'node:util';
import * as core from '../tcb/index.js';
import { Label, MalformedInputError, type LabelledPart, type PartValue } from '../tcb/index.js';

/** Module constants, not live imports: see the note at the end of this file. */
const { partLabelTCB, partNameTCB, readPartTCB } = core;

const VIEW_KEY = Symbol('sluice.view');

/** Whoever may add parts to an open event: applies the write rule (and audits refusals). */
export interface PartWriter {
  writePart(name: string, value: unknown, label: Label | undefined): LabelledPart;
}

/** The trusted accessors, set once by the classes' static blocks (see the constants below). */
interface EventAccess {
  readonly first: (e: Event) => LabelledPart | null;
  readonly more: (e: Event) => readonly LabelledPart[] | null;
  readonly presence: (e: Event) => Label | undefined;
  readonly topic: (e: Event) => string;
  readonly seal: (e: Event, owner: PartWriter, presence: Label, topic: string) => boolean;
  readonly viewOf: (e: Event, reader: Label | null) => EventView;
  readonly addMore: (e: Event, part: LabelledPart) => void;
  readonly isEvent: (x: unknown) => x is Event;
}
interface ViewAccess {
  readonly event: (v: EventView) => Event;
  readonly isView: (x: unknown) => x is EventView;
}
let eventAccess: EventAccess | undefined;
let viewAccess: ViewAccess | undefined;

/** Out of line (rare): keeps the EventView constructor small enough for V8 to inline. */
function notByEngine(): never {
  throw new MalformedInputError('event views are made by the engine');
}

/** Out of line (rare): keeps Event.add small enough for V8 to inline into handlers. */
function published(): never {
  throw new MalformedInputError('an event cannot change after it is published');
}

/**
 * An event: named, labelled, immutable parts, plus its presence label (the label of whoever
 * decided that it exists). A unit creates one open (`ctx.event()`), adds parts with `add`, and
 * publishes it, which seals it for good. Its only public member is `add`: everything else is
 * reached through the engine's trusted functions, so an event says nothing about hidden parts
 * it carries (say, after `ctx.derive`).
 *
 * Most events have one part: it is held in `#first`, with no array; `#more` is the array of
 * every part (first included) once there are two or more.
 */
export class Event {
  readonly #owner: PartWriter;
  #first: LabelledPart | null;
  #more: LabelledPart[] | null;
  #top: Label;
  #presence: Label | undefined;
  #topic: string;

  constructor(owner: PartWriter, first: LabelledPart | null, more: LabelledPart[] | null) {
    this.#owner = owner;
    this.#first = first;
    this.#more = more;
    this.#top = publicLabel;
    this.#presence = undefined;
    this.#topic = '';
  }

  static {
    const isEvent = (x: unknown): x is Event => typeof x === 'object' && x !== null && #first in x;
    const addMore = (e: Event, part: LabelledPart): void => {
      if (e.#more === null) e.#more = [e.#first as LabelledPart, part];
      else e.#more.push(part);
    };
    const seal = (e: Event, owner: PartWriter, presence: Label, topic: string): boolean => {
      // The brand check first: publish hands over whatever the unit passed.
      if (!isEvent(e) || owner !== e.#owner || e.#presence !== undefined) return false;
      e.#presence = presence;
      e.#topic = topic;
      const first = e.#first;
      if (e.#more !== null) e.#top = joinLabels(e.#more);
      else if (first !== null) e.#top = partLabelTCB(first);
      return true;
    };
    // One `new EventView` on the common path: V8 inlines a constructor per call site, and
    // two sites here (checks on / off) left one of them to the generic construct stub.
    const viewOf = (e: Event, reader: Label | null): EventView => {
      const top = e.#top;
      if (reader !== null && top !== reader && !top.flowsTo(reader)) return filteredView(e, reader);
      return new View(VIEW_KEY, e, reader ?? top, e.#first, e.#more);
    };
    eventAccess = {
      first: (e) => e.#first,
      more: (e) => e.#more,
      presence: (e) => e.#presence,
      topic: (e) => e.#topic,
      seal,
      viewOf,
      addMore,
      isEvent,
    };
  }

  /**
   * Add part `name` with `value` (deeply copied and frozen) at `label` (default: the unit's
   * current label). Write rule: FlowViolationError if the unit may not write at `label`.
   */
  add(name: string, value: unknown, label?: Label): this {
    if (this.#presence !== undefined) published();
    const part = this.#owner.writePart(name, value, label);
    if (this.#first === null) this.#first = part;
    else addMore(this, part);
    return this;
  }

  [inspect.custom](): string {
    return this.#presence === undefined ? 'Event(open)' : 'Event(published)';
  }
}

/** The join of the labels of two or more parts. */
function joinLabels(parts: readonly LabelledPart[]): Label {
  let top = partLabelTCB(parts[0] as LabelledPart);
  for (let i = 1; i < parts.length; i++) top = top.join(partLabelTCB(parts[i] as LabelledPart));
  return top;
}

/** Trusted: seal an open event of `owner`'s; false if not an event, already sealed or someone else's. */
export function sealEventTCB(e: Event, owner: PartWriter, presence: Label, topic: string): boolean {
  return seal(e, owner, presence, topic);
}

/** Trusted: every part of an event, hidden ones included (a new array). */
export function eventPartsTCB(e: Event): LabelledPart[] {
  const more = sealedMore(e);
  if (more !== null) return more.slice();
  const first = sealedFirst(e);
  return first === null ? [] : [first];
}

/** Trusted: a new open event of `owner`'s carrying every part of `e` (for `derive`). */
export function copyEventTCB(e: Event, owner: PartWriter): Event {
  const more = sealedMore(e);
  return new Event(owner, sealedFirst(e), more === null ? null : more.slice());
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

/**
 * Trusted: the projection of a sealed event for a reader at `reader` (null: checks are off).
 * When every part is visible (the common case: the join of the part labels flows to the
 * reader) the view shares the event's parts; otherwise it gets the visible ones, filtered
 * here, before the unit runs.
 */
export function viewOfTCB(e: Event, reader: Label | null): EventView {
  return viewOf(e, reader);
}

function filteredView(e: Event, reader: Label): EventView {
  const more = sealedMore(e);
  if (more === null) return new View(VIEW_KEY, e, reader, null, null);
  const visible = more.filter((p) => partLabelTCB(p).flowsTo(reader));
  const n = visible.length;
  return new EventView(
    VIEW_KEY,
    e,
    reader,
    n === 0 ? null : (visible[0] as LabelledPart),
    n > 1 ? visible : null,
  );
}

/**
 * What a unit receives: the parts of an event it may see, nothing else. A part it may not see
 * is absent: `get` returns undefined, `has` false, and no method, key, JSON or inspection
 * reveals its name, label, value or count.
 *
 * The visible parts are `#first` alone when `#many` is null (none when it is null too), else
 * `#many` (first included).
 */
export class EventView {
  readonly #event: Event;
  readonly #reader: Label;
  readonly #first: LabelledPart | null;
  readonly #many: readonly LabelledPart[] | null;

  constructor(
    key: symbol,
    event: Event,
    reader: Label,
    first: LabelledPart | null,
    many: readonly LabelledPart[] | null,
  ) {
    if (key !== VIEW_KEY) notByEngine();
    this.#event = event;
    this.#reader = reader;
    this.#first = first;
    this.#many = many;
  }

  static {
    viewAccess = {
      event: (v) => v.#event,
      isView: (x): x is EventView => typeof x === 'object' && x !== null && #event in x,
    };
  }

  /** The visible parts as an array, oldest first (a shared array when there are several). */
  #visible(): readonly LabelledPart[] {
    if (this.#many !== null) return this.#many;
    return this.#first === null ? [] : [this.#first];
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
    const v = this.#many;
    if (v === null) {
      const p = this.#first;
      return p !== null && partNameTCB(p) === name ? readPartTCB(p, this.#reader) : undefined;
    }
    for (let i = v.length - 1; i >= 0; i--) {
      const p = v[i] as LabelledPart;
      if (partNameTCB(p) === name) return readPartTCB(p, this.#reader);
    }
    return undefined;
  }

  /** Every visible value called `name`, oldest first. */
  getAll(name: string): PartValue[] {
    const out: PartValue[] = [];
    for (const p of this.#visible()) {
      if (partNameTCB(p) === name) out.push(readPartTCB(p, this.#reader) as PartValue);
    }
    return out;
  }

  has(name: string): boolean {
    return this.#visible().some((p) => partNameTCB(p) === name);
  }

  /** The label of the newest visible part called `name`, or undefined. */
  labelOf(name: string): Label | undefined {
    const v = this.#visible();
    for (let i = v.length - 1; i >= 0; i--) {
      const p = v[i] as LabelledPart;
      if (partNameTCB(p) === name) return partLabelTCB(p);
    }
    return undefined;
  }

  /** Names of the visible parts, oldest first. */
  names(): string[] {
    return this.#visible().map(partNameTCB);
  }

  /** The visible parts as a plain object (the newest part wins a name). */
  toJSON(): Record<string, PartValue> {
    const out: Record<string, PartValue> = {};
    for (const p of this.#visible()) {
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

/*
 * Hot-path functions and classes as module `const`s: V8 compiles a call through a module-level
 * `const` to a direct, inlined call, while a call through a `let`, a `function` declaration or
 * an imported or exported binding (a live cell) loads it and checks its target each time
 * (≈ 5 instructions per call; ≈ 15 % of a dispatch hop in all, measured).
 */
const {
  first: sealedFirst,
  more: sealedMore,
  presence: sealedPresence,
  topic: sealedTopic,
  seal,
  viewOf,
  addMore,
  isEvent,
} = eventAccess;
const { event: viewedEvent, isView } = viewAccess;
const View = EventView;
const publicLabel = Label.public;
