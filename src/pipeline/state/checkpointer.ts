import { createHash } from 'node:crypto';
import { Label, type Tag } from '../../labels.js';
import type { Node } from '../node.js';
import { NO_KEY, type Key } from '../receiver.js';
import type { Runtime } from '../runtime.js';
import { encodeKey } from './key-codec.js';
import { KeptStateError } from './kept-state-error.js';
import {
  KeptOperator,
  KeptRouter,
  SourceCursor,
  type KeptNode,
  type KeptOps,
  type StateSlot,
} from './kept-slots.js';
import { restoreKept } from './restore.js';
import type { StateStore } from './state-store.js';

export type { KeptNode, KeptOps, StateSlot } from './kept-slots.js';
export { SourceCursor } from './kept-slots.js';

/** structuredClone, with an error that names the operator, never the value. */
function copy(v: unknown, where: string): unknown {
  try {
    return structuredClone(v);
  } catch {
    throw new KeptStateError('E_STATE_VALUE', `${where}: its state is not JSON data`);
  }
}

/**
 * Keeps a pipeline's keyed operator state and source positions in a faceted store.
 *
 * Store layout (prefix `sluice/<pipeline>/`, nodes numbered in the check's order): `src/<i>` at
 * source i's label: `{v, graph, pos}`; `op/<r>/i/<key>` at router r's (keyBy's) label: a key it
 * routed (`{k}`, its name), written from the router, which decides keys at that label;
 * `op/<j>/k/<key>` at the key's instance label of operator j (j's label ⊔ the key's tags):
 * `{k, s}` (its state) or `{k, dead}` (that instance failed); `op/<j>/-` at j's label: `{s}`
 * (unkeyed state) or `{dead}` (the unkeyed instance failed). Nothing an instance at a key's
 * label does is written below that label: which keys hold state, and which failed, is found at
 * restore by looking each routed key up at its own label.
 *
 * A checkpoint is taken synchronously between two source events (dispatch is depth-first, so
 * every operator has then seen exactly the events counted by the positions), copied, and
 * committed in one transaction; at most one commit is in flight, later ones wait. On restart,
 * `restore` loads it and each source skips the events it had already emitted.
 *
 * Every record is written, and read back, at its label plus the integrity tag `kept` (derived,
 * held by the host only): a view at a label without it (every view a unit or handler gets)
 * cannot erase those facets, and what it writes under these keys is not seen by `restore`. So no
 * view can choose the state or position a restarted pipeline loads, nor make its restore fail.
 */
export class Checkpointer {
  readonly #rt: Runtime;
  readonly #store: StateStore;
  readonly #prefix: string;
  readonly #every: number;
  readonly #graph: string;
  readonly #index: ReadonlyMap<Node, number>;
  readonly #ops: KeptOperator[] = [];
  readonly #sources = new Map<Node, SourceCursor>();
  readonly #routers = new Map<number, KeptRouter>();
  #since = 0;
  /** The last commit queued or running. */
  #tail: Promise<void> = Promise.resolve();
  #error: unknown;
  #failed = false;
  readonly #kept: Tag;
  readonly #sealed = new Map<Label, Label>();

  constructor(
    rt: Runtime,
    store: StateStore,
    pipeline: string,
    every: number,
    nodes: readonly Node[],
    kept: Tag,
  ) {
    this.#rt = rt;
    this.#kept = kept;
    this.#store = store;
    this.#prefix = `sluice/${pipeline}/`;
    this.#every = every;
    this.#index = new Map(nodes.map((n, i) => [n, i]));
    this.#graph = fingerprint(nodes, this.#index);
  }

