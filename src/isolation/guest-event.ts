/**
 * What an isolated unit's handler receives for one event: `topic`, `get(name)` (the value of
 * the newest visible part called `name`, or undefined) and `parts` (every visible part as a
 * frozen object of name → value, built on first use). Every value is deeply frozen: in tier 0
 * it is the engine's own part value (frozen once, when the part was made), in tiers 1 and 2
 * the guest loop hardens it once as it decodes the batch. Nothing is hardened per hop.
 *
 * `get` is the fast path: it reads the value and allocates nothing. `parts` costs one object
 * and one `Object.freeze` (≈ 50–90 ns), once per event, the first time it is read.
 *
 * Both classes are hardened once per realm (after `lockdown()`), so no guest can change them
 * for another; their fields are private, so a guest can reach no engine object through them.
 * An instance is made per delivery and is held only by the unit it was delivered to.
 */
import type { EventView } from '../index.js';
import { MISS_HANDLER, miss } from './miss-trap.js';

/** The prototype of every `parts` object: no properties, no prototype, frozen. */
const PARTS_PROTO: object = Object.freeze(Object.create(null) as object);

/**
 * A frozen object of name → value with PARTS_PROTO as its prototype: fast properties (unlike
 * `Object.create(null)`, whose dictionary-mode objects cost ≈ 500 ns to freeze), and a part
 * called `__proto__` or `toString` is plain data (nothing is inherited, no setter runs).
 */
function partsObject(
  names: readonly string[],
  value: (i: number) => unknown,
  probed: boolean,
): object {
  if (probed) return probedParts(names, value);
  const o = Object.create(PARTS_PROTO) as Record<string, unknown>;
  for (let i = 0; i < names.length; i++) o[names[i] as string] = value(i);
  return Object.freeze(o);
}

/**
 * A probed unit's parts: the same frozen object, seen through a proxy whose `get` and `has`
 * count names that are not there (miss-trap.ts). Everything else reaches the object itself.
 */
function probedParts(names: readonly string[], value: (i: number) => unknown): object {
  const o = Object.create(PARTS_PROTO) as Record<string, unknown>;
  for (let i = 0; i < names.length; i++) o[names[i] as string] = value(i);
  return new Proxy(Object.freeze(o), MISS_HANDLER);
}

/** Tier 0: reads the engine's view of the event (projected at the unit's label) directly. */
export class ViewEvent {
  readonly #view: EventView;
  readonly #probed: boolean;
  #parts: object | undefined;

  /** `probed`: count lookups that find nothing (miss-trap.ts). */
  constructor(view: EventView, probed = false) {
    this.#view = view;
    this.#probed = probed;
    this.#parts = undefined;
  }

  get topic(): string {
    return this.#view.topic;
  }

  get(name: unknown): unknown {
    const v = typeof name === 'string' ? this.#view.get(name) : undefined;
    if (v === undefined && this.#probed) miss();
    return v;
  }

  get parts(): object {
    if (this.#parts === undefined) {
      const v = this.#view;
      const names = v.names();
      this.#parts = partsObject(names, (i) => v.get(names[i] as string), this.#probed);
    }
    return this.#parts;
  }
}

/** Tiers 1 and 2: one decoded event (names and values in part order; values already hardened). */
export class RecordEvent {
  readonly #topic: string;
  readonly #names: readonly string[];
  readonly #values: readonly unknown[];
  readonly #probed: boolean;
  #parts: object | undefined;

  constructor(topic: string, names: readonly string[], values: readonly unknown[], probed = false) {
    this.#topic = topic;
    this.#names = names;
    this.#values = values;
    this.#probed = probed;
    this.#parts = undefined;
  }

  get topic(): string {
    return this.#topic;
  }

  /** The newest part called `name` wins, as in the engine's views. */
  get(name: unknown): unknown {
    const names = this.#names;
    for (let i = names.length - 1; i >= 0; i--) if (names[i] === name) return this.#values[i];
    if (this.#probed) miss();
    return undefined;
  }

  get parts(): object {
    if (this.#parts === undefined) {
      const values = this.#values;
      this.#parts = partsObject(this.#names, (i) => values[i], this.#probed);
    }
    return this.#parts;
  }
}
