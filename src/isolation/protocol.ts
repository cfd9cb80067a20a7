/**
 * The protocol between the host and an isolated unit's code, the same for every tier: plain
 * data only (structured-clone safe), never a Label, Privilege, Tag, Event or function.
 *
 * Tier 0 calls the guest directly; tiers 1 and 2 carry these messages over `postMessage` or
 * the child's IPC channel (structured clone: `serialization: 'advanced'`). Events cross in
 * batches, encoded by batch-codec.ts; `InRecord` and `OutRecord` describe what one encoded
 * record holds.
 *
 * Tier 1 moves events through rings in shared memory instead (ring.ts, ring-codec.ts,
 * guest-rings.ts): `init` hands the guest its rings and bells; then only `init`, the pipe
 * wiring, `import` (held in order by a `barrier` record) and the guest's `ready`,
 * `init-failed`, `state`, `probe` and `fault` travel as messages, and everything else (events,
 * publishes, counts, pings, `export`, `unpipe`) travels in the rings, in order, as records.
 *
 * Pipes (tier 1, pipe.ts): the host gives a producer guest (`pipe-out`) and a consumer guest
 * (`pipe-in`) the two ends of a ring of their own; the producer then writes its publishes on
 * that topic as inbound events straight to the consumer, and both report only counts to the
 * host (FWD and PIPED records), never the events.
 */
import type { EncodedBatch } from './batch-codec.js';
import type { UnitFormat } from './module-source.js';

/** One inbound event, projected at the unit's label: only the parts it may see. */
export interface InRecord {
  /** Index of the guest's subscription (in the order the unit code subscribed). */
  readonly s: number;
  /** Topic the event was published on. */
  readonly t: string;
  /** Visible parts, name → value (the newest visible part wins a name). */
  readonly p: Readonly<Record<string, unknown>>;
}

/** The label the unit asks for one outbound part, by tag names the host maps to tags. */
export interface PartLabelRequest {
  readonly secrecy?: readonly string[];
  readonly integrity?: readonly string[];
}

/** One outbound publish: the host builds the event at the unit's label and checks it. */
export interface OutRecord {
  readonly t: string;
  readonly p: Readonly<Record<string, unknown>>;
  /** Per-part labels requested by tag name (absent: every part at the unit's label). */
  readonly l?: Readonly<Record<string, PartLabelRequest>>;
}

/** What starts a guest. */
export interface GuestInit {
  /** The unit's code: a script body that sees one global, `unit`, or an ES module (`format`). */
  readonly source: string;
  /** `module`: an ES module, checked and rewritten by the guest (module-source.ts). */
  readonly format?: UnitFormat;
  /** Tamed `Date.now` (a logical clock: events handled so far) and seeded `Math.random`. */
  readonly deterministic: boolean;
  readonly seed: number;
  /** Probes on (managed units): per-event service time, outputs, not-found reads, heap. */
  readonly probes?: boolean;
}

/** The shared memory of a tier-1 guest: its two rings with the host, and both bells. */
export interface RingInit {
  readonly in: SharedArrayBuffer;
  readonly out: SharedArrayBuffer;
  readonly hostBell: SharedArrayBuffer;
  readonly bell: SharedArrayBuffer;
}

/** Host → guest (tiers 1 and 2). */
export type HostMessage =
  | { readonly k: 'init'; readonly init: GuestInit; readonly rings?: RingInit }
  /** Inbound events (InRecord), encoded; answered by one `out` with the same id. */
  | { readonly k: 'batch'; readonly id: number; readonly batch: EncodedBatch }
  | { readonly k: 'ping'; readonly id: number }
  /**
   * Send the unit's state (answered by `state`): all of it; all of it and start noting the
   * keys touched (`track`, while the unit runs); or only those keys (`delta`, when drained).
   */
  | { readonly k: 'export'; readonly mode?: ExportMode }
  /**
   * Replace the unit's state, or patch it with a delta (before its first batch there). Tier 1:
   * sent as a message (a large state is cloned far faster natively than through the ring's
   * codec), numbered `seq`, with a `barrier` of the same number in the ring where it belongs.
   */
  | { readonly k: 'import'; readonly state: StateSnapshot; readonly seq?: number }
  /** Tier 1, in the ring: run nothing after this until `import` number `seq` has been applied. */
  | { readonly k: 'barrier'; readonly seq: number }
  /** From now on, write every publish on `topic` to `ring` (wire `wire`; `bell`: the consumer's), not to the host. */
  | {
      readonly k: 'pipe-out';
      readonly wire: number;
      readonly topic: string;
      readonly ring: SharedArrayBuffer;
      readonly bell: SharedArrayBuffer;
    }
  /** Deliver each event that arrives in `ring` (wire `wire`; `bell`: the producer's) to subscriptions `subs`, in order. */
  | {
      readonly k: 'pipe-in';
      readonly wire: number;
      readonly subs: readonly number[];
      readonly ring: SharedArrayBuffer;
      readonly bell: SharedArrayBuffer;
    }
  /** The consumer of wire `wire` is gone: publishes on its topic go to the host again. */
  | { readonly k: 'unpipe'; readonly wire: number };

