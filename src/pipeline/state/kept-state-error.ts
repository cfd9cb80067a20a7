import { SluiceError } from '../../errors.js';

/**
 * A pipeline's kept state cannot be used: `E_STATE_INCOMPATIBLE` (it was written by a different
 * pipeline graph), `E_STATE_CORRUPT` (a stored record has the wrong shape) or `E_STATE_VALUE`
 * (an operator's state is not JSON data). Raised before anything is written: the stored state
 * is left exactly as it was. Messages name the operator and the problem, never a value.
 */
export class KeptStateError extends SluiceError {
  declare readonly code: 'E_STATE_INCOMPATIBLE' | 'E_STATE_CORRUPT' | 'E_STATE_VALUE';
}
Object.freeze(KeptStateError.prototype);
Object.freeze(KeptStateError);
