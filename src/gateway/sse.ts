/**
 * Server-Sent Events out: a pipeline's output, as cleared by `toAsyncIterable` at the
 * invocation label, written as `event: item` messages. Items whose label does not flow to the
 * principal never reach this code. The run stops when the client goes away.
 */
import type { ServerResponse } from 'node:http';
import { FlowViolationError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Label } from '../labels.js';
import type { OutputItem } from '../pipeline/interop/output.js';
import { toAsyncIterable } from '../pipeline/interop/to-async-iterable.js';
import type { Stream } from '../pipeline/stream.js';
import { errorBody } from './http-error.js';

/** A streamed route: `GET path` sends the stream's output to the principal over SSE. */
export interface StreamRoute<T = unknown> {
  readonly path: string;
  /**
   * The stream, or a factory that builds it for the invocation label (e.g. a `fromTopic` source
   * at that label, or a source whose per-item labels are checked ⊑ it). A factory gives every
   * subscriber its own sources; a shared stream object must be safe to run concurrently.
   */
  readonly stream: Stream<T> | ((label: Label) => Stream<T>);
  /** Milliseconds between keep-alive comments (default 15000). */
  readonly heartbeatMs?: number;
}

/**
 * The stream cleared at `label`, or undefined if its static check shows it may carry data above
 * `label` (the caller then sends "not found", as for any refused output).
 */
export function clearedStream<T>(
  route: StreamRoute<T>,
  label: Label,
  engine: Engine,
): AsyncIterable<OutputItem<T>> | undefined {
  const stream = typeof route.stream === 'function' ? route.stream(label) : route.stream;
  try {
    return toAsyncIterable(stream, { clearance: label, engine, name: `sse ${route.path}` });
  } catch (e) {
    if (e instanceof FlowViolationError) return undefined;
    throw e;
  }
}

function write(res: ServerResponse, chunk: string): Promise<void> | undefined {
  if (res.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Write `items` to `res` as SSE until the stream ends, fails, or the client disconnects. */
export async function sendSse<T>(
  res: ServerResponse,
  items: AsyncIterable<OutputItem<T>>,
  heartbeatMs = 15000,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  res.write(': ok\n\n');
  const it = items[Symbol.asyncIterator]();
  const conn = { closed: false };
  const onClose = () => {
    conn.closed = true;
    void it.return?.();
  };
  res.on('close', onClose);
  const beat = setInterval(() => {
    if (!conn.closed) res.write(': keep-alive\n\n');
  }, heartbeatMs);
  beat.unref();
  try {
    for (;;) {
      const r = await it.next();
      if (conn.closed) return;
      if (r.done === true) {
        await write(res, 'event: end\ndata: null\n\n');
        break;
      }
      const data = JSON.stringify(r.value.value ?? null);
      await write(res, `event: item\ndata: ${data}\n\n`);
    }
  } catch {
    if (!conn.closed) {
      await write(
        res,
        `event: error\ndata: ${errorBody('stream_failed', 'the stream failed')}\n\n`,
      );
    }
  } finally {
    clearInterval(beat);
    res.off('close', onClose);
    if (!conn.closed) res.end();
  }
}