/** Guest → host (tiers 1 and 2). */
export type GuestMessage =
  | {
      readonly k: 'ready';
      readonly subs: readonly string[];
      /** Linux: the guest thread's id in its process (read before the code loaded), for the CPU watchdog. */
      readonly tid?: number;
    }
  /** The code failed to load; no detail crosses (it could carry data the unit read). */
  | { readonly k: 'init-failed' }
  | {
      readonly k: 'out';
      readonly id: number;
      /** Every publish the batch's handlers made (OutRecord), encoded, in order. */
      readonly batch: EncodedBatch;
      /** Handlers that threw in this batch (the errors themselves stay in the guest). */
      readonly errors: number;
    }
  /** Tier 1: a record on one of the guest's pipes in was malformed; the host ends the guest. */
  | { readonly k: 'fault' }
  | { readonly k: 'pong'; readonly id: number }
  | { readonly k: 'state'; readonly state: StateSnapshot }
  /** Probe windows completed while handling the batch just answered, and the guest's heap. */
  | { readonly k: 'probe'; readonly windows: readonly WindowStats[]; readonly heapBytes: number };

export type ExportMode = 'full' | 'track' | 'delta';

/**
 * A unit's state as it moves between tiers: its key-value entries and its logical clock; a
 * delta (`deleted` present) applies on top of a copy sent before.
 */
export interface StateSnapshot {
  readonly entries: readonly (readonly [string, unknown])[];
  readonly clock: number;
  readonly deleted?: readonly string[];
}

/** One window of probe measurements (probe-window.ts), plain numbers only. */
export interface WindowStats {
  /** Events in the window. */
  readonly events: number;
  /** Wall-clock span of the window (ms), first event's start to last event's end. */
  readonly spanMs: number;
  /** Mean and interquartile range of the per-event service time (ms). */
  readonly serviceMeanMs: number;
  readonly serviceSpreadMs: number;
  readonly serviceMaxMs: number;
  /** Outputs in the window, and their standard deviation per event. */
  readonly outputs: number;
  readonly outputSpread: number;
  /** Handlers that threw, and reads of part names the unit was not given. */
  readonly errors: number;
  readonly notFound: number;
}

/** Is `x` a guest message of a known shape? (The host trusts nothing the guest sends.) */
export function isGuestMessage(x: unknown): x is GuestMessage {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  switch (m.k) {
    case 'ready':
      return (
        Array.isArray(m.subs) &&
        m.subs.every((s) => typeof s === 'string') &&
        (m.tid === undefined || Number.isSafeInteger(m.tid))
      );
    case 'init-failed':
      return true;
    case 'out':
      // The batch itself is checked as it is decoded (readBatch).
      return typeof m.id === 'number' && isCount(m.errors);
    case 'fault':
      return true;
    case 'pong':
      return typeof m.id === 'number';
    case 'state':
      return isSnapshot(m.state);
    case 'probe':
      return Array.isArray(m.windows) && typeof m.heapBytes === 'number';
    default:
      return false;
  }
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isSnapshot(x: unknown): x is StateSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return (
    typeof s.clock === 'number' &&
    Array.isArray(s.entries) &&
    s.entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') &&
    (s.deleted === undefined ||
      (Array.isArray(s.deleted) && s.deleted.every((k) => typeof k === 'string')))
  );
}
