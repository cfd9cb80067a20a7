/** Tier 1: the guest in a worker thread (started by remote-guest.ts with resource limits). */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { serveGuest } from './guest-loop.js';
import type { HostMessage } from './protocol.js';

/** This thread's id in the process (Linux), read before any unit code loads; else undefined. */
function threadId(): number | undefined {
  try {
    const tid = Number.parseInt(readFileSync('/proc/thread-self/stat', 'latin1'), 10);
    return Number.isSafeInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

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
    threadId(),
  );
}
