import { Authority } from '../../authority.js';
import { ConfigError } from '../../errors.js';
import { Label, type Privilege } from '../../labels.js';
import { showLabel } from '../check.js';
import { immutable } from '../immutable.js';
import { KeyFamily } from '../key-family.js';
import type { InstanceContext } from '../node.js';
import { OperatorBase } from '../operator-base.js';
import { NO_KEY, type Key } from '../receiver.js';
import { asStream, opInit, Stream, type OperatorFunction } from '../stream.js';
import { allOf, type ReleasePolicy } from './release-policy.js';

export interface ReleaseOptions {
  /** The label released data carries (declassify: default public). */
  readonly to?: Label;
  /** The privileges the releaser holds (genuine Privilege objects). */
  readonly privileges?: Iterable<Privilege>;
  /** Key families whose per-key tags it may remove (it holds them: the family is a capability). */
  readonly families?: readonly KeyFamily[];
  /** The declared policy: the only way data is released. */
  readonly policy: ReleasePolicy | readonly ReleasePolicy[];
  readonly name?: string;
}

class ReleaseOp extends OperatorBase {
  readonly #op: 'declassify' | 'endorse';
  readonly #to: Label;
  readonly #base: Authority;
  readonly #families: readonly KeyFamily[];
  readonly #policy: ReleasePolicy;
  readonly #outKeyed: boolean;
  readonly #auth = new Map<Key, Authority>();
  readonly #targets = new Map<Key, Label>();
  readonly #kept: readonly KeyFamily[];

  constructor(
    ctx: InstanceContext,
    op: 'declassify' | 'endorse',
    to: Label,
    base: Authority,
    families: readonly KeyFamily[],
    policy: ReleasePolicy,
  ) {
    super(ctx);
    this.#op = op;
    this.#to = to;
    this.#base = base;
    this.#families = families;
    this.#policy = policy;
    this.#kept = ctx.out.families;
    this.#outKeyed = this.#kept.length > 0;
  }

  #authority(key: Key): Authority {
    let a = this.#auth.get(key);
    if (a === undefined) {
      a =
        key === NO_KEY || this.#families.length === 0
          ? this.#base
          : this.#base.with(this.#families.flatMap((f) => f.privileges(key)));
      this.#auth.set(key, a);
    }
    return a;
  }

  /** The released label for a key: `to`, plus the tags of the families it keeps. */
  #target(key: Key): Label {
    if (!this.#outKeyed || key === NO_KEY) return this.#to;
    let t = this.#targets.get(key);
    if (t === undefined) {
      t = this.#to;
      for (const f of this.#kept) t = t.join(f.label(key));
      this.#targets.set(key, t);
    }
    return t;
  }

  next(v: unknown, l: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(l, key);
    if (at === undefined) return;
    const to = this.#target(key);
    if (!this.#authority(key).mayRelabel(at, to)) {
      this.#audit('refused-release', 'lacks the privileges', at, to);
      return;
    }
    let out: unknown;
    try {
      out = this.#policy.release(v, key === NO_KEY ? undefined : key);
      if (out !== undefined) out = immutable(out);
    } catch (e) {
      // A policy that throws releases nothing, exactly as one that withholds: what it threw was
      // decided at the input's label, so neither the error nor an early end of the output (which
      // a reader below would see) is released. The host learns of it from the run's report.
      this.rt.fail(this.node, e, at, key);
      this.#audit(
        'refused-release',
        `withheld: the policy threw (${this.#policy.describe})`,
        at,
        to,
      );
      return;
    }
    if (out === undefined) {
      this.#audit('refused-release', `withheld by policy (${this.#policy.describe})`, at, to);
      return;
    }
    this.#audit('released', `released under policy (${this.#policy.describe})`, at, to);
    this.down.next(out, to, this.#outKeyed ? key : NO_KEY);
  }

  #audit(kind: 'released' | 'refused-release', why: string, from: Label, to: Label): void {
    this.rt.audit.record({
      kind,
      unit: this.node.name,
      op: `${this.#op}: ${why}`,
      from: showLabel(from),
      to: showLabel(to),
    });
  }

  /** An error is never released (it may carry anything); that the stream ended is. */
  override error(_err: unknown, label: Label, key: Key): void {
    if (this.done) return;
    const at = this.admit(label, key);
    if (at === undefined) return;
    this.#audit('refused-release', 'an error is never released', at, this.#to);
    if (key === NO_KEY) this.complete(label);
  }

  override complete(label: Label): void {
    if (this.done) return;
    if (this.admit(label, NO_KEY) === undefined) return;
    this.done = true;
    // The end of the stream is decided at the input's label: released with the same authority.
    this.down.complete(
      this.#authority(NO_KEY).mayRelabel(this.label, this.#to) ? this.#to : this.label,
    );
  }
}

export function release(
  op: 'declassify' | 'endorse',
  options: ReleaseOptions,
): OperatorFunction<unknown, unknown> {
  const o = options as Partial<ReleaseOptions> | undefined;
  if (typeof o !== 'object') throw new ConfigError(`${op}: options are required`);
  const to = o.to ?? Label.public;
  if (!Label.isLabel(to)) throw new ConfigError(`${op}: to must be a Label`);
  const authority = new Authority(o.privileges ?? []);
  const given: unknown = o.families ?? [];
  const families: unknown[] = Array.isArray(given) ? [...(given as unknown[])] : [given];
  if (!Array.isArray(given) || !families.every((f): f is KeyFamily => KeyFamily.isKeyFamily(f))) {
    throw new ConfigError(`${op}: families must be an array of KeyFamily`);
  }
  Object.freeze(families);
  if (o.policy === undefined) throw new ConfigError(`${op}: a policy is required`);
  const policy = allOf(Array.isArray(o.policy) ? o.policy : [o.policy as ReleasePolicy]);
  return (source) =>
    new Stream(
      opInit(
        op,
        { ...(o.name === undefined ? {} : { name: o.name }) },
        {
          inputs: [
            { node: asStream(source, `${op}: the source`).node, role: 'source', control: false },
          ],
          effect: { kind: 'release', op, to, authority, families },
          make: (ctx) => [new ReleaseOp(ctx, op, to, authority, families, policy)],
        },
      ),
    );
}
