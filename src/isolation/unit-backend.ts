/**
 * Where a managed unit's code runs right now: tier 0 (a Guest in this thread), tier 1 or 2
 * (a RemoteGuest in a worker or a child process), or tier 3 (a RemoteGuest over a transport).
 * Every backend runs with probes on and can hand its state over (export) or take one (import):
 * managed-unit.ts swaps backends when a unit migrates.
 */
import type { EventView } from '../index.js';
import { ViewEvent } from './guest-event.js';
import { EventProbe } from './guest-probe.js';
import { ensureLockdown, Guest } from './guest.js';
import type {
  ExportMode,
  GuestInit,
  GuestMessage,
  PartLabelRequest,
  StateSnapshot,
  WindowStats,
} from './protocol.js';
import {
  RemoteGuest,
  type EndReason,
  type RemoteHooks,
  type RemoteLimits,
} from './remote-guest.js';
import type { TransportFactory } from './tier3-transport.js';

/** Tiers of a managed unit: 3 is another machine, through a transport. */
export type ManagedTier = 0 | 1 | 2 | 3;

export interface BackendHooks {
  /** A tier-0 output: the code's own object (read it now, or copy it). */
  output(
    t: string,
    p: Readonly<Record<string, unknown>>,
    l: Readonly<Record<string, PartLabelRequest>> | undefined,
  ): void;
  /** A decoded output of tiers 1–3 (`labels` unchecked). */
  outputParts: RemoteHooks['output'];
  errors: RemoteHooks['errors'];
  full: RemoteHooks['full'];
  window(w: WindowStats, heapBytes: number): void;
  /** The guest's heap: once before its first event, then with each window (tiers 1–3). */
  heap(bytes: number): void;
  ended(why: EndReason): void;
}

export interface Backend {
  readonly tier: ManagedTier;
  readonly subs: readonly string[];
  readonly ended: EndReason | undefined;
  /** Deliver one event; false if refused (the backlog is at its hard limit). */
  deliver(sub: number, view: EventView): boolean;
  /** Resolves when every event delivered is handled and its outputs are handed over. */
  drained(): Promise<void>;
  /** Resolves when the backlog is small enough to send more. */
  ready(): Promise<void>;
  /** The unit's state (`full` and `delta` only when drained; `track` any time). */
  exportState(mode?: ExportMode): Promise<StateSnapshot>;
  /** Take a migrated unit's state; before the first delivery. */
  importState(s: StateSnapshot): void;
  /** End the guest now (quietly: `ended` is not called). */
  stop(): void;
}

/** Start a backend; resolves with it, or with the reason it did not start. */
export async function startBackend(
  tier: ManagedTier,
  init: GuestInit,
  limits: RemoteLimits,
  hooks: BackendHooks,
  transport: TransportFactory | undefined,
): Promise<Backend | string> {
  const probed = { ...init, probes: true };
  if (tier === 0) return tier0(probed, hooks);
  if (tier === 3 && transport === undefined) return 'tier 3 needs a transport';
  let exported: ((s: StateSnapshot | undefined) => void) | undefined;
  const remote = new RemoteGuest(limits, {
    output: (t, names, values, labels) => {
      hooks.outputParts(t, names, values, labels);
    },
    errors: (n) => {
      hooks.errors(n);
    },
    full: (on) => {
      hooks.full(on);
    },
    ended: (why) => {
      exported?.(undefined);
      hooks.ended(why);
    },
    extra: (m: Extract<GuestMessage, { k: 'state' | 'probe' }>) => {
      if (m.k === 'state') exported?.(m.state);
      else {
        hooks.heap(m.heapBytes);
        for (const w of m.windows) hooks.window(w, m.heapBytes);
      }
    },
  });
  const subs = await remote.start(tier === 1 ? 1 : 2, probed, tier === 3 ? transport : undefined);
  if (subs === null) return `the guest did not start (${remote.ended ?? 'exit'})`;
  const low = limits.batchSize * limits.maxInFlight;
  return {
    tier,
    subs,
    get ended() {
      return remote.ended;
    },
    deliver: (sub, view) => remote.enqueue(sub, view),
    drained: () => remote.below(0),
    ready: () => remote.below(low),
    exportState: (mode) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          done(undefined);
        }, limits.startMs);
        const done = (s: StateSnapshot | undefined): void => {
          clearTimeout(timer);
          exported = undefined;
          if (s === undefined) reject(new Error('the guest did not hand over its state'));
          else resolve(s);
        };
        exported = done;
        remote.post(mode === undefined ? { k: 'export' } : { k: 'export', mode });
      }),
    importState: (state) => {
      remote.post({ k: 'import', state });
    },
    stop: () => {
      remote.stop();
    },
  };
}

async function tier0(init: GuestInit, hooks: BackendHooks): Promise<Backend | string> {
  const s = await ensureLockdown(init);
  let outputs = 0;
  let guest: Guest;
  try {
    guest = new Guest(s, init, (t, p, l) => {
      outputs++;
      hooks.output(t, p, l);
    });
  } catch {
    return 'its code failed to load';
  }
  const g = guest;
  const probe = new EventProbe(
    () => outputs,
    (w) => {
      hooks.window(w, 0);
    },
  );
  let ended: EndReason | undefined;
  return {
    tier: 0,
    subs: g.subscriptions,
    get ended() {
      return ended;
    },
    deliver: (sub, view) => {
      if (ended !== undefined) return false;
      const outer = probe.begin();
      if (!probe.end(outer, g.deliver(sub, new ViewEvent(view, true)))) hooks.errors(1);
      return true;
    },
    drained: () => Promise.resolve(),
    ready: () => Promise.resolve(),
    exportState: (mode) => Promise.resolve(g.snapshot(mode)),
    importState: (state) => {
      g.restore(state);
    },
    stop: () => {
      ended = 'stopped';
    },
  };
}
