import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

/** How one pending call may end other than by its answer. */
export interface PendingCallOptions {
  /** Rejects with `onTimeout()` after this long; `Infinity` or absent: no limit. */
  timeoutMs?: number;
  /** The error a timeout rejects with. */
  onTimeout?: () => Error;
  /** Rejects with `onAbort()` when it aborts while the call waits; a signal aborted already rejects at once. */
  signal?: AbortSignal;
  /** The error an abort rejects with (it may also tell the peer; check `signal.aborted` before sending to skip both). */
  onAbort?: () => Error;
  /** Runs once when the call ends, however it ends (e.g. to release the id elsewhere). */
  onEnd?: () => void;
}

interface Entry<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  end: () => void;
}

/**
 * Requests the proxy sent on its own, by id, each waiting for its answer: the promise `register` returns settles
 * when `resolve` or `reject` names its id, and rejects on timeout, on abort, or when `rejectAll` closes them all.
 * Timers are unref'd and cleared, and abort listeners removed, as soon as a call ends.
 */
export class PendingCalls<T> {
  private readonly calls = new Map<RequestId, Entry<T>>();

  /** How many calls are waiting. */
  get size(): number {
    return this.calls.size;
  }

  /** True while `id` waits for its answer. */
  has(id: RequestId): boolean {
    return this.calls.has(id);
  }

  /** Waits for the answer to `id` (an id already waiting is refused: the caller allocates unique ids). */
  register(id: RequestId, options: PendingCallOptions = {}): Promise<T> {
    const { timeoutMs, onTimeout, signal, onAbort, onEnd } = options;
    return new Promise<T>((resolve, reject) => {
      if (this.calls.has(id)) return reject(new Error(`a call with id ${String(id)} is pending already`));
      if (signal?.aborted) {
        onEnd?.();
        return reject(onAbort?.() ?? new Error('aborted'));
      }
      const timer =
        timeoutMs === undefined || timeoutMs === Infinity
          ? undefined
          : setTimeout(() => this.reject(id, onTimeout?.() ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer?.unref();
      const abort = (): void => {
        if (this.calls.has(id)) this.reject(id, onAbort?.() ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', abort, { once: true });
      const end = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        onEnd?.();
      };
      this.calls.set(id, { resolve, reject, end });
    });
  }

  /** Delivers the answer to `id`; false when no call waits for it (the answer is then someone else's). */
  resolve(id: RequestId, value: T): boolean {
    const entry = this.take(id);
    entry?.resolve(value);
    return entry !== undefined;
  }

  /** Fails the call `id` (e.g. its request could not be sent); false when no call waits for it. */
  reject(id: RequestId, error: Error): boolean {
    const entry = this.take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  /** Fails every waiting call (the connection closed). */
  rejectAll(error: Error): void {
    for (const id of [...this.calls.keys()]) this.reject(id, error);
  }

  private take(id: RequestId): Entry<T> | undefined {
    const entry = this.calls.get(id);
    if (!entry) return undefined;
    this.calls.delete(id);
    entry.end();
    return entry;
  }
}
