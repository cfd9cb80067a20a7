/**
 * A pipe between two tier-1 guests (pipe.ts): the events go straight from the producer's
 * guest to the consumer's, through a ring of their own; the host only counts them, from both
 * sides' reports (FWD and PIPED records), to bound the consumer's backlog, budget its
 * watchdog and wait for it to drain.
 */
export class Wire {
  /** Events the producer reported sent, and the consumer reported handled. */
  sent = 0;
  done = 0;
  /** Counted in the consumer's backlog (until either end is gone). */
  open = true;

  constructor(
    readonly id: number,
    readonly topic: string,
  ) {}

  get backlog(): number {
    return this.open && this.sent > this.done ? this.sent - this.done : 0;
  }
}
