import type { JSONRPCErrorResponse, JSONRPCResultResponse, RequestId } from '@modelcontextprotocol/sdk/types.js';

type Answer = JSONRPCResultResponse | JSONRPCErrorResponse;

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Requests the proxy sends on its own (the replayed `initialize`): their ids come from a prefix no client uses, and
 * their answers are kept from the client.
 */
export class ReplayWaiter {
  private readonly pending = new Map<RequestId, Pending>();
  private counter = 0;

  /** A fresh id and the promise of its answer, which rejects after `timeoutMs`. */
  next(timeoutMs: number): { id: string; answer: Promise<Answer> } {
    const id = `mcp-keyproxy-replay-${++this.counter}`;
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => this.reject(id, new Error(`no answer to the replayed initialize within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
    });
    // The caller may stop waiting (its send failed): a later rejection must not become an unhandled one.
    answer.catch(() => undefined);
    return { id, answer };
  }

  /** Delivers an answer; true when `id` was one of ours (the message is then not forwarded). */
  settle(id: RequestId, answer: Answer): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(answer);
    return true;
  }

  /** Stops waiting for one answer (its request could not be sent). */
  cancel(id: RequestId): void {
    this.reject(id, new Error('not sent'));
  }

  /** Rejects every pending answer (the session is closing). */
  cancelAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.reject(id, new Error(reason));
  }

  private reject(id: RequestId, error: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }
}
