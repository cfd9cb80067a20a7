import type { Label } from '../../labels.js';
import type { Key } from '../receiver.js';

/** How a stateful operator hands its per-key state to the checkpointer and takes it back. */
export interface KeptOps {
  /** The key's state as `{ value }`, or undefined if it has none. */
  save(key: Key): { readonly value: unknown } | undefined;
  /** Restore a key's state; throws if the value has the wrong shape. */
  load(key: Key, value: unknown): void;
  /** The key's state cannot be kept: fail that key's instance (an error at its label), as if
   * its function had thrown; only that key ends. */
  fail(key: Key, err: unknown): void;
}

/** What the checkpointer asks of every operator instance of a pipeline with state. */
export interface KeptNode {
  /** The label of a key's instance (the operator's label ⊔ the key's tags). */
  labelOf(key: Key): Label;
  /** Has this key's instance (NO_KEY: the unkeyed instance) failed? */
  failed(key: Key): boolean;
  /** The operator's state, for operators that keep one (reduce, scan, windowCount, windowTime). */
  state(): KeptOps | undefined;
  /** Restore: the instance had failed before the checkpoint. */
  restoreFailed(key: Key): void;
}

/** What an instance holds: `touch(key)` after every change of what is kept of that key. */
export interface StateSlot {
  touch(key: Key): void;
}

/** One operator instance: the keys changed since the last checkpoint. */
export class KeptOperator implements StateSlot {
  readonly dirty = new Set<Key>();
  constructor(
    readonly index: number,
    readonly name: string,
    readonly base: Label,
    readonly keyed: boolean,
    readonly node: KeptNode,
    /** The routers (keyBy) whose keys can reach this operator. */
    readonly routers: readonly number[],
  ) {}
  touch(key: Key): void {
    this.dirty.add(key);
  }
}

/**
 * A keyBy router: the keys it has routed, kept at its own label, where it decides them (from
 * data at that label only). At restore, the operators below it look each of these keys up at
 * the key's instance label: the set of keys below a key's label never depends on what any
 * key's instance did with its data (a per-key filter, map or failure).
 */
export class KeptRouter implements StateSlot {
  readonly known = new Set<string | number>();
  /** Keys routed since the last checkpoint, in routing order. */
  fresh: (string | number)[] = [];
  constructor(
    readonly index: number,
    readonly name: string,
    readonly label: Label,
  ) {}
  touch(key: Key): void {
    if (typeof key === 'symbol' || this.known.has(key)) return;
    this.known.add(key);
    this.fresh.push(key);
  }
}

/** What a resumable source reports to the checkpointer. */
export interface SourceTicks {
  tick(): void;
  ended(): void;
}

/** A resumable source's position: events it emitted; the first `skip` were processed before. */
export class SourceCursor {
  pos = 0;
  skip = 0;
  /** Where the restored checkpoint left this source (0 on a fresh start). */
  resumedAt = 0;
  constructor(
    readonly name: string,
    readonly index: number,
    readonly label: Label,
    readonly cp: SourceTicks,
  ) {}
}
