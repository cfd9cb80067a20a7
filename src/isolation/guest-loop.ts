/**
 * The message loop of a guest in tiers 1 and 2: `init` loads the unit's code, each `batch`
 * runs its events in order and answers with every publish they made (one encoded batch each
 * way, batch-codec.ts), `ping` is answered at once (when the guest is not stuck: the host's
 * watchdog counts on it).
 */
import { getHeapStatistics } from 'node:v8';
import { BatchWriter, readBatch } from './batch-codec.js';
import { RecordEvent } from './guest-event.js';
import { EventProbe } from './guest-probe.js';
import { ensureLockdown, Guest, type Emit } from './guest.js';
import type { GuestMessage, HostMessage, WindowStats } from './protocol.js';

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
  // Encoded at once (the code may change its object afterwards); values are read before the
  // record is started, so a getter that throws leaves the batch whole.
  const emit: Emit = (topic, parts, labels) => {
    const names = Object.keys(parts);
    const values = names.map((n) => parts[n]);
    outputs++;
    out.outbound(topic, names.length);
    for (let i = 0; i < names.length; i++) out.part(names[i] as string, values[i]);
    out.labels(labels);
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
      case 'batch': {
        let errors = 0;
        const g = guest;
        if (g !== undefined) {
          const ok = readBatch(
            m.batch,
            false,
            (sub, names, values) => {
              const s = sub as number;
              const ev = new RecordEvent(g.subscriptions[s] ?? '', names, values, !!probe);
              if (!(probe === undefined ? g.deliver(s, ev) : probe.run(() => g.deliver(s, ev))))
                errors++;
            },
            harden,
          );
          if (!ok) errors++;
        }
        const batch = out.finish();
        try {
          send({ k: 'out', id: m.id, batch, errors }, [batch.nums.buffer as ArrayBuffer]);
        } catch {
          // A value that cannot be cloned (a function, say): the batch's outputs are dropped.
          send({ k: 'out', id: m.id, batch: new BatchWriter().finish(), errors: errors + 1 });
        }
        return;
      }
      case 'export':
        if (guest !== undefined) send({ k: 'state', state: guest.snapshot(m.mode) });
        return;
      case 'import':
        guest?.restore(m.state);
        return;
      case 'ping':
        send({ k: 'pong', id: m.id });
        return;
    }
  });
}
