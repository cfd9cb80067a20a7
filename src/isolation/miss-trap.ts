/**
 * The not-found probe, guest side: the prototype of every `ev.parts` a probed unit receives
 * is a frozen proxy that counts lookups (`parts.x`, `'x' in parts`) of part names the unit was
 * not given and answers them as absent. Own parts never reach it, so found reads cost nothing.
 * The count is all it keeps: never which name (a name the code chose could carry data), and
 * it cannot tell a part hidden by labels from one that never existed (neither can the unit).
 * Writes through it fail (strict code throws), as on any frozen object.
 */
export interface MissTrap {
  /** The prototype to give received parts. */
  readonly proto: object;
  /** Lookups that found nothing so far. */
  readonly count: number;
}

export function missTrap(): MissTrap {
  let count = 0;
  const target = Object.freeze(Object.create(null) as object);
  const proto = new Proxy(target, {
    get(_t, key) {
      if (typeof key === 'string') count++;
      return undefined;
    },
    has(_t, key) {
      if (typeof key === 'string') count++;
      return false;
    },
    set() {
      return false;
    },
  });
  return {
    proto,
    get count() {
      return count;
    },
  };
}
