import { createHash } from 'node:crypto';
import { Label, type Tag } from '../../labels.js';
import type { Node } from '../node.js';
import { NO_KEY, type Key } from '../receiver.js';
import type { Runtime } from '../runtime.js';
import { decodeKey, encodeKey } from './key-codec.js';
import { KeptStateError } from './kept-state-error.js';
import type { StateStore } from './state-store.js';

/** How an operator instance hands its per-key state to the checkpointer and takes it back. */
export interface KeptOps {
  /** The key's state as `{ value }`, or undefined once the key's instance has failed. */
  save(key: Key): { readonly value: unknown } | undefined;
  /** Restore a key's state; throws if the value has the wrong shape. */
  load(key: Key, value: unknown): void;
  /** The key's instance had failed before the checkpoint: end it again. */
  kill(key: Key): void;
  /** The key's state cannot be kept: fail that key's instance (an error at its label), as if
   * its function had thrown; only that key ends. */
  fail(key: Key, err: unknown): void;
}

/** What a stateful operator holds: `touch(key)` after every change of that key's state. */
export interface StateSlot {
  touch(key: Key): void;
}

class KeptOperator implements StateSlot {
  readonly dirty = new Set<Key>();
  /** Keys whose index entry is stored. */
  readonly known = new Set<Key>();
  constructor(
    readonly index: number,
    readonly name: string,
    readonly base: Label,
    readonly labelOf: (k: Key) => Label,
    readonly ops: KeptOps,
  ) {}
  touch(key: Key): void {
    this.dirty.add(key);
  }
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
    readonly cp: Checkpointer,
  ) {}
}

const PAGE = 1000;

function record(v: unknown, where: string): Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new KeptStateError('E_STATE_CORRUPT', `${where}: a stored record is corrupt`);
  }
  return v as Readonly<Record<string, unknown>>;
}

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
 * Store layout (prefix `sluice/<pipeline>/`): `src/<i>` at source i's label: `{v, graph, pos}`;
 * `op/<j>/i/<key>` at operator j's fixed label: the key's name (the set of keys is data at the
 * router's label, which flows there); `op/<j>/k/<key>` at the key's instance label (base ⊔ the
 * key's tags): `{k, s}` (its state) or `{k, dead}`; `op/<j>/-` at the base: unkeyed state.
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

  register(node: Node, base: Label, labelOf: (k: Key) => Label, ops: KeptOps): StateSlot {
    const k = new KeptOperator(this.#index.get(node) as number, node.name, base, labelOf, ops);
    this.#ops.push(k);
    return k;
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
    for (const k of this.#ops) {
      const at = `${P}op/${String(k.index)}/`;
      for (const key of k.dirty) {
        const s = this.#keepable(k, key);
        if (key === NO_KEY) {
          writes.push({
            label: this.#seal(k.base),
            key: `${at}-`,
            value: s === undefined ? undefined : { s: s.value },
          });
          continue;
        }
        const e = encodeKey(key);
        if (!k.known.has(key)) {
          writes.push({ label: this.#seal(k.base), key: `${at}i/${e.id}`, value: { k: e.text } });
          k.known.add(key);
        }
        writes.push({
          label: this.#seal(k.labelOf(key)),
          key: `${at}k/${e.id}`,
          value: s === undefined ? { k: e.text, dead: true } : { k: e.text, s: s.value },
        });
      }
      k.dirty.clear();
    }
    return writes;
  }

  /**
   * The key's state, copied and checked as the store will check it; undefined if the key's
   * instance has failed. A state that cannot be kept fails that key's instance now, at its
   * label (as its function throwing would), and is kept as failed: whether the run goes on, and
   * what other keys and branches see, never depends on one key's (secret) state.
   */
  #keepable(k: KeptOperator, key: Key): { readonly value: unknown } | undefined {
    const s = k.ops.save(key);
    if (s === undefined) return undefined;
    try {
      const value = copy(s.value, k.name);
      this.#store.check?.(value);
      return { value };
    } catch (e) {
      k.ops.fail(
        key,
        e instanceof KeptStateError
          ? e
          : new KeptStateError('E_STATE_VALUE', `${k.name}: its state cannot be kept`),
      );
      return undefined;
    }
  }

  /** Load the last checkpoint, if any; each source will skip what it had emitted. */
  async restore(): Promise<void> {
    let found = false;
    for (const c of this.#sources.values()) {
      const where = `source ${String(c.index)}`;
      const got = await this.#store
        .at(this.#seal(c.label))
        .get(`${this.#prefix}src/${String(c.index)}`);
      if (got === undefined) continue;
      const r = record(got, where);
      if (r.v !== 1 || typeof r.graph !== 'string' || !Number.isSafeInteger(r.pos)) {
        throw new KeptStateError('E_STATE_CORRUPT', `${where}: the stored position is corrupt`);
      }
      if (r.graph !== this.#graph) {
        throw new KeptStateError(
          'E_STATE_INCOMPATIBLE',
          'the stored state was kept by a different pipeline graph: run the pipeline it was ' +
            'kept by, give this one another name, or remove the stored state',
        );
      }
      c.skip = c.resumedAt = Math.max(0, r.pos as number);
      found = true;
    }
    if (found) for (const k of this.#ops) await this.#restoreOperator(k);
  }

  async #restoreOperator(k: KeptOperator): Promise<void> {
    const at = `${this.#prefix}op/${String(k.index)}/`;
    const base = this.#store.at(this.#seal(k.base));
    const one = await base.get(`${at}-`);
    if (one !== undefined) load(k, NO_KEY, record(one, k.name));
    let cursor: string | undefined;
    do {
      const page = await base.scan({
        prefix: `${at}i/`,
        limit: PAGE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const item of page.items) {
        const key = decodeKey(record(item.value, k.name).k, k.name);
        const e = encodeKey(key);
        const got = await this.#store.at(this.#seal(k.labelOf(key))).get(`${at}k/${e.id}`);
        const r = record(got, k.name);
        if (item.key !== `${at}i/${e.id}` || r.k !== e.text) {
          throw new KeptStateError('E_STATE_CORRUPT', `${k.name}: a stored key is corrupt`);
        }
        if (r.dead === true) k.ops.kill(key);
        else load(k, key, r);
        k.known.add(key);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
}

function load(k: KeptOperator, key: Key, r: Readonly<Record<string, unknown>>): void {
  try {
    if (!('s' in r)) throw new Error('no state');
    k.ops.load(key, r.s);
  } catch {
    throw new KeptStateError('E_STATE_CORRUPT', `${k.name}: a stored state has the wrong shape`);
  }
}

/** Names the graph: kinds, given names and edges, in the check's topological order. */
function fingerprint(nodes: readonly Node[], index: ReadonlyMap<Node, number>): string {
  const h = createHash('sha256');
  for (const n of nodes) {
    const named = n.name === `${n.kind}#${String(n.id)}` ? '' : n.name;
    const ins = n.inputs.map((i) => `${String(index.get(i.node))}${i.control ? 'c' : ''}`);
    h.update(JSON.stringify([n.kind, named, ins]));
  }
  return h.digest('hex').slice(0, 32);
}
