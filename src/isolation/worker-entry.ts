/** Tier 1: the guest in a worker thread (started by remote-guest.ts with resource limits). */
import { currentThreadId } from './cpu-clock.js';
import { parentPort } from 'node:worker_threads';
import { serveGuest } from './guest-loop.js';
import type { HostMessage } from './protocol.js';

const port = parentPort;
if (port !== null) {
  serveGuest(
    (m, transfer) => {
      port.postMessage(m, transfer);
    },
    (h) =>
      port.on('message', (m: HostMessage) => {
        h(m);
      }),
    currentThreadId(),
  );
}