  /** `l` with the integrity tag `kept` added: the label every record is written and read at. */
  #seal(l: Label): Label {
    let s = this.#sealed.get(l);
    if (s === undefined) {
      s = Label.of({ secrecy: l.secrecy, integrity: [...l.integrity, this.#kept] });
      this.#sealed.set(l, s);
    }
    return s;
  }

  /** The first error of a checkpoint (the run then stops), if any. */
  get error(): { readonly error: unknown } | undefined {
    return this.#failed ? { error: this.#error } : undefined;
  }

  /** Every operator instance (sinks aside) registers: its failures, and its state if it keeps
   * one, are kept; `keyed` if it runs one instance per key. */
  register(node: Node, base: Label, keyed: boolean, kept: KeptNode): StateSlot {
    const k = new KeptOperator(
      this.#index.get(node) as number,
      node.name,
      base,
      keyed,
      kept,
      keyed ? this.#routersAbove(node) : [],
    );
    this.#ops.push(k);
    return k;
  }

  /** A keyBy router at `label`: it touches each key it routes. */
  router(node: Node, label: Label): StateSlot {
    const r = new KeptRouter(this.#index.get(node) as number, node.name, label);
    this.#routers.set(r.index, r);
    return r;
  }

  /** The routers whose keys can reach `node` (the indices of keyBy nodes above it). */
  #routersAbove(node: Node): number[] {
    const seen = new Set<Node>();
    const out: number[] = [];
    const walk = (n: Node) => {
      for (const i of n.inputs) {
        if (seen.has(i.node)) continue;
        seen.add(i.node);
        if (i.node.effect.kind === 'key-by') out.push(this.#index.get(i.node) as number);
        else walk(i.node);
      }
    };
    walk(node);
    return out.sort((a, b) => a - b);
  }

  addSource(node: Node, label: Label): void {
    this.#sources.set(
      node,
      new SourceCursor(node.name, this.#index.get(node) as number, label, this),
    );
  }

  cursor(node: Node): SourceCursor | undefined {
    return this.#sources.get(node);
  }

  /** Per source name: events processed before the restart (skipped on this run). */
  resumed(): Record<string, number> {
    return Object.fromEntries([...this.#sources.values()].map((c) => [c.name, c.resumedAt]));
  }

  /**
   * A source emitted (and the pipeline fully processed) one event. Checkpoints are taken at
   * fixed positions (every `every` events), queued behind a commit in flight rather than
   * skipped: skipping would make which positions reach the source's label depend on how long
   * commits of (secret) state take. The cost: snapshots wait in memory while the store is slower
   * than the source.
   */
  tick(): void {
    if (++this.#since >= this.#every) this.#checkpoint();
  }

  /** A source ended: checkpoint (committed after any commit in flight). */
  ended(): void {
    this.#checkpoint();
  }

  #fail(e: unknown): void {
    if (!this.#failed) {
      this.#failed = true;
      this.#error = e;
    }
    this.#rt.stop();
  }

  #checkpoint(): void {
    if (this.#failed) return;
    let writes: { label: Label; key: string; value: unknown }[];
    try {
      writes = this.#snapshot();
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#since = 0;
    this.#tail = this.#tail.then(() => this.#commit(writes));
  }

  /** Resolves when every checkpoint taken so far is committed (or has failed the run). */
  flushed(): Promise<void> {
    return this.#tail;
  }

  /** Commits run one after another, in the order their snapshots were taken. */
  async #commit(writes: readonly { label: Label; key: string; value: unknown }[]): Promise<void> {
    try {
      if (!this.#failed) await this.#store.commit(writes);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Everything changed since the last checkpoint, copied now. */
  #snapshot(): { label: Label; key: string; value: unknown }[] {
    const P = this.#prefix;
    const writes: { label: Label; key: string; value: unknown }[] = [];
    for (const c of this.#sources.values()) {
      writes.push({
        label: this.#seal(c.label),
        key: `${P}src/${String(c.index)}`,
        value: { v: 1, graph: this.#graph, pos: c.pos },
      });
    }
    for (const r of this.#routers.values()) {
      const at = `${P}op/${String(r.index)}/i/`;
      for (const key of r.fresh) {
        const e = encodeKey(key);
        writes.push({ label: this.#seal(r.label), key: `${at}${e.id}`, value: { k: e.text } });
      }
      r.fresh = [];
    }
    for (const k of this.#ops) {
      const at = `${P}op/${String(k.index)}/`;
      for (const key of k.dirty) {
        const v = this.#record(k, key);
        if (key === NO_KEY) {
          writes.push({ label: this.#seal(k.base), key: `${at}-`, value: v });
          continue;
        }
        const e = encodeKey(key);
        writes.push({
          label: this.#seal(k.node.labelOf(key)),
          key: `${at}k/${e.id}`,
          value: v === undefined ? undefined : { k: e.text, ...v },
        });
      }
      k.dirty.clear();
    }
    return writes;
  }

  /** What is kept of a key's instance: failed, its state, or nothing (a tombstone). */
  #record(k: KeptOperator, key: Key): { dead: true } | { s: unknown } | undefined {
    if (k.node.failed(key)) return { dead: true };
    const ops = k.node.state();
    if (ops === undefined) return undefined;
    const s = this.#keepable(k, ops, key);
    if (s !== undefined) return { s: s.value };
    return k.node.failed(key) ? { dead: true } : undefined;
  }

  /**
   * The key's state, copied and checked as the store will check it; undefined if it has none.
   * A state that cannot be kept fails that key's instance now, at its label (as its function
   * throwing would), and is kept as failed: whether the run goes on, and what other keys and
   * branches see, never depends on one key's (secret) state.
   */
  #keepable(k: KeptOperator, ops: KeptOps, key: Key): { readonly value: unknown } | undefined {
    const s = ops.save(key);
    if (s === undefined) return undefined;
    try {
      const value = copy(s.value, k.name);
      this.#store.check?.(value);
      return { value };
    } catch (e) {
      ops.fail(
        key,
        e instanceof KeptStateError
          ? e
          : new KeptStateError('E_STATE_VALUE', `${k.name}: its state cannot be kept`),
      );
      return undefined;
    }
  }

  /** Load the last checkpoint, if any; each source will skip what it had emitted. */
  restore(): Promise<void> {
    const cx = {
      store: this.#store,
      prefix: this.#prefix,
      graph: this.#graph,
      seal: (l: Label) => this.#seal(l),
    };
    return restoreKept(cx, this.#sources.values(), this.#ops, this.#routers);
  }
}

/** Names the graph (kinds, given names and edges, in the check's topological order) and the
 * layout of its kept records. */
function fingerprint(nodes: readonly Node[], index: ReadonlyMap<Node, number>): string {
  const h = createHash('sha256');
  // The store layout: state kept under another (the key index at each operator) is refused.
  h.update('layout:router-index');
  for (const n of nodes) {
    const named = n.name === `${n.kind}#${String(n.id)}` ? '' : n.name;
    const ins = n.inputs.map((i) => `${String(index.get(i.node))}${i.control ? 'c' : ''}`);
    h.update(JSON.stringify([n.kind, named, ins]));
  }
  return h.digest('hex').slice(0, 32);
}
