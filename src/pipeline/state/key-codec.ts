import { createHash } from 'node:crypto';
import { KeptStateError } from './kept-state-error.js';

/** A key as kept: `text` names it exactly (type included); `id` is its part of a store key. */
export interface KeptKey {
  readonly text: string;
  readonly id: string;
}

const MAX_ID = 256;

/** `s:` + a string key or `n:` + a number key; keys a store key cannot hold are hashed. */
export function encodeKey(key: string | number): KeptKey {
  const text = typeof key === 'number' ? `n:${String(key)}` : `s:${key}`;
  const plain =
    text.length <= MAX_ID &&
    (text as string & { isWellFormed(): boolean }).isWellFormed() &&
    !text.includes('\u0000');
  return { text, id: plain ? text : `h:${createHash('sha256').update(text).digest('hex')}` };
}

function corrupt(where: string): KeptStateError {
  return new KeptStateError('E_STATE_CORRUPT', `${where}: a stored key is corrupt`);
}

/** The key `encodeKey` wrote as `text` (a clear error for anything else). */
export function decodeKey(text: unknown, where: string): string | number {
  if (typeof text !== 'string') throw corrupt(where);
  const rest = text.slice(2);
  if (text.startsWith('s:')) return rest;
  if (text.startsWith('n:') && rest.length > 0) {
    const n = Number(rest);
    if (String(n) === rest) return n;
  }
  throw corrupt(where);
}
