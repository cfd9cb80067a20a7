import { ConfigError } from '../errors.js';
import type { Engine, TagGrant } from '../engine/engine.js';
import { Label, type Privilege } from '../labels.js';
import type { Key } from './receiver.js';

const NOT_IN_TAG_NAME = /[^\p{L}\p{N}_.:@/-]/gu;

/**
 * A family of secrecy tags, one per key (per carrier, per patient, per investor), minted on
 * first use. `keyBy(keyOf, family)` runs each key's instance at `family.label(key)` joined with
 * the stream's label, so one key's data never reaches another key's instance or sink.
 *
 * The family is a capability: whoever holds it holds the privileges on its tags (the pipeline
 * author, who created it) and may give it to `declassify` to release per-key data. Tag names are
 * `name:key` and appear in labels and the audit log, so use keys that are not themselves secret.
 * (Characters a tag name may not hold are shown as `_`: any string or number is a key.)
 */
export class KeyFamily {
  readonly name: string;
  readonly #engine: Engine;
  readonly #grants = new Map<string | number, TagGrant>();
  readonly #derive: { readonly seed: Uint8Array; readonly context: string } | undefined;

  /**
   * With `derive`, each key's tag is derived from the seed (`Engine.deriveTag`) for the context
   * and the key, so it is the same tag in every process: what `Pipeline({ state })` does, so
   * that each key's kept state is found at its label again after a restart.
   */
  constructor(
    engine: Engine,
    name: string,
    derive?: { readonly seed: Uint8Array; readonly context: string },
  ) {
    if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) {
      throw new ConfigError('a key family name is 1-64 letters, digits, _, . or -');
    }
    this.name = name;
    this.#engine = engine;
    this.#derive = derive;
  }

  /** Are this family's tags the same in every process (derived from a seed)? */
  get derived(): boolean {
    return this.#derive !== undefined;
  }

  /** True for genuine families only (an object made from the prototype, or a proxy, fails). */
  static isKeyFamily(x: unknown): x is KeyFamily {
    return typeof x === 'object' && x !== null && #grants in x;
  }

  #grant(key: Key): TagGrant {
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new ConfigError(`keys of family '${this.name}' must be strings or numbers`);
    }
    let g = this.#grants.get(key);
    if (g === undefined) {
      // A tag name is display only: a key with spaces or symbols (or too long) must not fail.
      const shown = String(key).replace(NOT_IN_TAG_NAME, '_').slice(0, 63);
      const d = this.#derive;
      g =
        d === undefined
          ? this.#engine.createTag(`${this.name}:${shown}`)
          : this.#engine.deriveTag(
              d.seed,
              `${d.context}/${typeof key === 'number' ? 'n' : 's'}:${String(key)}`,
              `${this.name}:${shown}`,
            );
      this.#grants.set(key, g);
    }
    return g;
  }

  /** The secrecy label of one key. */
  label(key: Key): Label {
    return Label.secrecy(this.#grant(key).tag);
  }

  /** The privileges on one key's tag (the family's holder may use them). */
  privileges(key: Key): readonly Privilege[] {
    return this.#grant(key).all;
  }

  /** How many keys have a tag so far. */
  get size(): number {
    return this.#grants.size;
  }

  toString(): string {
    return `${this.name}:*`;
  }
}
