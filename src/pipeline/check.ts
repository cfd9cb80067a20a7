import { Label, type Tag } from '../labels.js';
import { LabelBound } from './label-bound.js';
import type { KeyFamily } from './key-family.js';
import type { Node } from './node.js';

/** A short, readable label: `public`, `S{alice,bob}`, `S{alice} I{audited}`. */
export function showLabel(l: Label): string {
  const names = (ts: readonly Tag[]) => ts.map((t) => t.name).join(',');
  const parts: string[] = [];
  if (l.secrecy.length > 0) parts.push(`S{${names(l.secrecy)}}`);
  if (l.integrity.length > 0) parts.push(`I{${names(l.integrity)}}`);
  return parts.length === 0 ? 'public' : parts.join(' ');
}

export function showBound(b: LabelBound): string {
  const fam = b.families.map((f) => `S{${f.toString()}}`);
  if (fam.length === 0) return showLabel(b.base);
  return b.base.secrecy.length + b.base.integrity.length === 0
    ? fam.join(' ⊔ ')
    : `${showLabel(b.base)} ⊔ ${fam.join(' ⊔ ')}`;
}

/** One node as the check sees it. */
export interface CheckedNode {
  readonly node: Node;
  /** Join of the labels of everything that feeds the node, data and control. */
  readonly required: LabelBound;
  /** The node's fixed label: declared, or the least that can read `required`. */
  readonly label: LabelBound;
  /** What it emits (after re-keying or a release); sinks emit nothing. */
  readonly out: LabelBound | undefined;
}

export interface Violation {
  readonly node: Node;
  readonly message: string;
  /** Each offending tag or family, with the path it travels: origin → … → node. */
  readonly paths: readonly { readonly what: string; readonly path: string }[];
  readonly hint: string;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly nodes: readonly CheckedNode[];
  readonly violations: readonly Violation[];
  /** Set when the graph has a cycle (the nodes on it, in order); nothing else is checked. */
  readonly cycle?: readonly string[];
}

type Item =
  | { readonly kind: 'secrecy'; readonly tag: Tag }
  | { readonly kind: 'integrity'; readonly tag: Tag }
  | { readonly kind: 'family'; readonly family: KeyFamily };

function has(b: LabelBound, it: Item): boolean {
  if (it.kind === 'secrecy') return b.base.secrecy.includes(it.tag);
  if (it.kind === 'integrity') return b.base.integrity.includes(it.tag);
  return b.families.includes(it.family);
}

/** Does `it` in `from` offend a target? secrecy/family: present; integrity: missing. */
function offends(from: LabelBound, it: Item): boolean {
  return it.kind === 'integrity' ? !has(from, it) : has(from, it);
}

function showItem(it: Item): string {
  if (it.kind === 'secrecy') return `secrecy tag '${it.tag.name}'`;
  if (it.kind === 'integrity') return `missing integrity tag '${it.tag.name}'`;
  return `per-key tags of family '${it.family.name}'`;
}

function offendingItems(have: LabelBound, target: LabelBound): Item[] {
  const items: Item[] = [];
  for (const tag of have.base.secrecy) {
    if (!target.base.secrecy.includes(tag)) items.push({ kind: 'secrecy', tag });
  }
  for (const tag of target.base.integrity) {
    if (!have.base.integrity.includes(tag)) items.push({ kind: 'integrity', tag });
  }
  for (const family of have.families) {
    if (!target.families.includes(family)) items.push({ kind: 'family', family });
  }
  return items;
}

/** Topological order of everything that feeds `sinks`, or the nodes on a cycle. */
function order(sinks: readonly Node[]): { order: Node[] } | { cycle: Node[] } {
  const all = new Set<Node>();
  const collect = (n: Node): void => {
    if (all.has(n)) return;
    all.add(n);
    for (const i of n.inputs) collect(i.node);
  };
  sinks.forEach(collect);
  // Engine topics inside one pipeline: a subscriber depends on every publisher of its topic.
  const publishers = new Map<string, Node[]>();
  for (const n of all) {
    if (n.publishes !== undefined) {
      publishers.set(n.publishes, [...(publishers.get(n.publishes) ?? []), n]);
    }
  }
  const deps = (n: Node): Node[] => [
    ...n.inputs.map((i) => i.node),
    ...(n.subscribes === undefined ? [] : (publishers.get(n.subscribes) ?? [])),
  ];
  const state = new Map<Node, 1 | 2>();
  const out: Node[] = [];
  const stack: Node[] = [];
  const visit = (n: Node): Node[] | undefined => {
    const s = state.get(n);
    if (s === 2) return undefined;
    if (s === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const d of deps(n)) {
      const c = visit(d);
      if (c !== undefined) return c;
    }
    stack.pop();
    state.set(n, 2);
    out.push(n);
    return undefined;
  };
  for (const n of all) {
    const c = visit(n);
    if (c !== undefined) return { cycle: c.reverse() };
  }
  return { order: out };
}

