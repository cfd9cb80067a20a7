/**
 * A hostile tier-1 guest for tests (a worker entry, started with RemoteGuest.start's `entry`):
 * it answers `init` with `ready` as a real guest does, then, as `init.source` says, breaks
 * the ring format in one way: an impossible write position, a record longer than any, an
 * unknown tag, a name never defined, more events acknowledged than were sent, an impossible
 * read position in the host's ring, or garbage into a pipe to another guest. It writes to the
 * shared memory directly, as an escaped compartment could.
 */
import { parentPort } from 'node:worker_threads';
import type { HostMessage, RingInit } from '../../src/isolation/protocol.js';

const HEADER = 16;
const W = 0;
const R = 1;

/** Append raw `bytes` to ring `sab` at its current write position and ring `bell`. */
function put(sab: SharedArrayBuffer, bell: SharedArrayBuffer, bytes: number[]): void {
  const head = new Int32Array(sab, 0, 4);
  const data = new Uint8Array(sab, HEADER);
  const w = Atomics.load(head, W);
  bytes.forEach((b, i) => {
    data[(w + i) & (data.length - 1)] = b;
  });
  Atomics.store(head, W, w + bytes.length);
  wake(bell);
}

function wake(bell: SharedArrayBuffer): void {
  const i = new Int32Array(bell);
  Atomics.store(i, 0, 0);
  Atomics.notify(i, 0);
}

const u32 = (x: number): number[] => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24];

/** Wait (polling) until the host has written something into the guest's ring. */
function whenEvents(r: RingInit, then: () => void): void {
  const head = new Int32Array(r.in, 0, 4);
  const look = (): void => {
    if (Atomics.load(head, W) !== 0) then();
    else setTimeout(look, 5);
  };
  look();
}

const port = parentPort;
port?.on('message', (m: HostMessage) => {
  if (m.k === 'pipe-out') {
    // A producer that writes garbage into its pipe: a record of an unknown tag.
    put(m.ring, m.bell, [...u32(1), 99]);
    return;
  }
  if (m.k !== 'init' || m.rings === undefined) return;
  const r = m.rings;
  const mode = m.init.source;
  port.postMessage({ k: 'ready', subs: ['t'] });
  switch (mode) {
    case 'bad-position': {
      const head = new Int32Array(r.out, 0, 4);
      Atomics.store(head, W, r.out.byteLength * 4);
      wake(r.hostBell);
      return;
    }
    case 'huge-length':
      put(r.out, r.hostBell, [...u32(0x7fffffff), 3]);
      return;
    case 'bad-tag':
      put(r.out, r.hostBell, [...u32(1), 99]);
      return;
    case 'bad-name':
      // An OUT record on topic name #5, never defined.
      put(r.out, r.hostBell, [...u32(10), 2, ...u32(5), ...u32(0), 0]);
      return;
    case 'over-ack':
      // DONE of a million events, once the host has sent some.
      whenEvents(r, () => {
        put(r.out, r.hostBell, [...u32(9), 3, ...u32(1_000_000), ...u32(0)]);
      });
      return;
    case 'bad-read-position': {
      // Claims to have read more of the host's ring than the host ever wrote.
      whenEvents(r, () => {
        Atomics.store(new Int32Array(r.in, 0, 4), R, 0x40000000);
        wake(r.hostBell);
      });
      return;
    }
    case 'quiet-producer':
      return; // stays well-behaved until a pipe is wired (see pipe-out above)
  }
});
