/** Time and timers, handed in so tests can move time by hand. */
export interface Clock {
  now(): number;
  /** Runs `run` after `ms`; the timer never keeps the process alive. Returns a cancel function. */
  after(ms: number, run: () => void): () => void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
