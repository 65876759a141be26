/**
 * Hands a long-lived AbortSignal on to many short-lived requests through one listener.
 *
 * The SDK's HTTP transports give every request the same signal (the session's). Undici adds an abort listener to
 * the signal of each request and removes it only once that request is garbage-collected, so a busy session
 * collects thousands of listeners on one signal and Node prints MaxListenersExceededWarning on stderr. Each
 * request gets its own signal instead, aborted by the one listener when the session's signal is.
 */
export class SignalFanout {
  /** The requests' signals, held weakly: a finished request's signal may be collected. */
  private readonly signals = new Set<WeakRef<AbortSignal>>();
  /** Keeps each request's controller alive exactly as long as its signal. */
  private readonly controllers = new WeakMap<AbortSignal, AbortController>();
  private issued = 0;

  constructor(private readonly parent: AbortSignal) {
    parent.addEventListener('abort', () => this.abortAll(), { once: true });
  }

  /** A signal for one request: aborted when the parent is. */
  child(): AbortSignal {
    if (this.parent.aborted) return this.parent;
    const controller = new AbortController();
    this.controllers.set(controller.signal, controller);
    this.signals.add(new WeakRef(controller.signal));
    if (++this.issued % 1024 === 0) this.forgetCollected();
    return controller.signal;
  }

  /** How many requests' signals may still be aborted (for tests). */
  get size(): number {
    this.forgetCollected();
    return this.signals.size;
  }

  private abortAll(): void {
    for (const ref of this.signals) {
      const signal = ref.deref();
      if (signal) this.controllers.get(signal)?.abort(this.parent.reason);
    }
    this.signals.clear();
  }

  private forgetCollected(): void {
    for (const ref of this.signals) if (ref.deref() === undefined) this.signals.delete(ref);
  }
}

const fanouts = new WeakMap<AbortSignal, SignalFanout>();

/** A signal of its own for one request, that follows `shared` (see `SignalFanout`). */
export function requestSignal(shared: AbortSignal): AbortSignal {
  let fanout = fanouts.get(shared);
  if (!fanout) fanouts.set(shared, (fanout = new SignalFanout(shared)));
  return fanout.child();
}
