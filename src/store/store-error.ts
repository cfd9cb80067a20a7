import { SluiceError } from '../errors.js';

/** The store cannot serve a call (closed, or its schema is newer than this code). */
export class StoreError extends SluiceError {
  declare readonly code: 'E_STORE_CLOSED' | 'E_STORE_SCHEMA';
}

export function closedError(): StoreError {
  return new StoreError('E_STORE_CLOSED', 'the store is closed');
}
