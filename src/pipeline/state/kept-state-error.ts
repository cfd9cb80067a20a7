import { SluiceError } from '../../errors.js';

/**
 * A pipeline's kept state cannot be used: `E_STATE_INCOMPATIBLE` (it was written by a different
 * pipeline graph), `E_STATE_CORRUPT` (a stored record has the wrong shape) or `E_STATE_VALUE`
 * (an operator's state is not JSON data). Raised before anything is written: the stored state
 * is left exactly as it was. Messages name the operator and the problem, never a value.
 * `E_STATE_FAILED` is no refusal: it is what an operator that had failed before a restart
 * sends downstream again when the run resumes (at its label, like its first failure).
 */
export class KeptStateError extends SluiceError {
  declare readonly code:
    'E_STATE_INCOMPATIBLE' | 'E_STATE_CORRUPT' | 'E_STATE_VALUE' | 'E_STATE_FAILED';
}
Object.freeze(KeptStateError.prototype);
Object.freeze(KeptStateError);
