import { Engine, type TagGrant } from '../engine/engine.js';
import { ConfigError, FlowViolationError } from '../errors.js';
import { checkGraph, showBound, showLabel, type CheckReport } from './check.js';
import { KeyFamily } from './key-family.js';
import { LabelBound } from './label-bound.js';
import { Node, type InstanceContext } from './node.js';
import type { Key, Receiver } from './receiver.js';
import { Runtime, type OperatorFailure, type SourceStats } from './runtime.js';
import type { SinkDef } from './sink.js';
import { Stream } from './stream.js';
import type { Label, Tag } from '../labels.js';
import { immutable } from './immutable.js';
import { Checkpointer } from './state/checkpointer.js';
import type { StateOptions, StateStore } from './state/state-store.js';

export interface PipelineOptions {
  readonly name?: string;
  /** The engine whose audit log and tags the pipeline uses (default: a new one). */
  readonly engine?: Engine;
  /** The runtime monitor (default true). `false` exists only to measure its cost; audited. */
  readonly checks?: boolean;
  /**
   * Keep operator state (reduce, scan, windowCount, windowTime), operator failures and source
   * positions in a faceted store, so a restarted process resumes where the last checkpoint left
   * off (see README, "Keeping state"). Tags from `p.tag()` and `p.family()` are then derived from the store's
   * seed: the same in every process.
   */
  readonly state?: StateOptions;
}

/** Operators that hold no state a restart would lose. */
const STATELESS = new Set(['map', 'filter', 'tap', 'keyBy', 'merge', 'declassify', 'endorse']);
/** Operators whose state the checkpointer keeps. */
const KEPT = new Set(['reduce', 'scan', 'windowCount', 'windowTime']);

function stateOptions(
  s: Partial<StateOptions>,
  name: string,
): { store: StateStore; every: number } {
  const st = s.store as Partial<StateStore> | undefined;
  if (
    typeof st !== 'object' ||
    typeof st.at !== 'function' ||
    typeof st.commit !== 'function' ||
    typeof st.tagSeed !== 'function'
  ) {
    throw new ConfigError('state.store must be a faceted store (sluice/store FacetedStore)');
  }
  const every = s.every ?? 10000;
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new ConfigError('state.every must be a positive integer');
  }
  if (!/^[\w.-]{1,64}$/.test(name)) {
    throw new ConfigError(
      'a pipeline that keeps state needs a name of 1-64 letters, digits, _, . or - (it names the state)',
    );
  }
  return { store: st as StateStore, every };
}

export interface RunReport {
  /** Errors thrown by operator functions or sources (the host sees them all). */
  readonly failures: readonly OperatorFailure[];
  /** Notifications the runtime monitor refused, per operator or sink name. */
  readonly refused: Readonly<Record<string, number>>;
  /** Per file source (by name): rows read, rows skipped as malformed, and why. */
  readonly sources: Readonly<Record<string, Readonly<SourceStats>>>;
  /** With `state`: per source, the events the last checkpoint had processed (skipped on this
   * run; all 0 on a fresh start). */
  readonly resumed?: Readonly<Record<string, number>>;
}

/** A running pipeline: `done` settles when every sink has ended; `stop()` ends it early. */
export interface Run {
  readonly done: Promise<RunReport>;
  stop(): void;
}

/**
 * A value that cannot be made immutable (a typed array, a Map, a proxy whose trap throws) is an
 * error at the value's own label, sent on to the consumers. It must never be thrown: the throw
 * would unwind through the producer into whatever lower-labelled code pushed into it (a public
 * source fanned out to a public sink), which would fail at its label because of secret data.
 */
function frozenOrFail(
  rt: Runtime,
  from: Node,
  v: unknown,
  l: Label,
  k: Key,
  to: Receiver,
): unknown {
  try {
    return immutable(v);
  } catch (e) {
    rt.fail(from, e, l, k);
    to.error(e, l, k);
    return UNFREEZABLE;
  }
}
const UNFREEZABLE: unique symbol = Symbol('unfreezable');