/**
 * The static flow check (DESIGN.md §1 "Reactive control flow"): before anything runs, compute
 * each node's required label from everything that can trigger, gate, cut off, order or time
 * it, and reject a graph where data could reach a sink (or an operator with a declared label)
 * below its label. Each violation names the path the offending label travels.
 */
export function checkGraph(sinks: readonly Node[]): CheckReport {
  const o = order(sinks);
  if ('cycle' in o) {
    return {
      ok: false,
      nodes: [],
      violations: [],
      cycle: o.cycle.map((n) => n.name),
    };
  }
  const outs = new Map<Node, LabelBound>();
  const checked = new Map<Node, CheckedNode>();
  const violations: Violation[] = [];

  const outOf = (n: Node): LabelBound => outs.get(n) as LabelBound;

  /** Follow `it` back from `n` to where it enters the graph: "origin → … → n". */
  const trace = (n: Node, it: Item): string => {
    const feeding = n.inputs.find((i) => offends(outOf(i.node), it));
    if (feeding === undefined) return n.name;
    const via = feeding.control ? ` =(${feeding.role}, control flow)=> ` : ' → ';
    return `${trace(feeding.node, it)}${via}${n.name}`;
  };
  const explain = (n: Node, req: LabelBound, target: LabelBound) =>
    offendingItems(req, target).map((it) => ({ what: showItem(it), path: trace(n, it) }));

  for (const n of o.order) {
    const req =
      n.inputs.length > 0
        ? n.inputs.map((i) => outOf(i.node)).reduce((a, b) => a.join(b))
        : new LabelBound(n.label ?? Label.public);
    if (n.isSink) {
      const clearance = n.clearance as LabelBound;
      if (!req.flowsTo(clearance)) {
        violations.push({
          node: n,
          message: `${n.name} (clearance ${showBound(clearance)}) could receive data labelled ${showBound(req)}`,
          paths: explain(n, req, clearance),
          hint: 'remove the dependency, release the data with declassify (holding the privilege), or give the sink a higher clearance',
        });
      }
      checked.set(n, { node: n, required: req, label: clearance, out: undefined });
      continue;
    }
    const label = new LabelBound(n.label ?? req.base, req.families);
    if (n.label !== undefined && !req.base.flowsTo(n.label)) {
      const target = new LabelBound(n.label, req.families);
      violations.push({
        node: n,
        message: `${n.name} has the fixed label ${showLabel(n.label)} but its inputs are labelled ${showBound(req)}: it could not read them`,
        paths: explain(n, req, target),
        hint: `raise ${n.name}'s label (or drop the label option to let the check infer it), or declassify before it`,
      });
    }
    let out = label;
    const e = n.effect;
    if (e.kind === 'key-by') {
      if (req.keyed) {
        violations.push({
          node: n,
          message: `${n.name} re-keys a stream that already carries per-key labels (${showBound(req)})`,
          paths: [],
          hint: 'declassify the per-key tags before keying again',
        });
      }
      // The router runs at its input's label; what it emits runs at base ⊔ the key's tag.
      out = new LabelBound(label.base, [e.family]);
    } else if (e.kind === 'release') {
      if (!e.authority.mayRelabel(label.base, e.to)) {
        violations.push({
          node: n,
          message: `${n.name} cannot ${e.op} ${showLabel(label.base)} to ${showLabel(e.to)} with privileges [${e.authority.describe().join(' ')}]`,
          paths: [],
          hint: `give ${n.name} the privileges for the difference (t- to remove a secrecy tag, t+ to add an integrity tag)`,
        });
      }
      out = new LabelBound(
        e.to,
        label.families.filter((f) => !e.families.includes(f)),
      );
    }
    outs.set(n, out);
    checked.set(n, { node: n, required: req, label, out });
  }
  return {
    ok: violations.length === 0,
    nodes: o.order.map((n) => checked.get(n) as CheckedNode),
    violations,
  };
}
