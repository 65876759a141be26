import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';

/** Most requests held at once; one more is refused at once rather than queued without end. */
export const HOLD_LIMIT = 100;
/** Longest a request is held before it is answered with an error (a restart drains, then starts and initializes). */
export const HOLD_MS = 60_000;

interface Held {
  request: JSONRPCRequest;
  cancel: () => void;
}

/**
 * Client requests kept while their server restarts, to be sent on to the new one in the order they came. Bounded in
 * number and in time: a request that cannot be held, or waits too long, is handed to `expire` to be answered.
 */
export class HeldRequests {
  private readonly held: Held[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly expire: (request: JSONRPCRequest, why: 'full' | 'timeout') => void,
    private readonly limit = HOLD_LIMIT,
    private readonly maxWaitMs = HOLD_MS,
  ) {}

  /** How many are held. */
  get size(): number {
    return this.held.length;
  }

  /** Holds `request`, or hands it to `expire` at once when the queue is full. */
  hold(request: JSONRPCRequest): void {
    if (this.held.length >= this.limit) {
      this.expire(request, 'full');
      return;
    }
    const entry: Held = {
      request,
      cancel: this.clock.after(this.maxWaitMs, () => {
        const index = this.held.indexOf(entry);
        if (index < 0) return;
        this.held.splice(index, 1);
        this.expire(request, 'timeout');
      }),
    };
    this.held.push(entry);
  }

  /** Lets go of every held request, in arrival order, with their timers stopped. */
  release(): JSONRPCRequest[] {
    const released = this.held.splice(0);
    for (const entry of released) entry.cancel();
    return released.map((entry) => entry.request);
  }
}
