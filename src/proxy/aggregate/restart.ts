/** First delay before a crashed server is started again. */
const RESTART_MIN_MS = 1000;
/** Longest delay between two restarts. */
const RESTART_MAX_MS = 60_000;
/** A server up this long counts as healthy: its next crash starts again from the first delay. */
export const HEALTHY_AFTER_MS = 60_000;
/** A server that ends sooner than this after it came up failed at start-up, as much as one that never came up. */
export const IMMEDIATE_FAILURE_MS = 10_000;
/** Start-up failures in a row after which a server is no longer restarted (after 1 + 2 + 4 + 8 s of retries). */
export const START_FAILURES_BEFORE_GIVING_UP = 5;

/**
 * Exponential restart delays, 1 s doubling up to 60 s, reset once a server has run 60 s without crashing. A server
 * that fails at start-up again and again (it never comes up, or ends within seconds: a wrong command, a package that
 * does not exist, a rejected key) is given up on: restarting it would only repeat the failure.
 */
export class RestartBackoff {
  private attempts = 0;
  private startFailures = 0;
  private upSince: number | undefined;

  constructor(private readonly now: () => number) {}

  /** The server is up (again). */
  up(): void {
    this.upSince = this.now();
  }

  /**
   * The server crashed or failed to start: how long to wait before the next start, or undefined when it failed at
   * start-up {@link START_FAILURES_BEFORE_GIVING_UP} times in a row and must not be started again.
   */
  nextDelay(): number | undefined {
    const upFor = this.upSince === undefined ? undefined : this.now() - this.upSince;
    if (upFor !== undefined && upFor >= HEALTHY_AFTER_MS) this.attempts = 0;
    this.startFailures = upFor === undefined || upFor < IMMEDIATE_FAILURE_MS ? this.startFailures + 1 : 0;
    this.upSince = undefined;
    if (this.startFailures >= START_FAILURES_BEFORE_GIVING_UP) return undefined;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.attempts);
    this.attempts++;
    return delay;
  }

  /** How many start-up failures in a row it has seen. */
  get failuresInARow(): number {
    return this.startFailures;
  }
}
