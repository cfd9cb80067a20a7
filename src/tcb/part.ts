import { types } from 'node:util';
import { canWrite } from './checks.js';
import { FlowViolationError, MalformedInputError } from './errors.js';
import { Label } from './label.js';
import type { PrivilegeSet } from './privilege.js';

const MINT_KEY = Symbol('sluice.part.mint');
const MAX_DEPTH = 64;

/** What a part's value may be: JSON-like data plus bigint, deeply frozen. */
export type PartValue =
  | string
  | number
  | boolean
  | bigint
  | null
  | readonly PartValue[]
  | { readonly [k: string]: PartValue };

function refuse(name: string, why: string): never {
  throw new MalformedInputError(`part '${name}': ${why}`);
}

/** 1-256 characters, no control characters (a loop: cheaper than a regex on the hot path). */
function validName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return false;
  }
  return true;
}

/** A deeply frozen copy of `v`, or a clear error. Copies, so the caller keeps no mutable alias. */
function snapshot(
  name: string,
  v: unknown,
  depth: number,
  path: Set<object> | undefined,
): PartValue {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return v;
    case 'object':
      if (v === null) return null;
      break;
    default:
      refuse(name, `a value of type ${typeof v} is not serializable`);
  }
  if (depth > MAX_DEPTH) refuse(name, `value nested deeper than ${MAX_DEPTH}`);
  if (types.isProxy(v)) refuse(name, 'a proxy is not a plain value');
  path ??= new Set();
  if (path.has(v)) refuse(name, 'value is cyclic');
  const proto: unknown = Object.getPrototypeOf(v);
  path.add(v);
  let out: PartValue;
  if (Array.isArray(v)) {
    if (proto !== Array.prototype)
      refuse(name, 'an array with a foreign prototype is not plain data');
    const a: PartValue[] = [];
    for (let i = 0; i < v.length; i++) {
      // Read through the descriptor: an accessor element must not run (and is not plain data).
      const d = Object.getOwnPropertyDescriptor(v, i);
      if (d === undefined || !('value' in d)) refuse(name, 'arrays must be dense plain data');
      a.push(snapshot(name, d.value, depth + 1, path));
    }
    out = a;
  } else if (proto === Object.prototype || proto === null) {
    const o: Record<string, PartValue> = {};
    for (const k of Reflect.ownKeys(v)) {
      if (typeof k === 'symbol') refuse(name, 'symbol keys are not serializable');
      const d = Object.getOwnPropertyDescriptor(v, k) as PropertyDescriptor;
      if (!('value' in d)) refuse(name, 'accessor properties are not plain data');
      // define, not assign: an own '__proto__' key must stay data, not set the copy's prototype
      Object.defineProperty(o, k, {
        value: snapshot(name, d.value, depth + 1, path),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out = o;
  } else {
    refuse(name, 'only plain objects and arrays are allowed (no class instances, Map, Date, …)');
  }
  path.delete(v);
  return Object.freeze(out);
}

/** Out of line: keeps the constructor small enough for V8 to inline where parts are made. */
function notMinted(): never {
  throw new MalformedInputError('parts are made by writePart');
}

/** Set once by the class's static block, then copied into the module constants below. */
let access:
  | {
      readonly name: (p: LabelledPart) => string;
      readonly label: (p: LabelledPart) => Label;
      readonly value: (p: LabelledPart) => PartValue;
    }
  | undefined;

/**
 * A named, labelled, immutable value. It has no public member: its name, label and value are
 * reachable only through the trusted functions below, so a part that leaks to unit code (say,
 * through a forwarded event) reveals nothing, not even its name.
 */
export class LabelledPart {
  readonly #name: string;
  readonly #label: Label;
  readonly #value: PartValue;

  constructor(key: symbol, name: string, label: Label, value: PartValue) {
    if (key !== MINT_KEY) notMinted();
    this.#name = name;
    this.#label = label;
    this.#value = value;
  }

  static {
    access = { name: (p) => p.#name, label: (p) => p.#label, value: (p) => p.#value };
  }
}
Object.freeze(LabelledPart.prototype);
Object.freeze(LabelledPart);

/*
 * Hot-path functions are module `const`s: V8 compiles a call through a module-level `const`
 * to a direct (inlined) call, but a call through a `let`, a `function` declaration or an
 * exported binding (a live, reassignable cell) loads the binding and checks its target on
 * every call (≈ 5 instructions each, ≈ 15 % of a dispatch hop, measured).
 */
const { name: nameOf, label: labelOf, value: valueOf } = access;
const Part = LabelledPart;

/** Trusted: a part's name (engine-internal; never shown for a part the reader may not see). */
export function partNameTCB(p: LabelledPart): string {
  return nameOf(p);
}

/** Trusted: a part's label. */
export function partLabelTCB(p: LabelledPart): Label {
  return labelOf(p);
}

/** Read rule: the value iff the part's label ⊑ reader, else exactly what an absent part reads as. */
export function readPartTCB(p: LabelledPart, reader: Label): PartValue | undefined {
  const l = labelOf(p);
  return l === reader || l.flowsTo(reader) ? valueOf(p) : undefined;
}

/** The last part name found valid (strings are immutable): most writers repeat their names. */
const NO_NAME = Symbol('no name checked yet');
let lastName: unknown = NO_NAME;

const checkName = (name: unknown): void => {
  if (!validName(name)) {
    throw new MalformedInputError('a part name is a string of 1-256 non-control characters');
  }
  lastName = name;
};

/** Why a write was refused: a label that is not genuine, or the write rule. Builds messages only here. */
function refuseWrite(writer: Label, name: string, label: Label): never {
  Label.assert(label, `label of part '${name}'`);
  throw new FlowViolationError(
    `add part '${name}': writer at ${writer.toString()} may not write at ${label.toString()}`,
  );
}

/**
 * Write rule, then construction: a writer at `writer` with privileges `p` adds part `name` at
 * `label`. Throws FlowViolationError (labels only, never the value) when the write is refused.
 * The common case (a known name, a primitive value at the writer's own label) runs no loop and
 * builds no string.
 */
export function writePart(
  writer: Label,
  p: PrivilegeSet,
  name: string,
  label: Label,
  value: unknown,
): LabelledPart {
  if (name !== lastName) checkName(name);
  if (!Label.isLabel(label) || (label !== writer && !canWrite(writer, p, label))) {
    refuseWrite(writer, name, label);
  }
  return new Part(MINT_KEY, name, label, plain(name, value));
}

/**
 * A part at the writer's own label `writer` (a genuine label the caller holds, such as a unit's
 * current label): L ⊑ L, so the write rule always allows it and there is nothing to check but
 * the name and the value. The common case of `writePart`, without its label questions.
 */
export function writeOwnPart(writer: Label, name: string, value: unknown): LabelledPart {
  if (name !== lastName) checkName(name);
  return new Part(MINT_KEY, name, writer, plain(name, value));
}

/** A primitive as it is; anything else deeply copied and frozen (or refused). */
const plain = (name: string, value: unknown): PartValue =>
  typeof value === 'object' ||
  typeof value === 'function' ||
  typeof value === 'symbol' ||
  value === undefined
    ? snapshot(name, value, 0, undefined)
    : (value as PartValue);
