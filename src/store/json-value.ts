import { isProxy } from 'node:util/types';
import { MalformedInputError } from '../errors.js';

/** JSON data: what the store keeps. Values come back deeply frozen. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A validated value: its JSON text (what SQL backends keep) and a deeply frozen copy. */
export interface EncodedValue {
  readonly json: string;
  readonly value: JsonValue;
}

const MAX_DEPTH = 64;
/** 1 MiB of JSON text per value. */
export const MAX_VALUE_CHARS = 1 << 20;

function refuse(what: string, depth: number): never {
  // Never the value itself, nor its property names: only its shape (DESIGN.md §3).
  throw new MalformedInputError(
    `store values must be JSON data: found ${what} at depth ${depth}`,
    'E_STORE_VALUE',
  );
}

function check(v: unknown, depth: number, seen: Set<object>): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(v)) refuse('a non-finite number', depth);
      return;
    case 'object':
      break;
    default:
      refuse(`a ${typeof v}`, depth);
  }
  if (v === null) return;
  if (depth >= MAX_DEPTH) refuse(`nesting deeper than ${MAX_DEPTH}`, depth);
  if (isProxy(v)) refuse('a proxy', depth);
  if (seen.has(v)) refuse('a cycle or shared reference', depth);
  seen.add(v);
  if (Array.isArray(v)) {
    const d = Object.getOwnPropertyDescriptors(v) as Record<string, PropertyDescriptor>;
    for (let k = 0; k < v.length; k++) {
      const desc = d[String(k)];
      if (desc === undefined) refuse('a sparse array', depth);
      if (!('value' in desc)) refuse('an accessor property', depth);
      check(desc.value, depth + 1, seen);
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) refuse('a non-plain object', depth);
    if (Object.getOwnPropertySymbols(v).length > 0) refuse('a symbol key', depth);
    for (const desc of Object.values(Object.getOwnPropertyDescriptors(v))) {
      if (!('value' in desc)) refuse('an accessor property', depth);
      if (desc.enumerable !== true) refuse('a non-enumerable property', depth);
      check(desc.value, depth + 1, seen);
    }
  }
  seen.delete(v);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Validate `v` as JSON data and copy it: the store never keeps (or hands back) an object the
 * caller still holds. Throws MalformedInputError (E_STORE_VALUE) naming only the problem's kind.
 */
export function encodeValue(v: unknown): EncodedValue {
  if (v === undefined) refuse('undefined (use delete)', 0);
  check(v, 0, new Set());
  const json = JSON.stringify(v);
  if (json.length > MAX_VALUE_CHARS) refuse(`more than ${MAX_VALUE_CHARS} characters of JSON`, 0);
  return { json, value: decodeValue(json) };
}

/** Parse stored JSON text into a deeply frozen value. */
export function decodeValue(json: string): JsonValue {
  return deepFreeze(JSON.parse(json) as JsonValue);
}

/** Structural equality of JSON data (object key order does not matter). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Readonly<Record<string, JsonValue>>;
  const rb = b as Readonly<Record<string, JsonValue>>;
  for (const k of ka) {
    if (!Object.hasOwn(rb, k) || !jsonEqual(ra[k], rb[k])) return false;
  }
  return true;
}
