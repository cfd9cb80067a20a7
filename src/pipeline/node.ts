import { ConfigError } from '../errors.js';
import type { Label } from '../labels.js';
import type { Authority } from '../authority.js';
import type { KeyFamily } from './key-family.js';
import type { LabelBound } from './label-bound.js';
import type { Receiver } from './receiver.js';
import type { Runtime } from './runtime.js';

/** An edge into a node. `control` inputs decide when or whether the node emits (notifiers,
 * partners, predicates' streams): they raise its presence label as much as data does. */
export interface Input {
  readonly node: Node;
  /** Shown in `sluice check` paths, e.g. `source`, `notifier`, `partner 2`. */
  readonly role: string;
  readonly control: boolean;
}

/** What one instance of a node is given when a pipeline runs. */
export interface InstanceContext {
  readonly rt: Runtime;
  readonly node: Node;
  /** The node's fixed label (its keyed instances add their key's tags). */
  readonly label: Label;
  /** The bound of the node's instances' labels, as the static check computed it. */
  readonly bound: LabelBound;
  /** The bound of what it emits (differs from `bound` after a release). */
  readonly out: LabelBound;
  /** Downstream: every consumer's port, fanned out. */
  readonly down: Receiver;
}

/** How a node changes labels, beyond "the join of its inputs". */
export type Effect =
  | { readonly kind: 'plain' }
  | { readonly kind: 'key-by'; readonly family: KeyFamily }
  | {
      readonly kind: 'release';
      readonly op: 'declassify' | 'endorse';
      readonly to: Label;
      readonly authority: Authority;
      readonly families: readonly KeyFamily[];
    };

/** A source starts pushing into `down` when the pipeline runs and resolves when it is done. */
export type SourceStart = (ctx: InstanceContext) => Promise<void>;

export interface NodeInit {
  readonly kind: string;
  readonly name?: string | undefined;
  readonly inputs: readonly Input[];
  /** A fixed label chosen by the pipeline's author (else the check infers the least one). */
  readonly label?: Label | undefined;
  readonly effect?: Effect;
  /** Ports: one receiver per input, in order. Absent for sources. */
  readonly make?: (ctx: InstanceContext) => readonly Receiver[];
  readonly start?: SourceStart;
  /** A source that emits the same events in the same order when run again (a file, an
   * array), so a restarted pipeline can skip those it had processed. */
  readonly resumable?: boolean;
  /** Sinks: the clearance (what may reach them), with key families for per-key sinks. */
  readonly clearance?: LabelBound;
  /** Topics this node publishes to or subscribes from, to find cycles through the engine. */
  readonly publishes?: string;
  readonly subscribes?: string;
}

let nextId = 0;

/** Only `makeNode` (the pipeline layer's sources, operators and sinks) can build a Node: a node
 * is trusted by the static check (its effect says how it relabels) and runs its `make`. */
const MAKE_KEY = Symbol('sluice.node.make');

function frozenEffect(e: Effect): Effect {
  if (e.kind === 'release')
    return Object.freeze({ ...e, families: Object.freeze([...e.families]) });
  return Object.freeze({ ...e });
}

/** One operator, source or sink in a pipeline's graph; immutable once made (inputs and effect
 * included, so the graph the check sees is the graph that runs). */
export class Node {
  readonly #genuine = true;
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly inputs: readonly Input[];
  readonly label: Label | undefined;
  readonly effect: Effect;
  readonly make: ((ctx: InstanceContext) => readonly Receiver[]) | undefined;
  readonly start: SourceStart | undefined;
  readonly resumable: boolean;
  readonly clearance: LabelBound | undefined;
  readonly publishes: string | undefined;
  readonly subscribes: string | undefined;

  constructor(key: symbol, init: NodeInit) {
    if (key !== MAKE_KEY) {
      throw new ConfigError('nodes are made by sources, operators and sinks, not constructed');
    }
    this.id = ++nextId;
    this.kind = init.kind;
    this.name = init.name ?? `${init.kind}#${String(this.id)}`;
    this.inputs = Object.freeze(
      init.inputs.map((i) => {
        if (!Node.isNode(i.node)) throw new ConfigError(`${this.name}: an input is not a stream`);
        return Object.freeze({ node: i.node, role: i.role, control: i.control });
      }),
    );
    this.label = init.label;
    this.effect = frozenEffect(init.effect ?? { kind: 'plain' });
    this.make = init.make;
    this.start = init.start;
    this.resumable = init.resumable === true;
    this.clearance = init.clearance;
    this.publishes = init.publishes;
    this.subscribes = init.subscribes;
    Object.freeze(this);
  }

  /** True for nodes made by `makeNode` only (forged objects and proxies fail). */
  static isNode(x: unknown): x is Node {
    return typeof x === 'object' && x !== null && #genuine in x;
  }

  get isSource(): boolean {
    return this.start !== undefined;
  }

  get isSink(): boolean {
    return this.clearance !== undefined;
  }
}

/** Make a graph node (internal to the pipeline layer: not in the package's exports). */
export function makeNode(init: NodeInit): Node {
  return new Node(MAKE_KEY, init);
}
