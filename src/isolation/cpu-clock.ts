/**
 * CPU time of a guest, for the watchdog: on Linux, `utime + stime` of a thread of this process
 * (tier 1: the worker's thread) or of a child process (tier 2), read from /proc. Elsewhere, or
 * if /proc cannot be read, there is no CPU clock and the watchdog falls back to the wall clock.
 * Resolution: one clock tick (10 ms with the usual USER_HZ of 100).
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

/** Milliseconds of CPU used so far by whatever `/proc/…/stat` at `path` describes, or undefined. */
function readCpuMs(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'latin1');
    // Fields after the command name (which may hold spaces) start at field 3: state.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
  } catch {
    return undefined;
  }
}

/** A CPU clock for thread `tid` of this process, or for process `pid`; undefined if unreadable. */
export function cpuClock(
  of: { readonly tid: number } | { readonly pid: number },
): (() => number | undefined) | undefined {
  const path =
    'tid' in of ? `/proc/self/task/${String(of.tid)}/stat` : `/proc/${String(of.pid)}/stat`;
  if (readCpuMs(path) === undefined) return undefined;
  return () => readCpuMs(path);
}

/** The calling thread's id in its process (Linux: read from /proc/thread-self), else undefined. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number.parseInt(readFileSync('/proc/thread-self/stat', 'latin1'), 10);
    return Number.isSafeInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
