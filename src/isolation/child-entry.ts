/** Tier 2: the guest in a child process (started by remote-guest.ts with `fork`). */
import { serveGuest } from './guest-loop.js';
import type { HostMessage } from './protocol.js';

if (process.send !== undefined) {
  // The host gone, nothing is left to do.
  process.on('disconnect', () => process.exit(0));
  serveGuest(
    (m) => {
      process.send?.(m);
    },
    (h) =>
      process.on('message', (m: HostMessage) => {
        h(m);
      }),
  );
}
