import { SluiceError } from '../errors.js';

/** The store cannot serve a call (closed, or its schema is newer than this code). */
export class StoreError extends SluiceError {
  declare readonly code: 'E_STORE_CLOSED' | 'E_STORE_SCHEMA' | 'E_STORE_CORRUPT';
}

export function closedError(): StoreError {
  return new StoreError('E_STORE_CLOSED', 'the store is closed');
}

/** The stored tag seed as bytes, or a clear error if it is not 64 hex digits. */
export function seedOf(hex: unknown): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new StoreError('E_STORE_CORRUPT', "the store's tag seed is corrupt");
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
