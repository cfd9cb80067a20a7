import type { Label } from '../labels.js';
import type { InstanceContext, Node } from './node.js';
import { NO_KEY, type Key, type Receiver } from './receiver.js';
import type { Runtime } from './runtime.js';
import type { KeptNode, KeptOps, StateSlot } from './state/checkpointer.js';
import { KeptStateError } from './state/kept-state-error.js';

/**
 * The labels of a node's instances: one fixed label outside keyed sections; in a keyed section
 * one per key, base ⊔ the key's tag in each family, computed once per key (never from data).
 */
export class KeyLabels {
  readonly #ctx: InstanceContext;
  readonly #byKey = new Map<Key, Label>();
  #lastKey: Key = NO_KEY;
  #last: Label;

  constructor(ctx: InstanceContext) {
    this.#ctx = ctx;
    this.#last = ctx.label;
    this.#byKey.set(NO_KEY, ctx.label);
  }

  of(key: Key): Label {
    if (key === this.#lastKey) return this.#last;
    let l = this.#byKey.get(key);
    if (l === undefined) {
      l = this.#ctx.label;
      for (const f of this.#ctx.bound.families) l = l.join(f.label(key));
      this.#byKey.set(key, l);
    }
    this.#lastKey = key;
    this.#last = l;
    return l;
  }
}

/**
 * The runtime monitor for one operator instance: admits a notification only if its label flows
 * to the instance's label (per key in a keyed section), else refuses and audits it. One final
 * class for every operator, so its hot path stays monomorphic however many operator classes a
 * process uses (a check in the shared base class saw them all and went megamorphic).
 */
export class Gate {
  readonly #rt: Runtime;
  readonly #node: Node;
  readonly #label: Label;
  readonly #keyed: boolean;
  readonly #labels: KeyLabels;
  /** The last label admitted unkeyed: the hot path is one pointer compare. */
  #ok: Label;
  /** Keys whose instance failed: their later notifications are refused. */
  #dead: Set<Key> | undefined;

  constructor(ctx: InstanceContext, labels: KeyLabels) {
    this.#rt = ctx.rt;
    this.#node = ctx.node;
    this.#label = ctx.label;
    this.#keyed = ctx.bound.families.length > 0;
    this.#labels = labels;
    this.#ok = ctx.label;
  }

  /**
   * The label this notification's instance runs at, or undefined when the monitor refuses it
   * (the notification could not be read at that label) or its key's instance has failed.
   */
  admit(l: Label, key: Key): Label | undefined {
    if (!this.#keyed) {
      if (l === this.#ok) return this.#label;
      return this.#admitNew(l);
    }
    return this.#admitKeyed(l, key);
  }

  #admitNew(l: Label): Label | undefined {
    if (!this.#rt.checks || l.flowsTo(this.#label)) {
      this.#ok = l;
      return this.#label;
    }
    this.#rt.refuse(this.#node, l, this.#label);
    return undefined;
  }

  #admitKeyed(l: Label, key: Key): Label | undefined {
    if (this.#dead?.has(key) === true) return undefined;
    const at = this.#labels.of(key);
    if (l === at || !this.#rt.checks || l.flowsTo(at)) return at;
    this.#rt.refuse(this.#node, l, at);
    return undefined;
  }

  /** One key's instance failed: drop its later notifications. */
  kill(key: Key): void {
    (this.#dead ??= new Set()).add(key);
  }

  /** Has this key's instance failed? */
  dead(key: Key): boolean {
    return this.#dead?.has(key) === true;
  }
}

/**
 * Base of every operator instance: the runtime monitor's admission check (`gate`), the instance
 * label, and the error rule. An operator runs at a fixed label (per key in a keyed section); a
 * notification it may not read is refused and audited, and never reaches its function.
 */
export abstract class OperatorBase implements Receiver {
  protected readonly rt: Runtime;
  protected readonly node: Node;
  protected readonly down: Receiver;
  /** The instance label outside keyed sections. */
  protected readonly label: Label;
  protected readonly keyed: boolean;
  protected readonly labels: KeyLabels;
  /** The runtime monitor. Hot paths call `this.gate.admit` from the subclass's own method (a
   * monomorphic load there), rather than `this.admit`. */
  protected readonly gate: Gate;
  protected done = false;
  protected readonly noKey: Key = NO_KEY;
  /** With `Pipeline({ state })`: where this instance's failures (and its state, if `keep`) are
   * kept. Sinks are not registered: a sink's own end is the world's, not the pipeline's. */
  readonly #slot: StateSlot | undefined;
  #state: KeptOps | undefined;
  /** The unkeyed instance failed (unlike `done`, which completion sets too). */
  #failed = false;

  constructor(ctx: InstanceContext) {
    this.rt = ctx.rt;
    this.node = ctx.node;
    this.down = ctx.down;
    this.label = ctx.label;
    this.keyed = ctx.bound.families.length > 0;
    this.labels = new KeyLabels(ctx);
    this.gate = new Gate(ctx, this.labels);
    this.#slot = ctx.node.isSink
      ? undefined
      : ctx.rt.state?.register(ctx.node, ctx.label, ctx.bound.families.length > 0, this.#kept());
  }

  /** What the checkpointer asks of this instance (closures: no public method to call). */
  #kept(): KeptNode {
    return {
      labelOf: (k) => this.labels.of(k),
      failed: (k) => (k === NO_KEY ? this.#failed : this.gate.dead(k)),
      state: () => this.#state,
      restoreFailed: (k) => {
        this.#restoreFailed(k);
      },
    };
  }

  /**
   * The instance had failed before the checkpoint the run resumes from. A key's instance is
   * ended again, silently: what its failure sent downstream was sent then (a key never decides
   * whether anything ends). The unkeyed instance ends again and tells downstream again, as
   * outputs after the last checkpoint are emitted again: so whatever ended because of it (a
   * sink, a release's completion) ends again, exactly as in an uninterrupted run.
   */
  #restoreFailed(key: Key): void {
    if (key !== NO_KEY) {
      this.gate.kill(key);
      return;
    }
    if (this.done) return;
    this.#failed = true;
    this.done = true;
    this.down.error(
      new KeptStateError('E_STATE_FAILED', `${this.node.name}: it had failed before the restart`),
      this.label,
      NO_KEY,
    );
  }

  /**
   * With `Pipeline({ state })`: register this instance's state to be kept in the store, each
   * key's at that key's instance label (undefined otherwise: call `touch` with `?.`).
   */
  protected keep(ops: KeptOps): StateSlot | undefined {
    this.#state = ops;
    return this.#slot;
  }

  /** `this.gate.admit(l, key)`. */
  protected admit(l: Label, key: Key): Label | undefined {
    return this.gate.admit(l, key);
  }

  abstract next(value: unknown, label: Label, key: Key): void;

  /** An error thrown by this operator's function: it carries the instance's label. Outside a
   * keyed section it ends the stream; inside, it ends that key only. */
  protected failed(err: unknown, at: Label, key: Key): void {
    this.rt.fail(this.node, err, at, key);
    this.#end(key);
    this.down.error(err, at, key);
  }

  /** End one key's instance (in a keyed section): its later notifications are dropped. Not a
   * failure: nothing is kept of it. */
  protected endKey(key: Key): void {
    if (key === NO_KEY) this.done = true;
    else this.gate.kill(key);
  }

  /** The instance (one key's, or the unkeyed one) failed, or an error ended it: with state,
   * that is kept at its label, so a restart does not bring it back. */
  #end(key: Key): void {
    if (key === NO_KEY) this.done = this.#failed = true;
    else this.gate.kill(key);
    this.#slot?.touch(key);
  }

  error(err: unknown, label: Label, key: Key): void {
    if (this.done) return;
    const at = this.gate.admit(label, key);
    if (at === undefined) return;
    this.#end(key);
    this.down.error(err, at, key);
  }

  complete(label: Label): void {
    if (this.done) return;
    if (this.gate.admit(label, NO_KEY) === undefined) return;
    this.done = true;
    this.down.complete(this.label);
  }
}
