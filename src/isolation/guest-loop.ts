/**
 * The message loop of a guest in tiers 1 and 2: `init` loads the unit's code, each `batch`
 * runs its events in order and answers with every publish they made (one encoded batch each
 * way, batch-codec.ts), `ping` is answered at once (when the guest is not stuck: the host's
 * watchdog counts on it).
 */
import { getHeapStatistics } from 'node:v8';
import { BatchWriter, readBatch, type EncodedBatch } from './batch-codec.js';
import { GuestPipes } from './guest-pipes.js';
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
  const pipes = new GuestPipes();
  /** Run one batch's events (to subscriptions `subs` of each, if given); the handlers that threw. */
  const run = (batch: unknown, subs: readonly number[] | undefined): number => {
    const g = guest;
    if (g === undefined) return 0;
    let errors = 0;
    const one = (s: number, names: string[], values: unknown[]): void => {
      const ev = new RecordEvent(g.subscriptions[s] ?? '', names, values, !!probe);
      if (!(probe === undefined ? g.deliver(s, ev) : probe.run(() => g.deliver(s, ev)))) errors++;
    };
    const ok = readBatch(
      batch,
      false,
      subs === undefined
        ? (sub, names, values) => {
            one(sub as number, names, values);
          }
        : (_, names, values) => {
            for (const s of subs) one(s, names, values);
          },
      harden,
    );
    return ok ? errors : errors + 1;
  };
  /** Answer a batch: its outputs for the host, after the pipes' batches have left. */
  const reply = (
    make: (batch: EncodedBatch, errors: number, fwd: number[] | undefined) => GuestMessage,
  ): void => {
    const { fwd, errors } = pipes.flush();
    const batch = out.finish();
    try {
      send(make(batch, errors, fwd), [batch.nums.buffer as ArrayBuffer]);
    } catch {
      // A value that cannot be cloned (a function, say): the batch's outputs are dropped.
      send(make(new BatchWriter().finish(), errors + 1, fwd));
    }
  };
  // Encoded at once (the code may change its object afterwards), as one whole record.
  const emit: Emit = (topic, parts, labels) => {
    if (!(pipes.piping && pipes.write(topic, parts, labels))) out.record(topic, parts, labels);
    outputs++;
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
        const errors = run(m.batch, undefined);
        reply((batch, e, fwd) => ({ k: 'out', id: m.id, batch, errors: errors + e, fwd }));
        return;
      }
      case 'pipe-out':
        pipes.open(m.wire, m.topic, m.port);
        return;
      case 'pipe-in': {
        const { wire, subs } = m;
        pipes.listen(wire, m.port, (b) => {
          const n = (b as { n?: unknown } | null)?.n;
          const errors = run(b, subs);
          reply((batch, e, fwd) => ({
            k: 'piped',
            wire,
            n: Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : 0,
            batch,
            errors: errors + e,
            fwd,
          }));
        });
        return;
      }
      case 'unpipe':
        pipes.close(m.wire);
        return;
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
