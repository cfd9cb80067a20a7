import { ConfigError } from '../errors.js';

/**
 * The audit log: refused writes and outputs, label changes, grants, unit errors. It records
 * labels, unit ids and operations, never part values. Units have no handle on it.
 */
export type AuditKind =
  | 'refused-write'
  | 'refused-output'
  | 'refused-publish'
  | 'refused-label-change'
  | 'refused-grant'
  | 'label-change'
  | 'grant'
  | 'tag-created'
  | 'unit-started'
  | 'unit-error'
  | 'checks-disabled'
  | 'sink-error'
  | 'refused-flow'
  | 'released'
  | 'refused-release'
  /** An isolated unit's code started (or moved), with its tier and measurement (sha256). */
  | 'unit-isolated'
  /** An isolated unit stopped, or was killed (CPU budget, memory, exit, protocol). */
  | 'unit-stopped'
  /** A managed unit moved to another tier with its state (tiers, measurement, pause: no values). */
  | 'unit-migrated'
  /** A policy rule's probes fired for a unit, and the action the agent took (no probe values). */
  | 'probe-fired';

export interface AuditEntry {
  readonly seq: number;
  readonly time: number;
  readonly kind: AuditKind;
  /** The unit concerned, by id. */
  readonly unit?: string;
  /** What was attempted, in words that carry no labelled value. */
  readonly op: string;
  /** Labels involved, as display strings (e.g. the unit's label and the target label). */
  readonly from?: string;
  readonly to?: string;
}

export type AuditSink = (entry: AuditEntry) => void;

export interface AuditLogOptions {
  /** Entries kept in memory (oldest dropped first). Default 4096. */
  readonly capacity?: number;
  readonly sinks?: readonly AuditSink[];
}

type EntryInit = Omit<AuditEntry, 'seq' | 'time'>;

export class AuditLog {
  readonly #ring: (AuditEntry | undefined)[];
  readonly #sinks: AuditSink[];
  readonly #counts = new Map<AuditKind, number>();
  #seq = 0;
  #sinkFailures = 0;

  constructor(options: AuditLogOptions = {}) {
    const capacity = options.capacity ?? 4096;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ConfigError('audit capacity must be a positive integer');
    }
    this.#ring = new Array<AuditEntry | undefined>(capacity).fill(undefined);
    this.#sinks = [...(options.sinks ?? [])];
  }

  /** Add a sink (a file, a database, a metrics counter); a throwing sink never stops the engine. */
  addSink(sink: AuditSink): void {
    this.#sinks.push(sink);
  }

  record(init: EntryInit): void {
    const entry: AuditEntry = Object.freeze({ seq: ++this.#seq, time: Date.now(), ...init });
    this.#ring[entry.seq % this.#ring.length] = entry;
    this.#counts.set(entry.kind, (this.#counts.get(entry.kind) ?? 0) + 1);
    for (const sink of this.#sinks) {
      try {
        sink(entry);
      } catch {
        this.#sinkFailures++;
      }
    }
  }

  /** The entries still in memory, oldest first. */
  entries(): AuditEntry[] {
    const out: AuditEntry[] = [];
    const n = this.#ring.length;
    for (let s = Math.max(1, this.#seq - n + 1); s <= this.#seq; s++) {
      const e = this.#ring[s % n];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /** How many entries of each kind were ever recorded (not only those still in memory). */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** How many times a sink threw. */
  get sinkFailures(): number {
    return this.#sinkFailures;
  }
}
