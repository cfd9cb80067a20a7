/**
 * A worker thread for untrusted code (tier 1 units, isolated gateway handlers): its heap
 * bounded (`memoryMb` old generation, at most 16 MB young), no environment, arguments or exec
 * flags of the host's, and its stdout/stderr drained and dropped (the code has no console, but
 * the runtime may print; an unread pipe would stall the worker).
 */
import { Worker } from 'node:worker_threads';

export function sandboxWorker(entry: URL, memoryMb: number): Worker {
  const w = new Worker(entry, {
    resourceLimits: {
      maxOldGenerationSizeMb: memoryMb,
      maxYoungGenerationSizeMb: Math.min(16, memoryMb),
    },
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
  });
  w.stdout.resume();
  w.stderr.resume();
  return w;
}
