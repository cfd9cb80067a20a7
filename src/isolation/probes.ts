/**
 * The probes of a managed unit, as the policy sees them: one ProbeValues per window of 64
 * events (probe-window.ts), measured on the host for tier 0 and inside the guest for tiers
 * 1–3 (guest-probe.ts). Values a guest reports are checked: a guest that lies can only make
 * itself look worse (a non-finite or negative value reads as 0).
 */
import type { WindowStats } from './protocol.js';
import type { ManagedTier } from './unit-backend.js';

export interface ProbeValues {
  /** The tier the window was measured in. */
  readonly tier: ManagedTier;
  /** Events in the window (64). */
  readonly events: number;
  /** Output rate: outputs per second of the window's span, and per event. */
  readonly outputsPerSec: number;
  readonly outputsPerEvent: number;
  /** Standard deviation of outputs per event (an emit flood modulating its rate). */
  readonly outputSpread: number;
  /** Spread (interquartile range) of per-event service time (ms): the timing-channel probe. */
  readonly serviceSpreadMs: number;
  /** CPU time per event: mean service time (ms), and the longest event (ms). */
  readonly cpuMsPerEvent: number;
  readonly serviceMaxMs: number;
  /** Guest heap in use, and its growth since the first batch in this tier (MB; 0 in tier 0). */
  readonly heapMb: number;
  readonly heapGrowthMb: number;
  /** Reads of part names the unit was not given (never which), total and per event. */
  readonly notFound: number;
  readonly notFoundPerEvent: number;
  /** Handlers that threw in the window. */
  readonly errors: number;
}

/** The names a policy predicate may use. */
export const PROBE_NAMES = [
  'outputsPerSec',
  'outputsPerEvent',
  'outputSpread',
  'serviceSpreadMs',
  'cpuMsPerEvent',
  'serviceMaxMs',
  'heapMb',
  'heapGrowthMb',
  'notFound',
  'notFoundPerEvent',
  'errors',
] as const;

export type ProbeName = (typeof PROBE_NAMES)[number];

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

const MB = 1024 * 1024;

/** ProbeValues of one window; `heapBase` is the heap when the unit started in this tier. */
export function probeValues(
  tier: ManagedTier,
  raw: WindowStats,
  heapBytes: number,
  heapBase: number,
): ProbeValues {
  const events = Math.max(1, num(raw.events));
  const span = num(raw.spanMs);
  const outputs = num(raw.outputs);
  const notFound = num(raw.notFound);
  const heap = num(heapBytes);
  return {
    tier,
    events,
    outputsPerSec: span > 0 ? (outputs / span) * 1000 : 0,
    outputsPerEvent: outputs / events,
    outputSpread: num(raw.outputSpread),
    serviceSpreadMs: num(raw.serviceSpreadMs),
    cpuMsPerEvent: num(raw.serviceMeanMs),
    serviceMaxMs: num(raw.serviceMaxMs),
    heapMb: heap / MB,
    heapGrowthMb: heap > heapBase ? (heap - heapBase) / MB : 0,
    notFound,
    notFoundPerEvent: notFound / events,
    errors: num(raw.errors),
  };
}
