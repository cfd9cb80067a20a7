/**
 * Where a managed unit's code runs right now: tier 0 (a Guest in this thread), tier 1 or 2
 * (a RemoteGuest in a worker or a child process), or tier 3 (a RemoteGuest over a transport).
 * Every backend runs with probes on and can hand its state over (export) or take one (import):
 * managed-unit.ts swaps backends when a unit migrates.
 */
import type { EventView } from '../index.js';
import { ensureLockdown, Guest } from './guest.js';
import { project } from './isolated-unit.js';
import { ProbeWindow } from './probe-window.js';
import type {
  ExportMode,
  GuestInit,
  GuestMessage,
  InRecord,
  OutRecord,
  StateSnapshot,
  WindowStats,
} from './protocol.js';
import { RemoteGuest, type EndReason, type RemoteLimits } from './remote-guest.js';
import type { TransportFactory } from './tier3-transport.js';

/** Tiers of a managed unit: 3 is another machine, through a transport. */
export type ManagedTier = 0 | 1 | 2 | 3;

export interface BackendHooks {
  output(o: OutRecord): void;
  errors(n: number): void;
  window(w: WindowStats, heapBytes: number): void;
  /** The guest's heap after a batch (tiers 1–3). */
  heap(bytes: number): void;
  ended(why: EndReason): void;
}

export interface Backend {
  readonly tier: ManagedTier;
  readonly subs: readonly string[];
  readonly ended: EndReason | undefined;
  /** The parts of a delivered view as this backend wants them. */
  project(view: EventView): Record<string, unknown>;
  deliver(rec: InRecord): void;
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
    outputs: (outs, errors) => {
      for (const o of outs) hooks.output(o);
      if (errors > 0) hooks.errors(errors);
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
    project,
    deliver: (rec) => {
      remote.enqueue(rec);
    },
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
  const s = await ensureLockdown();
  let outputs = 0;
  let guest: Guest;
  try {
    guest = new Guest(
      s,
      init,
      (o) => {
        outputs++;
        hooks.output(o);
      },
      true,
    );
  } catch {
    return 'its code failed to load';
  }
  const g = guest;
  const proto = g.misses?.proto ?? null;
  const window = new ProbeWindow((w) => {
    hooks.window(w, 0);
  });
  let ended: EndReason | undefined;
  return {
    tier: 0,
    subs: g.subscriptions,
    get ended() {
      return ended;
    },
    project: (view) => {
      // Own properties defined directly: an assignment would go through the trap's `set`.
      const out = Object.create(proto) as Record<string, unknown>;
      for (const name of view.names()) {
        Object.defineProperty(out, name, { value: view.get(name), enumerable: true });
      }
      return out;
    },
    deliver: (rec) => {
      if (ended !== undefined) return;
      const misses = g.misses?.count ?? 0;
      const before = outputs;
      const t0 = performance.now();
      const ok = g.deliver(rec);
      const ms = performance.now() - t0;
      if (!ok) hooks.errors(1);
      window.record(t0, ms, outputs - before, !ok, (g.misses?.count ?? 0) - misses);
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