/** Several consumers share each value: frozen first (see immutable.ts). */
class FanOut implements Receiver {
  readonly #to: readonly Receiver[];
  readonly #rt: Runtime;
  readonly #from: Node;
  constructor(to: readonly Receiver[], rt: Runtime, from: Node) {
    this.#to = to;
    this.#rt = rt;
    this.#from = from;
  }
  next(v: unknown, l: Label, k: Key): void {
    const x = frozenOrFail(this.#rt, this.#from, v, l, k, this);
    if (x === UNFREEZABLE) return;
    const to = this.#to;
    for (let i = 0; i < to.length; i++) (to[i] as Receiver).next(x, l, k);
  }
  error(e: unknown, l: Label, k: Key): void {
    for (const r of this.#to) r.error(e, l, k);
  }
  complete(l: Label): void {
    for (const r of this.#to) r.complete(l);
  }
}

/** An edge that crosses a label boundary: values are frozen on the way (see immutable.ts). */
class Freezer implements Receiver {
  readonly #to: Receiver;
  readonly #rt: Runtime;
  readonly #from: Node;
  constructor(to: Receiver, rt: Runtime, from: Node) {
    this.#to = to;
    this.#rt = rt;
    this.#from = from;
  }
  next(v: unknown, l: Label, k: Key): void {
    const x = frozenOrFail(this.#rt, this.#from, v, l, k, this.#to);
    if (x !== UNFREEZABLE) this.#to.next(x, l, k);
  }
  error(e: unknown, l: Label, k: Key): void {
    this.#to.error(e, l, k);
  }
  complete(l: Label): void {
    this.#to.complete(l);
  }
}

function sameBound(a: LabelBound, b: LabelBound): boolean {
  return (
    a.base === b.base &&
    a.families.length === b.families.length &&
    a.families.every((f) => b.families.includes(f))
  );
}

const NOWHERE: Receiver = { next() {}, error() {}, complete() {} };

/** The violations of a check as text a person can act on. */
export function formatViolations(report: CheckReport): string {
  if (report.cycle !== undefined) {
    return `the pipeline has a cycle: ${report.cycle.join(' → ')}`;
  }
  return report.violations
    .map((v) =>
      [
        `✗ ${v.message}`,
        ...v.paths.map((p) => `    ${p.what} flows along: ${p.path}`),
        `    fix: ${v.hint}`,
      ].join('\n'),
    )
    .join('\n');
}

/** The check as a table: every operator with its required and fixed label. */
export function formatCheck(report: CheckReport): string {
  const rows = report.nodes.map((c) => [
    c.node.name,
    c.node.isSource ? 'source' : c.node.isSink ? 'sink' : 'operator',
    showBound(c.required),
    c.node.isSink ? `clearance ${showBound(c.label)}` : showBound(c.label),
    c.out === undefined ? '' : showBound(c.out),
  ]);
  const head = ['node', 'role', 'required label', 'fixed label', 'emits at'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((x, i) => x.padEnd(w[i] as number))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * A pipeline: streams wired to sinks. `check()` is the static flow check; `run()` checks, then
 * runs every operator at its fixed label with the runtime monitor on.
 */
export class Pipeline {
  readonly name: string;
  readonly engine: Engine;
  readonly #checks: boolean;
  readonly #sinks: Node[] = [];
  readonly #state: { store: StateStore; every: number; seed: Uint8Array; kept: Tag } | undefined;
  /** Tags made by `tag()` with state on: derived, so the same after a restart. */
  readonly #stable = new Set<Tag>();

  constructor(options: PipelineOptions = {}) {
    const o = options as Partial<PipelineOptions>;
    this.name = o.name ?? 'pipeline';
    if (o.engine !== undefined && !(o.engine instanceof Engine)) {
      throw new ConfigError('engine must be an Engine');
    }
    this.engine = o.engine ?? new Engine();
    this.#checks = o.checks ?? true;
    if (o.state !== undefined) {
      const s = stateOptions(o.state, this.name);
      const seed = s.store.tagSeed();
      // The integrity every kept record carries: views (which never hold it) cannot forge or
      // erase the state a restart loads. Its context cannot meet `tag:` or `family:` ones.
      const kept = this.engine.deriveTag(seed, `${this.name}/kept`, `${this.name}:kept`).tag;
      this.#state = { ...s, seed, kept };
    }
    if (!this.#checks) {
      this.engine.audit.record({
        kind: 'checks-disabled',
        unit: this.name,
        op: 'pipeline created with the runtime monitor off',
      });
    }
  }

  /** Create a tag (the pipeline's author holds its four privileges). */
  tag(name: string): TagGrant {
    if (this.#state === undefined) return this.engine.createTag(name);
    const g = this.engine.deriveTag(this.#state.seed, `${this.name}/tag:${name}`, name);
    this.#stable.add(g.tag);
    return g;
  }

  /** A family of per-key tags (see `keyBy`); holding it holds their privileges. */
  family(name: string): KeyFamily {
    if (this.#state === undefined) return new KeyFamily(this.engine, name);
    return new KeyFamily(this.engine, name, {
      seed: this.#state.seed,
      context: `${this.name}/family:${name}`,
    });
  }

  /** With state: refuse a graph whose state could not be kept or found again after a restart. */
  #keepable(report: CheckReport): void {
    for (const c of report.nodes) {
      const n = c.node;
      if (n.isSink || STATELESS.has(n.kind)) continue;
      if (n.isSource ? !n.resumable : !KEPT.has(n.kind)) {
        throw new ConfigError(
          n.isSource
            ? `${n.name}: a ${n.kind} source cannot resume after a restart (use from, fromCsv or fromNdjson with Pipeline({ state }))`
            : `${n.name}: ${n.kind} cannot keep its state in a store (kept: reduce, scan, windowCount, windowTime)`,
        );
      }
      const tags = [...c.label.base.secrecy, ...c.label.base.integrity];
      const bad = tags.find((t) => !this.#stable.has(t));
      if (bad !== undefined || c.label.families.some((f) => !f.derived)) {
        throw new ConfigError(
          `${n.name}: its label uses ${bad === undefined ? 'a key family' : `tag '${bad.name}'`} that is not the same after a restart (with Pipeline({ state }), make tags with p.tag() and families with p.family())`,
        );
      }
    }
  }

  /** Send `stream` to `sink`. */
  output<T>(stream: Stream<T>, sink: SinkDef<T>): this {
    if (!Stream.isStream(stream)) throw new ConfigError('output: the first argument is a Stream');
    if (typeof sink !== 'function') throw new ConfigError('output: the second argument is a sink');
    const node: unknown = sink(stream);
    // A sink's node is made by a sink (toCallback, toConsole, …): a forged node would run code
    // of its choosing at a clearance of its choosing.
    if (!Node.isNode(node) || !node.isSink) {
      throw new ConfigError('output: the sink definition did not make a sink (use toCallback, …)');
    }
    this.#sinks.push(node);
    return this;
  }

  /** The static flow check over everything wired so far. Runs nothing. */
  check(): CheckReport {
    return checkGraph(this.#sinks);
  }

  /** Check, then start every source. Throws FlowViolationError if the check fails. */
  start(): Run {
    if (this.#sinks.length === 0) throw new ConfigError('the pipeline has no output');
    const report = this.check();
    if (!report.ok) throw new FlowViolationError(formatViolations(report));
    const rt = new Runtime(this.engine.audit, this.#checks);
    const st = this.#state;
    if (st !== undefined) {
      this.#keepable(report);
      rt.state = new Checkpointer(
        rt,
        st.store,
        this.name,
        st.every,
        report.nodes.map((c) => c.node),
        st.kept,
      );
      for (const c of report.nodes) if (c.node.isSource) rt.state.addSource(c.node, c.label.base);
    }
    const ports = new Map<Node, Receiver[]>();
    const starts: (() => Promise<void>)[] = [];
    const checked = new Map(report.nodes.map((c) => [c.node, c]));
    /** Does the edge producer → consumer cross a label boundary? */
    const crosses = (producer: Node, consumer: LabelBound): boolean => {
      const p = checked.get(producer);
      return (
        p?.out === undefined || producer.effect.kind !== 'plain' || !sameBound(p.out, consumer)
      );
    };
    for (const c of [...report.nodes].reverse()) {
      const n = c.node;
      const to = ports.get(n) ?? [];
      const down =
        to.length === 0 ? NOWHERE : to.length === 1 ? (to[0] as Receiver) : new FanOut(to, rt, n);
      const ctx: InstanceContext = {
        rt,
        node: n,
        label: c.label.base,
        // A router's instance emits per key: it needs the keyed bound to compute key labels.
        bound: n.effect.kind === 'key-by' && c.out !== undefined ? c.out : c.label,
        out: c.out ?? c.label,
        down,
      };
      this.engine.audit.record({
        kind: 'unit-started',
        unit: `${this.name}/${n.name}`,
        op: `start ${n.kind}`,
        to: showLabel(c.label.base),
      });
      if (n.start !== undefined) {
        const start = n.start;
        starts.push(() => start(ctx));
        continue;
      }
      const receivers = (n.make as (ctx: InstanceContext) => readonly Receiver[])(ctx);
      n.inputs.forEach((input, i) => {
        const list = ports.get(input.node) ?? [];
        const r = receivers[i] as Receiver;
        list.push(crosses(input.node, c.label) ? new Freezer(r, rt, input.node) : r);
        ports.set(input.node, list);
      });
    }
    // Sources start in wiring order; a synchronous one pushes its first chunk before the next
    // starts. With state, the last checkpoint is loaded first.
    const startAll = () => Promise.all(starts.reverse().map((s) => s()));
    const sources = rt.state === undefined ? startAll() : rt.state.restore().then(startAll);
    const failed = sources.then(() => new Promise<never>(() => undefined));
    const done = Promise.race([rt.sinksEnded, rt.whenStopped(), failed]).then(async () => {
      rt.stop();
      await sources;
      await rt.settled();
      await rt.state?.flushed();
      const kept = rt.state?.error;
      if (kept !== undefined) throw kept.error;
      return {
        failures: rt.failures,
        refused: Object.fromEntries(rt.refused),
        sources: Object.fromEntries(rt.sources),
        ...(rt.state === undefined ? {} : { resumed: rt.state.resumed() }),
      };
    });
    // A failed restore (corrupt or incompatible state) rejects `done`, having written nothing.
    void done.catch(() => {
      rt.stop();
    });
    return {
      done,
      stop: () => {
        rt.stop();
      },
    };
  }

  /** Check, run to the end, report. */
  async run(): Promise<RunReport> {
    const r = this.start();
    return await r.done;
  }
}

export { LabelBound };
