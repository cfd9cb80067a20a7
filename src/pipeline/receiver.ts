import type { Label } from '../labels.js';

/** The key of a notification outside any keyed section of a pipeline. */
export const NO_KEY: unique symbol = Symbol('sluice.no-key');
export type Key = string | number | typeof NO_KEY;

/**
 * The runtime protocol between operator instances: the hot path. Every notification carries
 * its label: the join of its payload label and its presence label (what decided that it
 * happens, when, and in which order; DESIGN.md §1 "Reactive control flow"). In a keyed section
 * it also carries its key, and `error` may end one key only.
 */
export interface Receiver {
  next(value: unknown, label: Label, key: Key): void;
  error(err: unknown, label: Label, key: Key): void;
  complete(label: Label): void;
}
