/**
 * The message loop of a guest in tiers 1 and 2: `init` loads the unit's code. Tier 2: each
 * `batch` runs its events in order and answers with every publish they made (one encoded
 * batch each way, batch-codec.ts), `ping` is answered at once (when the guest is not stuck:
 * the host's watchdog counts on it). Tier 1 (`init` with rings): the same work through the
 * rings in shared memory (guest-rings.ts), records instead of messages.
 */
import { getHeapStatistics } from 'node:v8';
import { BatchWriter, readBatch } from './batch-codec.js';
import { GuestRings } from './guest-rings.js';
import { RecordEvent } from './guest-event.js';
import { EventProbe } from './guest-probe.js';
import { ensureLockdown, Guest, type Emit } from './guest.js';
import type { GuestMessage, HostMessage, RingInit, WindowStats } from './protocol.js';

/** Send one message; `transfer`: buffers to move rather than copy (where the channel can). */
export type Send = (m: GuestMessage, transfer?: ArrayBuffer[]) => void;

/** Serve one guest; `tid` (tier 1 on Linux) is reported with `ready`, for the CPU watchdog. */
export function serveGuest(
  send: Send,
  listen: (handler: (m: HostMessage) => void) => void,
  tid?: number,
): void {
  let guest: Guest | undefined;
  let harden: (v: unknown) => unknown = (v) => v;
  const out = new BatchWriter();
  // Probes (managed units): each window is reported as soon as it closes, with the heap then,
  // not with its batch's answer: a batch may hold several windows, and a guest that dies in
  // the middle of one (a heap limit, the watchdog) never answers it.
  let probe: EventProbe | undefined;
  let outputs = 0;
  const report = (windows: WindowStats[]): void => {
    send({ k: 'probe', windows, heapBytes: getHeapStatistics().used_heap_size });
  };
  let rings: GuestRings | undefined;
  /** Run one event for subscription `s`; false if its handler threw. */
  const one = (s: number, names: string[], values: unknown[]): boolean => {
    const g = guest;
    if (g === undefined) return true;
    const ev = new RecordEvent(g.subscriptions[s] ?? '', names, values, probe !== undefined);
    return probe === undefined ? g.deliver(s, ev) : probe.run(() => g.deliver(s, ev));
  };
  /** Run one batch's events; the handlers that threw (and 1 if the batch was malformed). */
  const run = (batch: unknown): number => {
    let errors = 0;
    const ok = readBatch(
      batch,
      false,
      (sub, names, values) => {
        if (!one(sub as number, names, values)) errors++;
      },
      harden,
    );
    return ok ? errors : errors + 1;
  };
  /** Answer a batch with its outputs. */
  const reply = (id: number, errors: number): void => {
    const batch = out.finish();
    try {
      send({ k: 'out', id, batch, errors }, [batch.nums.buffer as ArrayBuffer]);
    } catch {
      // A value that cannot be cloned (a function, say): the batch's outputs are dropped.
      send({ k: 'out', id, batch: new BatchWriter().finish(), errors: errors + 1 });
    }
  };
  // Encoded at once (the code may change its object afterwards), as one whole record.
  const emit: Emit = (topic, parts, labels) => {
    if (rings === undefined) out.record(topic, parts, labels);
    else rings.emit(topic, parts, labels);
    outputs++;
  };
  /** Messages of either path (tier 1's `export`, `import`, `ping`, `unpipe` come in its ring). */
  const control = (m: HostMessage): void => {
    switch (m.k) {
      case 'export':
        if (guest !== undefined) send({ k: 'state', state: guest.snapshot(m.mode) });
        return;
      case 'import':
        guest?.restore(m.state);
        if (m.seq !== undefined) rings?.imported(m.seq);
        return;
      case 'barrier':
        rings?.barrier(m.seq);
        return;
      case 'unpipe':
        rings?.unpipe(m.wire);
        return;
      case 'ping':
        send({ k: 'pong', id: m.id });
        return;
      default:
        send({ k: 'fault' });
    }
  };
  const startRings = (r: RingInit): void => {
    rings = new GuestRings(
      r,
      one,
      control,
      () => {
        send({ k: 'fault' });
      },
      harden,
    );
    rings.start();
  };
  listen((m) => {
    switch (m.k) {
      case 'init':
        ensureLockdown(m.init)
          .then((s) => {
            harden = (v) => s.harden(v);
            guest = new Guest(s, m.init, emit);
            if (m.init.probes === true) {
              probe = new EventProbe(
                () => outputs,
                (w) => {
                  report([w]);
                },
              );
              report([]); // the heap before any event: what growth is measured from
            }
            if (m.rings !== undefined) startRings(m.rings);
            send(
              tid === undefined
                ? { k: 'ready', subs: guest.subscriptions }
                : { k: 'ready', subs: guest.subscriptions, tid },
            );
          })
          .catch(() => {
            send({ k: 'init-failed' });
          });
        return;
      case 'batch':
        reply(m.id, run(m.batch));
        return;
      case 'pipe-out':
        rings?.pipeOut(m.wire, m.topic, m.ring, m.bell);
        return;
      case 'pipe-in':
        rings?.pipeIn(m.wire, m.subs, m.ring, m.bell);
        return;
      default:
        control(m);
    }
  });
}
