/**
 * The transport that tiers 2 and 3 speak: frames of protocol messages (protocol.ts) between
 * the host and a guest somewhere else. Tier 2 (a child process) is implemented over it here;
 * a loopback (the guest in this process, every frame structured-cloned as if over a wire)
 * shows that the same protocol works over any implementation. Tier 3 (another machine) plugs
 * a cluster transport into the same interface: the NATS adapter comes with the cluster issue.
 *
 * The host trusts nothing a transport delivers: every message is checked (isGuestMessage).
 */
import { fork } from 'node:child_process';
import { cpuClock } from './cpu-clock.js';
import { serveGuest } from './guest-loop.js';
import type { GuestMessage, HostMessage } from './protocol.js';

/** Why the far end went away: it ran out of memory, or anything else. */
export type TransportEnd = 'memory' | 'exit';

export interface RemoteTransport {
  /** Send host messages to the guest, in order, as one frame. */
  sendBatch(messages: readonly HostMessage[]): void;
  /** Receive the guest's frames, in order (unchecked: the host validates each message). */
  onReceiveBatch(receive: (messages: readonly unknown[]) => void): void;
  /** The guest's end is gone (called at most once). */
  onClose(closed: (why: TransportEnd) => void): void;
  /** Close the transport and end the guest (kill it where that is possible). */
  close(): void;
  /**
   * The guest's CPU time (ms), where it can be read, for the watchdog (otherwise it uses the
   * wall clock).
   */
  readonly cpu?: () => number | undefined;
}

/** A factory of transports: a migrated or restarted unit gets a fresh one. */
export type TransportFactory = (limits: { readonly memoryMb: number }) => RemoteTransport;

/** Tier 2: the guest in a child process (`fork`, no environment, heap limited), over IPC. */
export function childProcessTransport(limits: { readonly memoryMb: number }): RemoteTransport {
  const c = fork(new URL('./child-entry.js', import.meta.url), [], {
    serialization: 'advanced',
    env: {},
    execArgv: [`--max-old-space-size=${limits.memoryMb}`],
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  let closed: ((why: TransportEnd) => void) | undefined;
  let gone = false;
  const end = (why: TransportEnd): void => {
    if (gone) return;
    gone = true;
    closed?.(why);
  };
  c.on('error', () => {
    end('exit');
  });
  c.on('exit', (code, signal) => {
    // V8 aborts a process past its heap limit (SIGABRT, or exit code 134).
    end(signal === 'SIGABRT' || code === 134 ? 'memory' : 'exit');
  });
  const cpu = c.pid === undefined ? undefined : cpuClock({ pid: c.pid });
  return {
    ...(cpu === undefined ? {} : { cpu }),
    sendBatch: (ms) => {
      if (c.connected) for (const m of ms) c.send(m);
    },
    onReceiveBatch: (receive) => {
      c.on('message', (m: unknown) => {
        receive([m]);
      });
    },
    onClose: (f) => {
      closed = f;
    },
    close: () => {
      c.kill('SIGKILL');
    },
  };
}

/**
 * A loopback transport: the guest runs in this process (SES lockdown here), and every frame
 * crosses as a structured clone on a later turn, as it would over a wire. For tests, and as
 * the reference for tier-3 adapters. It cannot stop a guest stuck in a loop (it shares the
 * thread): a real tier-3 transport ends the far process.
 */
export function loopbackTransport(): RemoteTransport {
  let toGuest: ((m: HostMessage) => void) | undefined;
  let toHost: ((ms: readonly unknown[]) => void) | undefined;
  let closed: ((why: TransportEnd) => void) | undefined;
  let open = true;
  serveGuest(
    (m: GuestMessage) => {
      const frame = structuredClone([m]);
      setImmediate(() => {
        if (open) toHost?.(frame);
      });
    },
    (h) => {
      toGuest = h;
    },
  );
  return {
    sendBatch: (ms) => {
      const frame = structuredClone(ms);
      setImmediate(() => {
        if (open) for (const m of frame) toGuest?.(m);
      });
    },
    onReceiveBatch: (receive) => {
      toHost = receive;
    },
    onClose: (f) => {
      closed = f;
    },
    close: () => {
      if (!open) return;
      open = false;
      closed?.('exit');
    },
  };
}
