/**
 * Tier 1 of isolated gateway handlers: the worker thread's side (started by handler-worker.ts
 * with resource limits, an empty environment and no argv). `init` locks the thread down (SES)
 * and loads one instance of the handler module (handler-guest.ts); each `invoke` runs one
 * invocation, whose store and publish calls go to the host as `call` messages and come back
 * as `reply`; `ping` is answered when the thread is free (the host's CPU watchdog counts on it).
 */
import { currentThreadId } from '../isolation/cpu-clock.js';
import { parentPort } from 'node:worker_threads';
import { ensureLockdown } from '../isolation/guest.js';
import { freezeData, HandlerGuest, handlerScript, type InvocationInfo } from './handler-guest.js';

/** Host → worker. */
export type ToWorker =
  | { readonly k: 'init'; readonly source: string }
  | {
      readonly k: 'invoke';
      readonly id: number;
      readonly req: unknown;
      readonly info: InvocationInfo;
    }
  | { readonly k: 'reply'; readonly seq: number; readonly ok: boolean; readonly value: unknown }
  | { readonly k: 'ping'; readonly id: number };

/** Worker → host. */
export type FromWorker =
  | { readonly k: 'ready'; readonly tid?: number }
  | { readonly k: 'init-failed' }
  | {
      readonly k: 'call';
      readonly id: number;
      readonly seq: number;
      readonly op: string;
      readonly args: unknown[];
    }
  | { readonly k: 'done'; readonly id: number; readonly result: unknown }
  | { readonly k: 'fail'; readonly id: number }
  | { readonly k: 'pong'; readonly id: number };

const port = parentPort;
if (port !== null) {
  const send = (m: FromWorker): void => {
    port.postMessage(m);
  };
  const tid = currentThreadId();
  let guest: HandlerGuest | undefined;
  let harden: <T>(x: T) => T = (x) => x;
  let seq = 0;
  const pending = new Map<number, { ok: (v: unknown) => void; no: (e: Error) => void }>();
  port.on('message', (m: ToWorker) => {
    switch (m.k) {
      case 'init':
        ensureLockdown()
          .then((s) => {
            harden = (x) => s.harden(x);
            guest = new HandlerGuest(s, handlerScript(m.source));
            send(tid === undefined ? { k: 'ready' } : { k: 'ready', tid });
          })
          .catch(() => {
            send({ k: 'init-failed' });
          });
        return;
      case 'invoke': {
        const id = m.id;
        const call = (op: string, args: unknown[]): Promise<unknown> =>
          new Promise((ok, no: (e: Error) => void) => {
            const s = ++seq;
            try {
              send({ k: 'call', id, seq: s, op, args });
            } catch {
              no(harden(new TypeError('arguments must be plain data')));
              return;
            }
            pending.set(s, { ok, no });
          });
        if (guest === undefined) {
          send({ k: 'fail', id });
          return;
        }
        guest.run(m.req, m.info, call).then(
          (result) => {
            send({ k: 'done', id, result });
          },
          () => {
            send({ k: 'fail', id });
          },
        );
        return;
      }
      case 'reply': {
        const p = pending.get(m.seq);
        pending.delete(m.seq);
        if (m.ok) p?.ok(freezeData(m.value));
        else p?.no(harden(new Error(typeof m.value === 'string' ? m.value : 'failed')));
        return;
      }
      case 'ping':
        send({ k: 'pong', id: m.id });
        return;
    }
  });
}
