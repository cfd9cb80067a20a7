/** Tier 1: the guest in a worker thread (started by remote-unit.ts with resource limits). */
import { parentPort } from 'node:worker_threads';
import { serveGuest } from './guest-loop.js';
import type { HostMessage } from './protocol.js';

const port = parentPort;
if (port !== null) {
  serveGuest(
    (m) => {
      port.postMessage(m);
    },
    (h) =>
      port.on('message', (m: HostMessage) => {
        h(m);
      }),
  );
}
