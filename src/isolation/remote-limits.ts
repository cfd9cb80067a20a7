/**
 * The contract of the host's end of a guest in tiers 1–3 (remote-guest.ts): the limits it is
 * given, the hooks it calls, and why a guest ends.
 */
import type { GuestMessage } from './protocol.js';

/** Why a guest ended. */
export type EndReason =
  | 'stopped'
  | 'cpu'
  | 'memory'
  | 'exit'
  | 'protocol'
  | 'start'
  /** A managed unit's quarantine kept more input than it may. */
  | 'overflow';

export interface RemoteLimits {
  /** Old-generation heap of the guest (MB). Default 64. */
  readonly memoryMb: number;
  /** CPU budget per event (ms), on top of `heartbeatMs` per batch. Default 5. */
  readonly eventBudgetMs: number;
  /** Heartbeat period and the slack added to every deadline (ms). Default 1000. */
  readonly heartbeatMs: number;
  /** Time allowed to start and load the code (ms). Default 10000. */
  readonly startMs: number;
  /** Events per batch (tier 1: per commit to the ring). Default 512. */
  readonly batchSize: number;
  /** Batches in flight at once (tiers 2, 3; the backlog bounds tier 1). Default 4. */
  readonly maxInFlight: number;
}

export interface RemoteHooks {
  /** One publish of the guest, in order, once its batch is answered. */
  output(
    topic: string,
    names: readonly string[],
    values: readonly unknown[],
    labels: unknown,
  ): void;
  /** Handlers that threw in a batch (the errors themselves stay in the guest). */
  errors(n: number): void;
  /** The backlog rose to its high-water mark (true), or fell back to its low-water mark (false). */
  full(on: boolean): void;
  /** The guest ended for a reason other than `stop()`. */
  ended(why: EndReason): void;
  /** A `state` or `probe` message (managed units). */
  extra?(m: Extract<GuestMessage, { k: 'state' | 'probe' }>): void;
}
