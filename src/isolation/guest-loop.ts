/**
 * The message loop of a guest in tiers 1 and 2: `init` loads the unit's code, each `batch`
 * runs its events in order and answers with every publish they made, `ping` is answered at
 * once (when the guest is not stuck: the host's watchdog counts on it).
 */
import { ensureLockdown, Guest } from './guest.js';
import { GuestProbe } from './guest-probe.js';
import type { GuestMessage, HostMessage, OutRecord } from './protocol.js';

export function serveGuest(
  send: (m: GuestMessage) => void,
  listen: (handler: (m: HostMessage) => void) => void,
): void {
  let guest: Guest | undefined;
  let probe: GuestProbe | undefined;
  let outs: OutRecord[] = [];
  const emit = (o: OutRecord): void => {
    outs.push(o);
  };
  listen((m) => {
    switch (m.k) {
      case 'init':
        ensureLockdown()
          .then((s) => {
            guest = new Guest(s, m.init, emit, false);
            if (m.init.probes === true) probe = new GuestProbe(guest, () => outs.length);
            send({ k: 'ready', subs: guest.subscriptions });
          })
          .catch(() => {
            send({ k: 'init-failed' });
          });
        return;
      case 'batch': {
        let errors = 0;
        if (probe !== undefined) errors = probe.deliverAll(m.events);
        else if (guest !== undefined) for (const e of m.events) if (!guest.deliver(e)) errors++;
        const batch = outs;
        outs = [];
        try {
          send({ k: 'out', id: m.id, outs: batch, errors });
        } catch {
          // A value that cannot be cloned (a function, say): the batch's outputs are dropped.
          send({ k: 'out', id: m.id, outs: [], errors: errors + 1 });
        }
        if (probe !== undefined) send(probe.message());
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
