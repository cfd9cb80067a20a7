import cliProgress from 'cli-progress';

/** A progress bar on stderr (a line every 2 s when stderr is not a terminal). */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(what: string, unit: 'MB' | 'rows'): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${what} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const scale = unit === 'MB' ? 1 / 1e6 : 1;
  return {
    update(done, total) {
      const t = Math.max(1, Math.round(total * scale));
      const d = Math.min(t, Math.round(done * scale));
      if (!started) {
        bar.start(t, d);
        started = true;
      } else {
        bar.setTotal(t);
        bar.update(d);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
