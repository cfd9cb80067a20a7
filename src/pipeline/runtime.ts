import type { AuditLog } from '../engine/audit-log.js';
import type { Label } from '../labels.js';
import { showLabel } from './check.js';
import type { Node } from './node.js';
import type { Key } from './receiver.js';
import type { Checkpointer } from './state/checkpointer.js';

/** An error thrown by an operator's function, as the host (who sees everything) gets it. */
export interface OperatorFailure {
  readonly operator: string;
  /** The label of the context that threw: only sinks at or above it are told. */
  readonly label: string;
  readonly error: unknown;
}

/** What a source read: rows emitted, rows skipped (malformed), and why, per reason. */
export interface SourceStats {
  rows: number;
  skipped: number;
  readonly reasons: Record<string, number>;
}

/**
 * The state of one run of a pipeline, shared by its operator instances: the audit log, the
 * monitor's switch, failures, and the backpressure and stop signals sources obey.
 */
export class Runtime {
  readonly audit: AuditLog;
  readonly checks: boolean;
  readonly failures: OperatorFailure[] = [];
  /** Notifications the runtime monitor refused, per node name. */
  readonly refused = new Map<string, number>();
  /** Per source name: rows read and skipped (for the host, like `failures`). */
  readonly sources = new Map<string, SourceStats>();
  /** Keeps operator state and source positions in a store (`Pipeline({ state })`), if asked. */
  state: Checkpointer | undefined;
  readonly #closing: Promise<unknown>[] = [];
  #stopped = false;
  #stopWaiters: (() => void)[] = [];
  #busy = 0;
  #drainWaiters: (() => void)[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #openSinks = 0;
  #sinksEnded: (() => void) | undefined;
  /** Resolves when every sink has ended (completed, failed, or been refused its end). */
  readonly sinksEnded: Promise<void>;

  constructor(audit: AuditLog, checks: boolean) {
    this.audit = audit;
    this.checks = checks;
    this.sinksEnded = new Promise((resolve) => (this.#sinksEnded = resolve));
  }

  sinkOpened(): void {
    this.#openSinks++;
  }

  sinkEnded(): void {
    if (--this.#openSinks === 0) this.#sinksEnded?.();
  }

  /** The monitor refused a notification at `to` (never records the value). */
  refuse(node: Node, from: Label, to: Label, what = 'notification'): void {
    this.refused.set(node.name, (this.refused.get(node.name) ?? 0) + 1);
    this.audit.record({
      kind: 'refused-flow',
      unit: node.name,
      op: `${what} into ${node.kind} refused by the runtime monitor`,
      from: showLabel(from),
      to: showLabel(to),
    });
  }

  fail(node: Node, error: unknown, label: Label, key: Key): void {
    this.failures.push({ operator: node.name, label: showLabel(label), error });
    this.audit.record({
      kind: 'unit-error',
      unit: node.name,
      op:
        typeof key === 'symbol' ? 'operator function threw' : 'operator function threw for one key',
      to: showLabel(label),
    });
  }

  /**
   * A source counts `n` rows under `name`: `'rows'` for rows it emitted, any other name is a
   * reason rows were skipped (`'column-count'`, `'json'`, …). Sources count per batch, not per row.
   */
  count(node: Node, name: string, n = 1): void {
    let s = this.sources.get(node.name);
    if (s === undefined) this.sources.set(node.name, (s = { rows: 0, skipped: 0, reasons: {} }));
    if (name === 'rows') {
      s.rows += n;
      return;
    }
    s.skipped += n;
    s.reasons[name] = (s.reasons[name] ?? 0) + n;
  }

  /** Output still being flushed (a file closing): the run's report waits for it. */
  closing(p: Promise<unknown>): void {
    this.#closing.push(p);
  }

  /** Resolves when everything passed to `closing` has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#closing);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stop the run: sources stop pushing, timers are cleared. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#stopWaiters.splice(0)) w();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Resolves when the run is stopped (sources that wait for outside events race this). */
  whenStopped(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#stopWaiters.push(resolve));
  }

  /** A sink with slow output (a file) says it is full; sources wait for `drained()`. */
  busy(): void {
    this.#busy++;
  }

  idle(): void {
    if (this.#busy > 0 && --this.#busy === 0) {
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /** Undefined when nothing is full (the common case: no promise, no allocation). */
  drained(): Promise<void> | undefined {
    if (this.#busy === 0 || this.#stopped) return undefined;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** A timer owned by the run (cleared on stop). */
  timer(ms: number, f: () => void): () => void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      f();
    }, ms);
    this.#timers.add(t);
    return () => {
      clearTimeout(t);
      this.#timers.delete(t);
    };
  }
}
