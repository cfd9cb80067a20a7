/**
 * How the host reaches a guest of tier 1 (a worker thread with resource limits) or of tiers
 * 2 and 3 (a RemoteTransport): send a message, kill the guest, read its CPU clock.
 */
import type { Transferable } from 'node:worker_threads';
import { cpuClock } from './cpu-clock.js';
import { sandboxWorker } from './sandbox-worker.js';
import type { HostMessage } from './protocol.js';
import type { EndReason, RemoteLimits } from './remote-guest.js';
import type { RemoteTransport } from './tier3-transport.js';

export interface Endpoint {
  send(m: HostMessage, transfer?: Transferable[]): void;
  kill(): void;
  /** The guest's CPU clock (`tid`: what the guest reported as its thread), if one can be read. */
  cpu(tid: number | undefined): (() => number | undefined) | undefined;
}

export function workerEndpoint(
  limits: RemoteLimits,
  onMessage: (m: unknown) => void,
  onDead: (why: EndReason) => void,
  entry = new URL('./worker-entry.js', import.meta.url),
): Endpoint {
  const w = sandboxWorker(entry, limits.memoryMb);
  let oom = false;
  w.on('message', onMessage);
  w.on('error', (e: unknown) => {
    if ((e as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') oom = true;
  });
  w.on('exit', () => {
    onDead(oom ? 'memory' : 'exit');
  });
  return {
    send: (m, transfer) => {
      w.postMessage(m, transfer);
    },
    kill: () => {
      void w.terminate();
    },
    // The host's own main thread is never the guest's (its tid is the process id).
    cpu: (tid) => (tid === undefined || tid === process.pid ? undefined : cpuClock({ tid })),
  };
}

export function transportEndpoint(
  t: RemoteTransport,
  onMessage: (m: unknown) => void,
  onDead: (why: EndReason) => void,
): Endpoint {
  t.onReceiveBatch((ms) => {
    for (const m of ms) onMessage(m);
  });
  t.onClose(onDead);
  return {
    send: (m) => {
      t.sendBatch([m]);
    },
    kill: () => {
      t.close();
    },
    cpu: () => t.cpu,
  };
}
