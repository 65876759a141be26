/** First delay before a crashed server is started again. */
const RESTART_MIN_MS = 1000;
/** Longest delay between two restarts. */
const RESTART_MAX_MS = 60_000;
/** A server up this long counts as healthy: its next crash starts again from the first delay. */
export const HEALTHY_AFTER_MS = 60_000;

/** Exponential restart delays, 1 s doubling up to 60 s, reset once a server has run 60 s without crashing. */
export class RestartBackoff {
  private attempts = 0;
  private upSince: number | undefined;

  constructor(private readonly now: () => number) {}

  /** The server is up (again). */
  up(): void {
    this.upSince = this.now();
  }

  /** The server crashed or failed to start: how long to wait before the next start. */
  nextDelay(): number {
    if (this.upSince !== undefined && this.now() - this.upSince >= HEALTHY_AFTER_MS) this.attempts = 0;
    this.upSince = undefined;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.attempts);
    this.attempts++;
    return delay;
  }
}
