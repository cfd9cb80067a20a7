/**
 * CPU time per thread of this process (Linux: /proc/self/task/<tid>/stat, 10 ms ticks), to
 * tell, on a loaded machine, how much CPU a run used and on which thread: a multi-threaded
 * chain's wall-clock throughput there depends mostly on how the scheduler treats its threads.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

/** tid → CPU ms so far (empty where /proc cannot be read). */
export function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * CPU used between `before` and now: in total (threads that ended meanwhile are not counted,
 * so stop nothing before reading), and by the busiest thread.
 */
export function cpuSince(before: Map<string, number>): { totalMs: number; busiestMs: number } {
  let totalMs = 0;
  let busiestMs = 0;
  for (const [tid, ms] of threadCpu()) {
    const d = ms - (before.get(tid) ?? 0);
    totalMs += d;
    busiestMs = Math.max(busiestMs, d);
  }
  return { totalMs, busiestMs };
}
